"""PyTorch reference for bench/ml/tfjs.bench.ts: torchvision DenseNet201 or MobileNetV2 (random
weights, eval mode). Prints one JSON line: forward and Grad-CAM++ milliseconds per image.
Grad-CAM++ splits where the tfjs side does (DenseNet201: denseblock4 = conv5_block32_concat;
MobileNetV2: the end of `features` = out_relu) and differentiates the tail only.

    /usr/bin/python3 bench/ml/torch-reference.py densenet201|mobilenet_v2 SIZE BATCH REPS THREADS
"""
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

name, size, batch, reps, threads = sys.argv[1], *(int(a) for a in sys.argv[2:6])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = getattr(torchvision.models, name)(num_classes=22).eval()
x = torch.randn(batch, 3, size, size)

if name == "densenet201":
    head = model.features[:-1]

    def tail(a):
        return model.classifier(torch.flatten(F.adaptive_avg_pool2d(F.relu(model.features[-1](a)), 1), 1))
else:
    head = model.features

    def tail(a):
        return model.classifier(torch.flatten(F.adaptive_avg_pool2d(a, 1), 1))


def forward():
    with torch.no_grad():
        model(x)


def gradcam():
    with torch.no_grad():
        a = head(x)
    a.requires_grad_(True)
    logits = tail(a)
    chosen = logits.argmax(1)
    (g,) = torch.autograd.grad(logits.gather(1, chosen[:, None]).sum(), a)
    with torch.no_grad():
        g2 = g * g
        denominator = 2 * g2 + a.sum((2, 3), keepdim=True) * g2 * g
        alpha = torch.where(denominator != 0, g2 / torch.where(denominator != 0, denominator, torch.ones_like(denominator)), torch.zeros_like(g2))
        weights = (alpha * F.relu(g)).sum((2, 3), keepdim=True)
        cam = F.relu((weights * a).sum(1))
        peak = cam.amax((1, 2), keepdim=True)
        torch.where(peak > 0, cam / torch.where(peak > 0, peak, torch.ones_like(peak)), torch.zeros_like(cam))


def per_image(fn):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000 / batch)
    return statistics.median(times)


print(json.dumps({"model": name, "size": size, "batch": batch, "threads": threads, "torch": torch.__version__, "forwardMs": per_image(forward), "gradcamMs": per_image(gradcam)}))
