import { XrayError } from '@xray/shared';
import type { GraphBuilder } from './graph-builder';
import { type Op, type PoolOp, type TensorRef, onnxPads, opInputs } from './ops';

/**
 * Writes out the backward pass of the recorded forward ops from `seed` (d score / d `output`)
 * to `target`, in eval mode and with the weights as constants. Only the ops between the two
 * are differentiated. Returns d score / d target.
 */
export function writeBackward(g: GraphBuilder, tape: Op[], target: TensorRef, output: TensorRef, seed: string): string {
  return writeBackwardTo(g, tape, [target], output, seed)[0];
}

/**
 * One backward pass from `seed` to the earliest of `targets`, reading d score / d each target
 * on the way (so explaining several layers costs one pass to the deepest, not one per layer).
 */
export function writeBackwardTo(
  g: GraphBuilder,
  tape: Op[],
  targets: TensorRef[],
  output: TensorRef,
  seed: string,
): string[] {
  const dependent = new Set(targets.map((t) => t.name));
  const tail = tape.filter((op) => {
    if (!opInputs(op).some((x) => dependent.has(x.name))) return false;
    dependent.add(op.y.name);
    return true;
  });
  if (!dependent.has(output.name))
    throw new XrayError(
      'MODEL_INVALID',
      `The class scores do not depend on '${targets.map((t) => t.name).join("', '")}'.`,
    );

  const contributions = new Map<string, string[]>([[output.name, [seed]]]);
  const totals = new Map<string, string>();
  const add = (x: TensorRef, grad: string) => {
    if (dependent.has(x.name)) contributions.set(x.name, [...(contributions.get(x.name) ?? []), grad]);
  };
  const total = (x: TensorRef): string | undefined => {
    if (totals.has(x.name)) return totals.get(x.name);
    const parts = contributions.get(x.name);
    if (!parts) return undefined;
    const sum = parts.length === 1 ? parts[0] : g.node('Sum', parts, `grad/${x.name}`);
    totals.set(x.name, sum);
    return sum;
  };

  for (const op of [...tail].reverse()) {
    const gy = total(op.y);
    if (!gy) continue; // feeds only outputs other than the score (e.g. the final softmax)
    for (const [x, gx] of backwardOp(g, op, gy)) add(x, gx);
  }
  return targets.map((target) => {
    const result = total(target);
    if (!result) throw new XrayError('MODEL_INVALID', `No gradient reaches '${target.name}'.`);
    return result;
  });
}

function backwardOp(g: GraphBuilder, op: Op, gy: string): Array<[TensorRef, string]> {
  const hint = `grad/${op.layer}`;
  switch (op.kind) {
    case 'relu': {
      // d relu = 1 where the input is positive (and at most the cap for ReLU6), as tfjs defines it.
      let mask = g.node('Greater', [op.x.name, g.scalar(0)], `${hint}/mask`);
      if (op.max !== undefined)
        mask = g.node(
          'And',
          [mask, g.node('LessOrEqual', [op.x.name, g.scalar(op.max)], `${hint}/cap`)],
          `${hint}/mask`,
        );
      return [[op.x, g.node('Where', [mask, gy, g.scalar(0)], hint)]];
    }
    case 'batchnorm': {
      const dims = op.x.shape.length === 3 ? [op.scale.length, 1, 1] : [op.scale.length];
      return [[op.x, g.node('Mul', [gy, g.floats(`${op.layer}/grad_scale`, op.scale, dims)], hint)]];
    }
    case 'conv': {
      const [, h, w] = op.x.shape;
      const [, hOut, wOut] = op.y.shape;
      const outputPadding = [
        h - ((hOut - 1) * op.strides[0] + (op.kernel[0] - 1) * op.dilations[0] + 1 - op.pads.top - op.pads.bottom),
        w - ((wOut - 1) * op.strides[1] + (op.kernel[1] - 1) * op.dilations[1] + 1 - op.pads.left - op.pads.right),
      ];
      // The adjoint of a convolution is the transposed convolution with the same weight tensor.
      const gx = g.node('ConvTranspose', [gy, op.weight], hint, {
        kernel_shape: op.kernel,
        strides: op.strides,
        dilations: op.dilations,
        group: op.group,
        pads: onnxPads(op.pads),
        output_padding: outputPadding,
      });
      return [[op.x, gx]];
    }
    case 'pad': {
      const [, h, w] = op.x.shape;
      const { top, left } = op.pads;
      return [
        [
          op.x,
          g.node(
            'Slice',
            [gy, g.ints('starts', [top, left]), g.ints('ends', [top + h, left + w]), g.ints('axes', [2, 3])],
            hint,
          ),
        ],
      ];
    }
    case 'avgpool':
      return [[op.x, averagePoolBackward(g, op, gy, hint)]];
    case 'maxpool':
      return [[op.x, maxPoolBackward(g, op, gy, hint)]];
    case 'gap': {
      const [c, h, w] = op.x.shape;
      const spread = g.floats(`${op.layer}/grad_spread`, new Float32Array(h * w).fill(1 / (h * w)), [1, 1, h, w]);
      return [
        [op.x, g.node('Mul', [g.node('Reshape', [gy, g.ints('shape', [-1, c, 1, 1])], `${hint}/nchw`), spread], hint)],
      ];
    }
    case 'concat': {
      const parts = g.nodeN(
        'Split',
        [
          gy,
          g.ints(
            'split',
            op.xs.map((x) => x.shape[op.axis - 1]),
          ),
        ],
        op.xs.length,
        hint,
        { axis: op.axis },
      );
      return op.xs.map((x, i) => [x, parts[i]]);
    }
    case 'add':
      return op.xs.map((x) => [x, gy]);
    case 'dense':
      return [[op.x, g.node('Gemm', [gy, op.weight], hint, { transB: 1 })]];
    case 'flatten': {
      const [c, h, w] = op.x.shape;
      const nhwc = g.node('Reshape', [gy, g.ints('shape', [-1, h, w, c])], `${hint}/nhwc`);
      return [[op.x, g.node('Transpose', [nhwc], hint, { perm: [0, 3, 1, 2] })]];
    }
    case 'softmax':
      throw new XrayError(
        'MODEL_INVALID',
        `Grad-CAM++ cannot differentiate through the softmax '${op.layer}' inside the model.`,
      );
  }
}

