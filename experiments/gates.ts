/**
 * What ESCA's gates do in trained models (docs/training.md, "Why the demo cannot tell ESCA from
 * none"): for each ESCA run of an experiment, the spatial gates' statistics over training (from
 * metrics.jsonl) and on the verification images, then the 10-fold accuracy of the model as trained,
 * with its saturated spatial gates frozen at their mean, with them removed (gate = 1), and with every
 * spatial gate removed (ESCA reduced to its ECA half). No retraining: the weights stay as trained.
 *
 *   npx tsx experiments/gates.ts [--from experiments-out/attention] [--row esca] [--out gates.md]
 *
 * `--from` is an experiment's results folder (its results.json names the runs and the .bin sets).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluate, loadModel, nn, readMetrics, type FaceModel, type Tensor, type TrainRecord } from 'ecacface-torch';
import { meanStd } from './lib/stats';

/** A gate is saturated when more than half its values lie beyond 0.01 or 0.99 (as the training log says). */
const SHARE = 0.5;
type Variant = 'as trained' | 'saturated frozen at σ̄' | 'saturated removed (gate 1)' | 'all spatial removed (ECA)';
const VARIANTS: Variant[] = ['as trained', 'saturated frozen at σ̄', 'saturated removed (gate 1)', 'all spatial removed (ECA)'];

interface SpatialStats {
  block: string;
  mean: number;
  low: number;
  high: number;
}

function escaModules(model: FaceModel): { block: string; module: nn.ESCA }[] {
  const root = model.backbone as unknown as { namedModules(): [string, unknown][] };
  return root
    .namedModules()
    .filter((e): e is [string, nn.ESCA] => e[1] instanceof nn.ESCA)
    .map(([name, module]) => ({ block: name.replace(/\.attention$/, ''), module }));
}

/** Spatial gate statistics of every ESCA block over all the verification images (and their mirrors). */
async function spatialStats(model: FaceModel, bins: string[]): Promise<SpatialStats[]> {
  const blocks = escaModules(model);
  const acc = blocks.map(() => ({ sum: 0, low: 0, high: 0, n: 0 }));
  blocks.forEach((b, i) => {
    b.module.probe = (_m, g) => {
      const s = g.spatial;
      const n = s.numel;
      acc[i]!.sum += (s.mean().item() as number) * n;
      acc[i]!.low += (s.lt(0.01).float().mean().item() as number) * n;
      acc[i]!.high += (s.gt(0.99).float().mean().item() as number) * n;
      acc[i]!.n += n;
    };
  });
  try {
    await evaluate(model, bins, { batchSize: 64 });
  } finally {
    for (const b of blocks) b.module.probe = null;
  }
  return blocks.map((b, i) => ({ block: b.block, mean: acc[i]!.sum / acc[i]!.n, low: acc[i]!.low / acc[i]!.n, high: acc[i]!.high / acc[i]!.n }));
}

/** Replaces the forward of the chosen ESCA modules: ECA's output times a constant (σ̄), or ECA's output alone. */
function patch(model: FaceModel, variant: Variant, stats: SpatialStats[]): () => void {
  const undo: (() => void)[] = [];
  const saturated = (s: SpatialStats) => s.low > SHARE || s.high > SHARE;
  for (const { block, module } of escaModules(model)) {
    const s = stats.find((x) => x.block === block)!;
    if (variant === 'as trained' || (variant !== 'all spatial removed (ECA)' && !saturated(s))) continue;
    const m = module as unknown as { forward: (x: Tensor) => Tensor };
    m.forward = variant === 'saturated frozen at σ̄' ? (x) => module.ca.forward(x).mul(s.mean) : (x) => module.ca.forward(x);
    undo.push(() => delete (m as { forward?: unknown }).forward);
  }
  return () => undo.forEach((u) => u());
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({ options: { from: { type: 'string' }, row: { type: 'string' }, out: { type: 'string' } } });
  const from = resolve(v.from ?? join('experiments-out', 'attention'));
  const row = v.row ?? 'esca';
  const results = JSON.parse(readFileSync(join(from, 'results.json'), 'utf8')) as { bins: string[]; runs: { row: string; seed: number; runDir: string }[] };
  const runs = results.runs.filter((r) => r.row === row).sort((a, b) => a.seed - b.seed);
  if (!runs.length) throw new Error(`${from}/results.json has no finished run of row '${row}'`);
  const lines: string[] = [];
  const say = (l = '') => {
    console.log(l);
    lines.push(l);
  };
  const accuracy: Record<Variant, number[]> = Object.fromEntries(VARIANTS.map((x) => [x, []])) as unknown as Record<Variant, number[]>;
  for (const run of runs) {
    const dir = join(from, run.runDir);
    say(`### ${row} seed ${run.seed} (${dir})`);
    // over training: the logged spatial σ̄ and the first logged step from which each block stays saturated
    const train = readMetrics(join(dir, 'metrics.jsonl')).filter((m): m is TrainRecord => m.type === 'train' && !!m.gates);
    const model = loadModel(join(dir, 'model-last'));
    try {
      const stats = await spatialStats(model, results.bins);
      say('');
      say('| block | spatial σ̄ first log | spatial σ̄ last log | saturated from step | on the verification images: σ̄ | < 0.01 | > 0.99 |');
      say('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
      for (const s of stats) {
        const series = train.map((m) => ({ step: m.step, g: m.gates!.find((x) => x.block === s.block)?.spatial })).filter((x) => x.g);
        let from: number | null = null;
        for (const x of series) {
          const sat = x.g!.low > SHARE || x.g!.high > SHARE;
          if (sat && from === null) from = x.step;
          if (!sat) from = null;
        }
        const f = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(3));
        const p = (x: number) => `${(x * 100).toFixed(0)} %`;
        say(`| ${s.block} | ${f(series[0]?.g!.mean)} | ${f(series.at(-1)?.g!.mean)} | ${from ?? '–'} | ${s.mean.toFixed(3)} | ${p(s.low)} | ${p(s.high)} |`);
      }
      say('');
      say(`| variant | ${results.bins.map((b) => b.replace(/^.*\//, '').replace(/\.bin$/, '')).join(' | ')} | mean |`);
      say(`| --- | ${results.bins.map(() => '---:').join(' | ')} | ---: |`);
      for (const variant of VARIANTS) {
        const undo = patch(model, variant, stats);
        try {
          const r = await evaluate(model, results.bins, { batchSize: 64 });
          const mean = r.reduce((a, x) => a + x.result.accuracy, 0) / r.length;
          accuracy[variant].push(mean);
          say(`| ${variant} | ${r.map((x) => `${(x.result.accuracy * 100).toFixed(1)} ± ${(x.result.std * 100).toFixed(1)}`).join(' | ')} | ${(mean * 100).toFixed(1)} |`);
        } finally {
          undo();
        }
      }
      say('');
    } finally {
      model.dispose();
    }
  }
  say(`### Over the ${runs.length} seeds (mean accuracy over the sets, %, mean ± sample std)`);
  say('');
  say('| variant | accuracy | per seed |');
  say('| --- | ---: | --- |');
  for (const variant of VARIANTS) {
    const { mean, std } = meanStd(accuracy[variant]);
    say(`| ${variant} | ${(mean * 100).toFixed(1)} ± ${(std * 100).toFixed(1)} | ${accuracy[variant].map((x) => (x * 100).toFixed(1)).join(', ')} |`);
  }
  if (v.out) writeFileSync(v.out, lines.join('\n') + '\n');
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
