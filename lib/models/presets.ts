/**
 * The paper's backbones as specs and modules:
 * `backbone({ arch, attention, embeddingSize })` builds one, `backboneSpec(options)` returns its
 * plain spec (edit it and pass it to {@link buildBackbone} for a variant).
 */
import type { AttentionKind } from '../nn/attention/base.js';
import type { Backbone } from './backbone.js';
import { IRBackbone } from './ir.js';
import { MobileFaceNet } from './mobilefacenet.js';
import { parseBackboneSpec, type BackboneSpec, type IRSpec, type MobileFaceNetSpec } from './spec.js';

import { ARCHS, type Arch } from './archs.js';

export { ARCHS, type Arch } from './archs.js';

/** Options of {@link backbone} and {@link backboneSpec}. */
export interface BackboneOptions {
  arch: Arch;
  /** Attention in every block (default 'none'). */
  attention?: AttentionKind;
  /** Embedding size (default 512). */
  embeddingSize?: number;
}

/** Blocks per stage: IR_18/34 from insightface, IR_50/101/152 from CurricularFace `get_blocks`. */
const IR_UNITS: Record<Exclude<Arch, 'mobilefacenet'>, [number, number, number, number]> = {
  ir18: [2, 2, 2, 2],
  ir34: [3, 4, 6, 3],
  ir50: [3, 4, 14, 3],
  ir101: [3, 13, 30, 3],
  ir152: [3, 8, 36, 3],
};

/** The plain spec of a preset. */
export function backboneSpec(options: BackboneOptions): BackboneSpec {
  const { arch } = options;
  const att = options.attention ?? 'none';
  const e = options.embeddingSize ?? 512;
  if (arch === 'mobilefacenet') {
    const spec: MobileFaceNetSpec = {
      block: 'mobilefacenet',
      name: att === 'none' ? 'mobilefacenet' : `mobilefacenet-${att}`,
      inputChannels: 3,
      inputSize: 112,
      stem: { channels: 64, stride: 2 },
      stages: [
        { name: 'conv_23', channels: 64, hidden: 128, blocks: 1, stride: 2, residual: false },
        { name: 'conv_3', channels: 64, hidden: 128, blocks: 4, stride: 1, residual: true },
        { name: 'conv_34', channels: 128, hidden: 256, blocks: 1, stride: 2, residual: false },
        { name: 'conv_4', channels: 128, hidden: 256, blocks: 6, stride: 1, residual: true },
        { name: 'conv_45', channels: 128, hidden: 512, blocks: 1, stride: 2, residual: false },
        { name: 'conv_5', channels: 128, hidden: 256, blocks: 2, stride: 1, residual: true },
      ],
      head: { channels: 512, embeddingSize: e },
      attention: att,
      init: 'kaiming',
    };
    return parseBackboneSpec(spec);
  }
  const units = IR_UNITS[arch];
  if (units === undefined) throw new RangeError(`backboneSpec: unknown arch ${JSON.stringify(arch)}; expected one of ${ARCHS.join(', ')}`);
  const widths = [64, 128, 256, 512];
  const spec: IRSpec = {
    block: 'ir',
    name: att === 'none' ? arch : `${arch}-${att}`,
    inputChannels: 3,
    inputSize: 112,
    stem: { channels: 64 },
    stages: units.map((blocks, i) => ({ channels: widths[i]!, blocks, stride: 2 })),
    head: { dropout: 0.4, embeddingSize: e, bnAffine: false },
    attention: att,
    init: 'kaiming',
  };
  return parseBackboneSpec(spec);
}

/** Builds a backbone from any spec (validated first). */
export function buildBackbone(spec: BackboneSpec | unknown): Backbone {
  const s = parseBackboneSpec(spec);
  return s.block === 'ir' ? new IRBackbone(s) : new MobileFaceNet(s);
}

/** Builds a preset backbone: `[N, 3, 112, 112]` → `[N, embeddingSize]`. */
export function backbone(options: BackboneOptions): Backbone {
  return buildBackbone(backboneSpec(options));
}
