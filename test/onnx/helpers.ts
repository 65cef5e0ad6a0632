/**
 * Shared by the ONNX tests: small variants of every preset (the preset's block counts, 48×48 input,
 * narrow stems and heads, attention widths of 64/128 — the least SGE's 64 groups allow) with
 * weights that make every path count, and the comparison of ONNX Runtime's embeddings with ours.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { models, noGrad, randn, scope, type Tensor } from '../../lib/index.js';
import type { Backbone } from '../../lib/models/backbone.js';
import type { AttentionKind } from '../../lib/nn/attention/kinds.js';
import { BatchNorm } from '../../lib/nn/batchnorm.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const SIZE = 48;
export const EMBEDDING = 32;

/** The preset `arch` with `attention`, at small widths and a 48×48 input (same blocks per stage). */
export function smallSpec(arch: models.Arch, attention: AttentionKind): models.BackboneSpec {
  const spec = models.backboneSpec({ arch, attention, embeddingSize: EMBEDDING });
  if (spec.block === 'ir') {
    // stage shortcuts: 16 → 64, 64 → 128, 128 → 64 (conv + BN), 64 → 64 (MaxPool(1, 2)); the long
    // third stage (14–36 blocks) at 64 channels keeps IR_152's file at ~20 MB
    const widths = [64, 128, 64, 64];
    return { ...spec, inputSize: SIZE, stem: { channels: 16 }, stages: spec.stages.map((s, i) => ({ ...s, channels: widths[i]! })) };
  }
  return { ...spec, inputSize: SIZE, stages: spec.stages.map((s) => ({ ...s, hidden: s.channels })), head: { ...spec.head, channels: 128 } };
}

/**
 * A backbone of `spec` in eval mode whose outputs are O(1) and depend on every parameter: the
 * 1-d parameters (BatchNorm and PReLU scales, SGE's γ/β, CBAM's spatial BN scale that starts at 0)
 * get noise, and the BatchNorm running statistics are those of a random batch (a train-mode pass),
 * so that no gate sits at a constant and no activation grows without bound through 50 blocks.
 */
export function calibratedNet(spec: models.BackboneSpec, seedBatch = 32): Backbone {
  const net = models.buildBackbone(spec);
  noGrad(() =>
    scope(() => {
      for (const p of net.parameters()) if (p.shape.length <= 1 || p.shape.reduce((a, b) => a * b, 1) <= 128) p.add_(randn(p.shape).mul(0.3));
      // one train-mode pass with momentum 1 (PyTorch's meaning: take the batch's statistics) sets
      // every running mean/var to that of a random batch; momentum is readonly API, set here only
      for (const m of net.modules()) if (m instanceof BatchNorm) Object.defineProperty(m, 'momentum', { value: 1 });
      net.train();
      net.forward(randn([seedBatch, spec.inputChannels, spec.inputSize, spec.inputSize]));
    }),
  );
  for (const m of net.modules()) {
    if (!(m instanceof BatchNorm)) continue;
    m.num_batches_tracked.zero_();
    // running_var := E[x²] (the batch variance + mean²): no BatchNorm then divides a value by less
    // than its RMS, so none amplifies float32 rounding (a BatchNorm after global pooling on random
    // images sees near-constant inputs, and with the plain variance scales their rounding noise up
    // 10–20× per layer: our own float32 forward would then be ~1e-4 from float64, and a 1e-5 bound
    // on ONNX Runtime would measure the network's conditioning, not the export)
    noGrad(() => m.running_var.add_(m.running_mean.mul(m.running_mean)));
  }
  net.eval();
  return net;
}

/** Our eval-mode embeddings of `x`, float32. */
export function ours(net: Backbone, x: Tensor): Float32Array {
  return scope(() => noGrad(() => net.forward(x)).toTypedArray()) as Float32Array;
}

/** max |a − b| and max |b|. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): { diff: number; scale: number } {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { diff, scale };
}

/**
 * The Python venv with onnx and onnxruntime (scripts/onnx-venv.sh makes it once, from pip's
 * mirror): its python, or the reason there is none.
 */
export function onnxVenv(): { python: string } | { reason: string } {
  const r = spawnSync('bash', [join(root, 'scripts/onnx-venv.sh')], { encoding: 'utf8', timeout: 600_000 });
  if (r.status === 0) return { python: join(r.stdout.trim(), 'bin/python') };
  return { reason: `scripts/onnx-venv.sh failed (exit ${r.status}): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')}` };
}