/** Spreads each output gradient evenly over its window; TF's 'same' average excludes the padding. */
function averagePoolBackward(g: GraphBuilder, op: PoolOp, gy: string, hint: string): string {
  const [c, h, w] = op.x.shape;
  const [, hOut, wOut] = op.y.shape;
  const [kh, kw] = op.kernel;
  const [sh, sw] = op.strides;
  const counts = new Float32Array(hOut * wOut);
  for (let i = 0; i < hOut; i++)
    for (let j = 0; j < wOut; j++) {
      const rows = Math.min(i * sh - op.pads.top + kh, h) - Math.max(i * sh - op.pads.top, 0);
      const cols = Math.min(j * sw - op.pads.left + kw, w) - Math.max(j * sw - op.pads.left, 0);
      counts[i * wOut + j] = 1 / (rows * cols);
    }
  const scaled = g.node('Mul', [gy, g.floats(`${op.layer}/grad_counts`, counts, [1, 1, hOut, wOut])], `${hint}/scaled`);
  const ones = g.floats(`${op.layer}/grad_ones`, new Float32Array(c * kh * kw).fill(1), [c, 1, kh, kw]);
  return g.node('ConvTranspose', [scaled, ones], hint, {
    kernel_shape: op.kernel,
    strides: op.strides,
    group: c,
    pads: onnxPads(op.pads),
    output_padding: [
      h - ((hOut - 1) * sh + kh - op.pads.top - op.pads.bottom),
      w - ((wOut - 1) * sw + kw - op.pads.left - op.pads.right),
    ],
  });
}

/** Routes each output gradient to its window's argmax (recomputed with MaxPool's Indices output), summing overlaps. */
function maxPoolBackward(g: GraphBuilder, op: PoolOp, gy: string, hint: string): string {
  const [, indices] = g.nodeN('MaxPool', [op.x.name], 2, `${hint}/argmax`, {
    kernel_shape: op.kernel,
    strides: op.strides,
    pads: onnxPads(op.pads),
  });
  const shape = g.node('Shape', [op.x.name], `${hint}/shape`);
  const flat = g.ints('flat', [-1]);
  const zeros = g.node('Reshape', [g.node('ConstantOfShape', [shape], `${hint}/zeros`), flat], `${hint}/zeros_flat`);
  const scattered = g.node(
    'ScatterElements',
    [
      zeros,
      g.node('Reshape', [indices, flat], `${hint}/indices_flat`),
      g.node('Reshape', [gy, flat], `${hint}/grad_flat`),
    ],
    `${hint}/scattered`,
    { axis: 0, reduction: 'add' },
  );
  return g.node('Reshape', [scattered, shape], hint);
}
