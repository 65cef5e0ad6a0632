/**
 * bench:gate-stats — what the ESCA gate statistics cost a training step: MobileFaceNet + ESCA
 * (forward + backward of a sum loss), plain steps and steps with the gate probes armed and
 * harvested (what a logging step does), interleaved in one process. With the default logEvery 20,
 * the training-time overhead is (probed − plain) / plain / 20.
 *
 *   npx tsc -p tsconfig.json && npm run bench:gate-stats -- [--iters 20 --batch 32 --size 112 --threads 1]
 */
import { buildBackbone, backboneSpec } from '../lib/models/index.js';
import { manualSeed, randn, scope, setNumThreads } from '../lib/tensor/index.js';
import { GateStatsCollector } from '../lib/train/gate-stats.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const iters = arg('iters', 20);
const batch = arg('batch', 32);
const size = arg('size', 112);
setNumThreads(arg('threads', 1));
manualSeed(0);

const net = buildBackbone({ ...backboneSpec({ arch: 'mobilefacenet', attention: 'esca' }), inputSize: size });
net.train(true);
const x = randn([batch, 3, size, size]);
const collector = new GateStatsCollector(net);
const step = () =>
  scope(() => {
    net.zeroGrad();
    net.forward(x).square().mean().backward();
  });
const probed = () => {
  collector.arm({ trainingOnly: true });
  step();
  return collector.harvest().length;
};
step();
probed(); // warm-up
const plain: number[] = [];
const withStats: number[] = [];
for (let i = 0; i < iters; i++) {
  let t = performance.now();
  step();
  plain.push(performance.now() - t);
  t = performance.now();
  probed();
  withStats.push(performance.now() - t);
}
const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
const p = median(plain);
const s = median(withStats);
console.log(`MobileFaceNet-ESCA ${size}px batch ${batch}, ${collector.size} ESCA blocks, ${iters} interleaved pairs (median ms/step)`);
console.log(`plain step:            ${p.toFixed(1)} ms`);
console.log(`step with gate stats:  ${s.toFixed(1)} ms  (×${(s / p).toFixed(3)})`);
console.log(`overhead over a run with logEvery 20: ${(((s - p) / p / 20) * 100).toFixed(2)} %`);
x.dispose();
net.dispose();
