#!/usr/bin/env node
// The scaling plan of docs/distributed.md, computed: memory per rank for the training state and
// bytes each rank sends per step, for IR_101 (ESCA) at 85,742 / 360,232 / 2,059,906 classes on 8
// and 64 GPUs, with a replicated head (plain data parallel), a sharded head (Partial FC) and a
// sharded head with sampleRate 0.1. Prints a Markdown table.   node scripts/dist-plan.mjs [--batch 128]
//
// Model: fp32 weights, SGD with momentum (weight + gradient + momentum = 3 copies), plus DDP's
// gradient buckets (one more copy of the replicated gradients). Ring collectives: an allreduce of
// S bytes sends 2·(W−1)/W·S per rank, an allgather of S bytes in total sends (W−1)/W·S.
// Activations (the same in every column, set by the backbone and batch) are left out; the
// [rows × classes] logits buffer of the head (the fused op keeps one) is counted.
const args = process.argv.slice(2);
const B = Number(args[args.indexOf('--batch') + 1] || 128); // per GPU, arcface_torch's default
const P = 65_328_303; // IR_101 + ESCA backbone parameters (ecacface summary ir101)
const D = 512;
const f32 = 4;
const datasets = [
  ['MS1MV2', 85_742],
  ['Glint360K', 360_232],
  ['WebFace42M', 2_059_906],
];
const GiB = 2 ** 30;
const MiB = 2 ** 20;
const fmt = (b) => (b >= GiB ? `${(b / GiB).toFixed(2)} GiB` : `${(b / MiB).toFixed(0)} MiB`);

function plan(C, W, mode, rate = 1) {
  const backbone = 4 * P * f32; // weight, grad, momentum, bucket
  const ring = 2 * (W - 1) / W;
  let head, logits, comm;
  const backboneComm = ring * P * f32;
  if (mode === 'replicated') {
    head = 4 * D * C * f32; // the head's gradient is allreduced too (bucketed)
    logits = B * C * f32;
    comm = backboneComm + ring * D * C * f32;
  } else {
    const local = Math.ceil(C / W);
    head = 3 * D * local * f32; // not in DDP's buckets
    logits = W * B * Math.ceil(rate * local) * f32;
    const gatherEmb = ((W - 1) / W) * W * B * D * f32;
    const gatherLabels = ((W - 1) / W) * W * B * 8;
    const embGradAllreduce = ring * W * B * D * f32; // the all-gather's backward (allreduce + slice)
    const rowScalars = 3 * ring * W * B * f32; // target cosine, row max, row sum of exp
    comm = backboneComm + gatherEmb + gatherLabels + embGradAllreduce + rowScalars;
  }
  return { mem: backbone + head + logits, head, logits, comm };
}

console.log(`Batch ${B} per GPU; IR_101+ESCA ${P.toLocaleString('en')} parameters; embedding ${D}; fp32, SGD momentum.\n`);
console.log('| classes | GPUs | head | memory per rank (state + logits) | of which head | logits buffer | sent per rank per step |');
console.log('|---|---|---|---|---|---|---|');
for (const [name, C] of datasets) {
  for (const W of [8, 64]) {
    for (const [label, mode, rate] of [['replicated', 'replicated', 1], ['sharded', 'sharded', 1], ['sharded, sampleRate 0.1', 'sharded', 0.1]]) {
      const p = plan(C, W, mode, rate);
      console.log(`| ${name} ${C.toLocaleString('en')} | ${W} | ${label} | ${fmt(p.mem)} | ${fmt(p.head)} | ${fmt(p.logits)} | ${fmt(p.comm)} |`);
    }
  }
}
