/**
 * insightface's `iresnet` (arcface_torch/backbones/iresnet.py) in its own layout, so that its
 * pretrained checkpoints (iresnet50/100, glint360k/ms1mv3 releases) load 1:1 for inference and
 * evaluation. It differs from the CurricularFace IR layout (lib/io/layouts.ts maps the names) by a BatchNorm
 * between conv1 and PReLU in every block (`bn2`), a conv downsample on the first block of stage 1,
 * and the head order BN2d → flatten → dropout → fc → affine BatchNorm1d (`features`).
 *
 * state_dict names: conv1, bn1, prelu, layer<s>.<j>.{bn1, conv1, bn2, prelu, conv2, bn3,
 * downsample.{0,1}}, bn2, fc, features. BatchNorm eps 1e-5 everywhere (as insightface).
 * This variant is for imported weights: it is not one of the paper's training presets.
 */
import { z } from 'zod';
import { scope, type Tensor } from '../tensor/index.js';
import { PReLU } from '../nn/activation.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/batchnorm.js';
import { Sequential } from '../nn/container.js';
import { Conv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { boundedInt, SPEC_LIMITS } from './spec.js';


export const iresnetSpecSchema = z
  .object({
    block: z.literal('iresnet'),
    name: z.string().min(1),
    inputChannels: boundedInt(SPEC_LIMITS.inputChannels),
    inputSize: boundedInt(SPEC_LIMITS.inputSize),
    stem: z.object({ channels: boundedInt(SPEC_LIMITS.channels) }).strict(),
    /** Stages; each starts with a stride-2 block that has a conv downsample. */
    stages: z.array(z.object({ channels: boundedInt(SPEC_LIMITS.channels), blocks: boundedInt(SPEC_LIMITS.blocksPerStage) }).strict()).min(1).max(SPEC_LIMITS.stages),
    head: z.object({ dropout: z.number().min(0).max(1), embeddingSize: boundedInt(SPEC_LIMITS.embeddingSize) }).strict(),
    attention: z.literal('none'),
  })
  .strict();

/** The spec of an insightface-layout iresnet. */
export type IResNetSpec = z.infer<typeof iresnetSpecSchema>;

/** Validates an iresnet spec; throws naming each bad field. */
export function parseIResNetSpec(value: unknown): IResNetSpec {
  const r = iresnetSpecSchema.safeParse(value);
  if (!r.success) throw new Error(`invalid iresnet spec: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** insightface iresnet50 / iresnet100 specs (blocks 3-4-14-3 / 3-13-30-3). */
export function iresnetSpec(depth: 18 | 34 | 50 | 100 | 200, embeddingSize = 512): IResNetSpec {
  const units: Record<number, number[]> = { 18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 14, 3], 100: [3, 13, 30, 3], 200: [6, 26, 60, 6] };
  const u = units[depth];
  if (!u) throw new RangeError(`iresnetSpec: depth must be 18, 34, 50, 100 or 200, got ${depth}`);
  const widths = [64, 128, 256, 512];
  return parseIResNetSpec({
    block: 'iresnet',
    name: `iresnet${depth}`,
    inputChannels: 3,
    inputSize: 112,
    stem: { channels: 64 },
    stages: u.map((blocks, i) => ({ channels: widths[i]!, blocks })),
    head: { dropout: 0, embeddingSize },
    attention: 'none',
  });
}

/** insightface `IBasicBlock`: bn1 → conv1 → bn2 → prelu → conv2(stride) → bn3, plus the (downsampled) input. */
export class IBasicBlock extends Module {
  bn1: BatchNorm2d;
  conv1: Conv2d;
  bn2: BatchNorm2d;
  prelu: PReLU;
  conv2: Conv2d;
  bn3: BatchNorm2d;
  downsample: Sequential | null = null;

  constructor(inC: number, c: number, stride: number) {
    super();
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(inC));
    this.conv1 = this.registerModule('conv1', new Conv2d(inC, c, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(c));
    this.prelu = this.registerModule('prelu', new PReLU(c));
    this.conv2 = this.registerModule('conv2', new Conv2d(c, c, 3, { stride, padding: 1, bias: false }));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(c));
    if (stride !== 1 || inC !== c) {
      this.downsample = this.registerModule('downsample', new Sequential(new Conv2d(inC, c, 1, { stride, bias: false }), new BatchNorm2d(c)));
    }
  }

  forward(x: Tensor): Tensor {
    return scope(() => {
      const out = this.bn3.forward(this.conv2.forward(this.prelu.forward(this.bn2.forward(this.conv1.forward(this.bn1.forward(x))))));
      return out.add(this.downsample ? this.downsample.forward(x) : x);
    });
  }
}

/** insightface `IResNet` (iresnet18 … iresnet200), [N, 3, 112, 112] → [N, embeddingSize]. */
export class InsightfaceIResNet extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  prelu: PReLU;
  layers: Sequential[] = [];
  bn2: BatchNorm2d;
  dropout: Dropout;
  fc: Linear;
  features: BatchNorm1d;

  constructor(readonly spec: IResNetSpec) {
    super();
    const c0 = spec.stem.channels;
    this.conv1 = this.registerModule('conv1', new Conv2d(spec.inputChannels, c0, 3, { padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(c0));
    this.prelu = this.registerModule('prelu', new PReLU(c0));
    let inC = c0;
    let size = spec.inputSize;
    spec.stages.forEach((st, s) => {
      const layer = new Sequential();
      for (let j = 0; j < st.blocks; j++) {
        layer.append(new IBasicBlock(inC, st.channels, j === 0 ? 2 : 1));
        inC = st.channels;
      }
      size = Math.floor((size - 1) / 2) + 1;
      this.layers.push(this.registerModule(`layer${s + 1}`, layer));
    });
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(inC));
    this.dropout = this.registerModule('dropout', new Dropout(spec.head.dropout));
    this.fc = this.registerModule('fc', new Linear(inC * size * size, spec.head.embeddingSize));
    this.features = this.registerModule('features', new BatchNorm1d(spec.head.embeddingSize));
  }

  forward(x: Tensor): Tensor {
    const { inputChannels: c, inputSize: n } = this.spec;
    const s = x.shape;
    if (s.length !== 4 || s[1] !== c || s[2] !== n || s[3] !== n) throw new RangeError(`${this.spec.name}: expected input [N, ${c}, ${n}, ${n}], got [${s.join(', ')}]`);
    return scope(() => {
      let y = this.prelu.forward(this.bn1.forward(this.conv1.forward(x)));
      for (const l of this.layers) y = l.forward(y);
      y = this.bn2.forward(y).flatten(1);
      return this.features.forward(this.fc.forward(this.dropout.forward(y)));
    });
  }
}

/**
 * The spec of an insightface iresnet state dict, read from its tensor shapes (stem width, blocks
 * and width per stage, embedding size); the input is 112×112 RGB.
 */
export function inferIResNetSpec(shapes: Map<string, number[]>, name = 'iresnet'): IResNetSpec {
  const stem = shapes.get('conv1.weight');
  const fc = shapes.get('fc.weight');
  if (!stem || !fc) throw new Error("not an insightface iresnet state dict (no 'conv1.weight' or 'fc.weight')");
  const stages: { channels: number; blocks: number }[] = [];
  for (let s = 1; ; s++) {
    let blocks = 0;
    while (shapes.has(`layer${s}.${blocks}.conv1.weight`)) blocks++;
    if (blocks === 0) break;
    stages.push({ channels: shapes.get(`layer${s}.0.conv1.weight`)![0]!, blocks });
  }
  return parseIResNetSpec({
    block: 'iresnet',
    name,
    inputChannels: stem[1],
    inputSize: 112,
    stem: { channels: stem[0] },
    stages,
    head: { dropout: 0, embeddingSize: fc[0] },
    attention: 'none',
  });
}
