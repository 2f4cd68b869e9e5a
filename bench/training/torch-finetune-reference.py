"""Reference measurement, NOT product code: how far does the shipped backbone (Teachable Machine
MobileNetV2 alpha 0.35, ImageNet weights, Keras h5) get on UNIFESP when fully fine-tuned on a GPU,
compared with the tfjs trainer (top blocks only)? Same patient-grouped split, preprocessing,
augmentation, sqrt class weighting and soft multi-label targets as libs/ml/src/training.
Data: the folder written by bench/training/pack-devdata.js (default .devdata). Nothing here ships.

  python3 bench/training/torch-finetune-reference.py .devdata --mode check|probe|full [--epochs 30] ...
"""
import argparse, hashlib, io, json, math, os, time
import h5py, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image

STRIDES = [1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1]  # MobileNetV2 inverted residual blocks 0..16
OUT = [8, 8, 8, 16, 16, 16, 24, 24, 24, 24, 32, 32, 32, 56, 56, 56, 112]  # alpha 0.35 (Keras make_divisible)


def conv(cin, cout, k=1, stride=1, groups=1):  # stride 2 convs get Keras' explicit (0,1) pad in forward
    return nn.Conv2d(cin, cout, k, stride, padding=k // 2 if stride == 1 else 0, groups=groups, bias=False)


def bn(c, momentum):  # Keras eps 1e-3; Keras momentum 0.999 == torch momentum 0.001
    return nn.BatchNorm2d(c, eps=1e-3, momentum=momentum)


class MobileNetV2(nn.Module):
    """keras.applications MobileNetV2 (alpha 0.35) up to out_relu, modules named like the Keras layers."""

    def __init__(self, bn_momentum=0.001):
        super().__init__()
        L, self.blocks, cin = {'Conv1': conv(3, 16, 3, 2), 'bn_Conv1': bn(16, bn_momentum)}, [], 16
        for i, (s, cout) in enumerate(zip(STRIDES, OUT)):
            p, cexp = ('expanded_conv', cin) if i == 0 else (f'block_{i}', cin * 6)
            if i > 0:
                L[p + '_expand'], L[p + '_expand_BN'] = conv(cin, cexp), bn(cexp, bn_momentum)
            L[p + '_depthwise'], L[p + '_depthwise_BN'] = conv(cexp, cexp, 3, s, cexp), bn(cexp, bn_momentum)
            L[p + '_project'], L[p + '_project_BN'] = conv(cexp, cout), bn(cout, bn_momentum)
            self.blocks.append((p, i > 0, s, cin == cout and s == 1))
            cin = cout
        L['Conv_1'], L['Conv_1_bn'] = conv(cin, 1280), bn(1280, bn_momentum)
        self.layers = nn.ModuleDict(L)

    def forward(self, x):
        L = self.layers
        x = F.relu6(L['bn_Conv1'](L['Conv1'](F.pad(x, (0, 1, 0, 1)))))  # Conv1_pad ((0,1),(0,1)) as saved in the h5
        for p, expand, stride, residual in self.blocks:
            h = F.relu6(L[p + '_expand_BN'](L[p + '_expand'](x))) if expand else x
            h = F.pad(h, (0, 1, 0, 1)) if stride == 2 else h  # block_N_pad
            h = F.relu6(L[p + '_depthwise_BN'](L[p + '_depthwise'](h)))
            h = L[p + '_project_BN'](L[p + '_project'](h))
            x = x + h if residual else h
        return F.relu6(L['Conv_1_bn'](L['Conv_1'](x)))  # out_relu

    def load_keras_h5(self, path):
        """Backbone weights by layer name from model_weights/<functional group>/<layer>/...; the Dense head is ignored."""
        with h5py.File(path, 'r') as f:
            group = next(g for g in f['model_weights'].values() if 'Conv1' in g)
            for name, module in self.layers.items():
                w = {k.split(':')[0]: torch.from_numpy(np.array(v)) for k, v in group[name].items()}
                if isinstance(module, nn.Conv2d):
                    k = w.get('kernel', w.get('depthwise_kernel'))
                    k = k.permute(2, 3, 0, 1) if 'depthwise_kernel' in w else k.permute(3, 2, 0, 1)
                    assert k.shape == module.weight.shape, (name, k.shape, module.weight.shape)
                    module.weight.data.copy_(k)
                else:
                    for keras, torch_name in [('gamma', 'weight'), ('beta', 'bias'), ('moving_mean', 'running_mean'), ('moving_variance', 'running_var')]:
                        getattr(module, torch_name).data.copy_(w[keras])
        return self


class Classifier(nn.Module):
    def __init__(self, backbone, classes, dropout):
        super().__init__()
        self.backbone, self.head = backbone, nn.Sequential(nn.Dropout(dropout), nn.Linear(1280, classes))

    def forward(self, x, frozen=False):
        with torch.set_grad_enabled(torch.is_grad_enabled() and not frozen):
            features = self.backbone(x).mean((2, 3))
        return self.head(features.float())


def load_pixels(path):
    return np.asarray(Image.open(path).convert('L'))


def to_input(u8):  # uint8 [B,S,S] -> [-1,1] float [B,3,S,S] channels_last (grey replicated)
    x = (u8.float() / 127.5 - 1).unsqueeze(1).expand(-1, 3, -1, -1)
    return x.contiguous(memory_format=torch.channels_last)


def augment(u8, gen):
    """libs/ml/src/training/augment.ts on the GPU: rotation +-20 (+ p 0.25 a random 90/180/270 turn), shear +-10,
    zoom 0.9-1.1 per axis, shift +-10 %, bilinear, border clamp ('nearest' fill), about the image centre."""
    b = u8.shape[0]
    u = lambda lo, hi: torch.rand(b, generator=gen) * (hi - lo) + lo
    turns = (torch.rand(b, generator=gen) < 0.25) * torch.randint(1, 4, (b,), generator=gen)
    return warp(u8, u(-20, 20) + 90 * turns, u(-10, 10), u(0.9, 1.1), u(0.9, 1.1), u(-0.1, 0.1), u(-0.1, 0.1))


def warp(u8, degrees, shear_degrees, zx, zy, shift_x, shift_y):  # output -> input map of augment.ts, per image
    s = u8.shape[-1]
    theta, tan = torch.deg2rad(degrees), torch.deg2rad(shear_degrees).tan()
    cos, sin, tx, ty = theta.cos(), theta.sin(), shift_x * 2 * s / (s - 1), shift_y * 2 * s / (s - 1)
    m = torch.stack([torch.stack([cos * zx, (-sin + cos * tan) * zy, tx], 1), torch.stack([sin * zx, (cos + sin * tan) * zy, ty], 1)], 1)
    x = u8.float().unsqueeze(1)
    grid = F.affine_grid(m.to(x.device), list(x.shape), align_corners=True)
    x = F.grid_sample(x, grid, mode='bilinear', padding_mode='border', align_corners=True)
    return (x / 127.5 - 1).expand(-1, 3, -1, -1).contiguous(memory_format=torch.channels_last)


def port_check(data, model):
    """Pooled out_relu features of the torch port vs the product's tfjs import (tfjs-check.json from pack-devdata.js)."""
    path = os.path.join(data, 'tfjs-check.json')
    if not os.path.exists(path):
        return print(json.dumps({'port_check': 'skipped (no tfjs-check.json)'}))
    ref = json.load(open(path))
    px = [load_pixels(os.path.join(data, 'images', f)) for f in ref['files']]
    same_pixels = all(hashlib.sha256(p.tobytes()).hexdigest() == h for p, h in zip(px, ref['sha256']))
    model.eval()
    with torch.no_grad():  # on the CPU in fp32 (no TF32/bf16), like tfjs
        ours = model(to_input(torch.from_numpy(np.stack(px)))).mean((2, 3)).double()
    theirs = torch.tensor(ref['features'], dtype=torch.float64)
    diff = (ours - theirs).abs()
    result = {'port_check': 'pass' if diff.max() < 1e-3 else 'FAIL', 'images': len(px), 'size': ref['size'], 'tfjs_backend': ref['backend'],
              'same_decoded_pixels': same_pixels, 'max_abs_diff': diff.max().item(), 'mean_abs_feature': theirs.abs().mean().item(),
              'min_cosine': F.cosine_similarity(ours, theirs).min().item()}
    print(json.dumps(result), flush=True)


def evaluate(model, u8, labels, classes, batch):
    model.eval()
    probs = []
    with torch.no_grad(), torch.autocast(u8.device.type, torch.bfloat16, enabled=u8.device.type == 'cuda'):
        for i in range(0, len(u8), batch):
            probs.append(F.softmax(model(to_input(u8[i:i + batch])).float(), 1).cpu())
    probs = torch.cat(probs).numpy()
    confusion = np.zeros((classes, classes), int)
    correct = nll = 0
    for p, row in zip(probs, labels):  # as libs/ml/src/training/metrics.ts: right when any of the row's labels
        k = int(p.argmax())
        confusion[k if k in row else row[0], k] += 1
        correct += k in row
        nll -= math.log(max(1e-12, sum(p[l] for l in row)))
    support = confusion.sum(1)
    recall = {c: confusion[c, c] / support[c] for c in range(classes) if support[c] > 0}
    return {'top1': correct / len(labels), 'macro_recall': float(np.mean(list(recall.values()))), 'nll': nll / len(labels)}, recall, support


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('data', nargs='?', default='.devdata')
    ap.add_argument('--mode', choices=['check', 'probe', 'full'], default='full')
    ap.add_argument('--size', type=int, default=320)
    ap.add_argument('--epochs', type=int, default=30)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--lr-head', type=float, default=1e-3)
    ap.add_argument('--lr-backbone', type=float, default=3e-4)
    ap.add_argument('--weight-decay', type=float, default=1e-2)
    ap.add_argument('--warmup-epochs', type=float, default=1)
    ap.add_argument('--dropout', type=float, default=0.2)
    ap.add_argument('--bn', choices=['train', 'frozen'], default='train', help='full mode: BN batch statistics, or running stats kept (gamma/beta still trained)')
    ap.add_argument('--bn-momentum', type=float, default=0.01, help='torch convention; Keras 0.999 == 0.001')
    ap.add_argument('--limit', type=int, default=0, help='first N train and N validation images (smoke test)')
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    torch.backends.cudnn.benchmark = True

    meta = json.load(open(os.path.join(args.data, 'meta.json')))
    assert args.size <= meta['size'], f'--size {args.size} > packed size {meta["size"]}: re-pack with pack-devdata.js --size'
    backbone = MobileNetV2(args.bn_momentum).load_keras_h5(os.path.join(args.data, 'keras_model.h5'))
    if meta['size'] == args.size:
        port_check(args.data, backbone)
    if args.mode == 'check':
        return
    backbone = backbone.to(device).to(memory_format=torch.channels_last)
    started = time.time()
    rows = {name: [(f, m['labels']) for f, m in meta['files'].items() if m['split'] == name] for name in ('train', 'validation')}
    rows = {name: r[:args.limit] if args.limit else r for name, r in rows.items()}
    def load(split):  # all images as uint8 on the device; resized (antialiased bilinear) when --size < packed size
        u8 = torch.from_numpy(np.stack([load_pixels(os.path.join(args.data, 'images', f)) for f, _ in rows[split]])).to(device)
        if args.size != meta['size']:
            u8 = F.interpolate(u8[:, None].float(), size=(args.size, args.size), mode='bilinear', antialias=True)[:, 0].round().clamp(0, 255).to(torch.uint8)
        return u8, [l for _, l in rows[split]]
    (train_u8, train_labels), (val_u8, val_labels) = load('train'), load('validation')
    classes, names = len(meta['classes']), meta['classes']
    # Soft targets and sqrt class weights exactly as libs/ml/src/training/targets.ts (row weight = mean over its labels).
    target = torch.zeros(len(train_labels), classes)
    counts = np.zeros(classes)
    for i, row in enumerate(train_labels):
        target[i, row] = 1 / len(row)
        counts[row] += 1 / len(row)
    class_w = np.where(counts > 0, np.sqrt(len(train_labels) / ((counts > 0).sum() * np.maximum(counts, 1e-9))), 1)
    row_w = torch.tensor([class_w[row].mean() for row in train_labels], dtype=torch.float32)
    target, row_w = target.to(device), (row_w / row_w.mean()).to(device)
    print(json.dumps({'device': torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu', 'mode': args.mode, 'train': len(train_labels),
                      'validation': len(val_labels), 'load_seconds': round(time.time() - started, 1), **{k: v for k, v in vars(args).items() if k != 'data'}}), flush=True)

    model = Classifier(backbone, classes, args.dropout).to(device)
    frozen = args.mode == 'probe'
    for p in backbone.parameters():
        p.requires_grad_(not frozen)
    decay = lambda ps: [{'params': [p for p in ps if p.ndim > 1]}, {'params': [p for p in ps if p.ndim <= 1], 'weight_decay': 0}]
    groups = [{**g, 'lr': args.lr_head} for g in decay(list(model.head.parameters()))]
    groups += [] if frozen else [{**g, 'lr': args.lr_backbone} for g in decay(list(backbone.parameters()))]
    opt = torch.optim.AdamW(groups, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(train_labels) / args.batch)
    total, warmup = args.epochs * steps_per_epoch, args.warmup_epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: (t + 1) / warmup if t < warmup else 0.5 * (1 + math.cos(math.pi * (t - warmup) / max(1, total - warmup))))
    history = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        model.train()
        if frozen or args.bn == 'frozen':
            backbone.apply(lambda m: m.eval() if isinstance(m, nn.BatchNorm2d) else None)
        loss_sum = 0.0
        for idx in torch.randperm(len(train_labels), generator=gen).split(args.batch):
            idx_d = idx.to(device)
            x = augment(train_u8[idx_d], gen)
            with torch.autocast(device.type, torch.bfloat16, enabled=device.type == 'cuda'):
                logits = model(x, frozen)
            per_row = -(target[idx_d] * F.log_softmax(logits.float(), 1)).sum(1)
            loss = (per_row * row_w[idx_d]).sum() / row_w[idx_d].sum()  # as head.ts
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item()
        metrics, recall, support = evaluate(model, val_u8, val_labels, classes, 2 * args.batch)
        history.append((epoch, metrics, recall, support))
        print(json.dumps({'epoch': epoch, 'loss': round(loss_sum / steps_per_epoch, 4), 'val_top1': round(metrics['top1'], 4),
                          'val_macro_recall': round(metrics['macro_recall'], 4), 'val_nll': round(metrics['nll'], 4),
                          'seconds': round(time.time() - t0, 2)}), flush=True)
    # Best epoch by validation NLL (what the tfjs trainer's early stopping watches); also the best top-1 (optimistic) and the last.
    best = min(history, key=lambda h: h[1]['nll'])
    summary = lambda h: {'epoch': h[0], 'top1': round(h[1]['top1'], 4), 'macro_recall': round(h[1]['macro_recall'], 4), 'nll': round(h[1]['nll'], 4)}
    print(json.dumps({'best_by_val_nll': summary(best), 'best_by_val_top1': summary(max(history, key=lambda h: (h[1]['top1'], h[1]['macro_recall']))),
                      'last': summary(history[-1]), 'total_seconds': round(time.time() - started, 1)}))
    print(json.dumps({'per_class_recall_at_best_epoch': {f'{c} {names[c]}': [round(r, 3), int(best[3][c])] for c, r in best[2].items()}}))


if __name__ == '__main__':
    main()
