/**
 * `ecacface demo` (what `npm start` runs): the project's main job on an embedded default.
 * 1. generates (once, cached) a synthetic face-identity set in the real formats: a RecordIO pack
 *    for training and two .bin pair sets on identities never seen in training;
 * 2. trains ECACFace (MobileFaceNet + ESCA + CurricularFace) on it on the CPU for a few minutes;
 * 3. prints the verification table and where the report, plots and model are.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { generateSynthDataset, type SynthOptions } from '../../data/synth-files.js';
import { getNumThreads } from '../../tensor/index.js';
import type { TrainConfigInput } from '../../train/config.js';
import { progressReporter } from '../../train/progress.js';
import { countProgress } from '../progress.js';
import { verificationTable, writeReport } from '../../train/report.js';
import { train } from '../../train/train.js';
import { runTimestamp } from '../../train/run-dir.js';

/** The embedded default: sized for ~3–5 minutes on 2 CPU cores. */
export const DEMO_DATA: SynthOptions = { seed: 2023, identities: 200, imagesPerIdentity: 20, valIdentities: 150, valPairs: 400, imageSize: 48 };

export function demoConfig(rec: string, bins: string[], outDir: string): TrainConfigInput {
  return {
    backbone: 'mobilefacenet',
    attention: 'esca',
    head: { type: 'curricularface', options: {} },
    imageSize: 48,
    embeddingSize: 128,
    data: { train: { type: 'recordio', path: rec }, val: bins, workers: 1 },
    batchSize: 32,
    epochs: 4,
    milestones: [3],
    // One intra-op thread: on a busy 2-core machine OpenMP's spinning threads make two ~10× slower.
    threads: 1,
    // Sized-down run (batch 32, 48×48): the paper's lr 0.1 without warm-up (for batch 512) makes the
    // ESCA gates of the three non-residual stride-2 blocks saturate within ~40 steps, after which
    // every image gets the same embedding. Half the rate with one epoch of linear warm-up trains
    // (measured: docs/training.md, "The demo").
    lr: 0.05,
    warmup: 125,
    weightDecay: 5e-4,
    momentum: 0.9,
    seed: 1337,
    outDir,
    name: `demo-${runTimestamp().slice(0, 19)}`, // to the second
    logEvery: 10,
    valAtStart: true,
    valPairs: 200,
    maxMinutes: 6,
  };
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the main job: synthetic faces → train ECACFace (MobileFaceNet + ESCA + CurricularFace) on the CPU → verify on unseen identities')
    .option('--out <dir>', 'runs folder', 'runs')
    .option('--cache <dir>', 'synthetic data cache', '.cache/synth')
    .option('--plain', 'plain log lines even on a terminal')
    .action(async (o: { out: string; cache: string; plain?: boolean }) => {
      console.log(`ecacface demo: synthetic faces → ECACFace (MobileFaceNet + ESCA + CurricularFace) on the CPU (${getNumThreads()} threads)`);
      const progress = countProgress({ plain: o.plain ?? false });
      const data = await generateSynthDataset({ ...DEMO_DATA, cacheDir: o.cache }, (done, total, what) => progress(`  generating ${what}`, done, total));
      progress.end();
      console.log(
        `data: ${data.images} training images of ${data.identities} identities (${data.imageSize}px JPEG, RecordIO) ${data.cached ? 'from the cache' : `generated in ${data.seconds.toFixed(0)} s`}: ${data.dir}`,
      );
      const cfg = demoConfig(data.rec, data.bins.map((b) => b.path), o.out);
      const reporter = progressReporter({ plain: o.plain ?? false });
      let r;
      try {
        r = await train(cfg, { onProgress: reporter.onProgress });
      } finally {
        reporter.stop();
      }
      const report = writeReport(r, r.config, [
        `Synthetic data: ${data.identities} training identities × ${DEMO_DATA.imagesPerIdentity} images; validation pairs on ${DEMO_DATA.valIdentities} identities never seen in training (${data.dir}).`,
        '',
      ]);
      const table = verificationTable(r.runDir);
      console.log('\nverification on unseen identities (10-fold accuracy %, chance = 50):');
      console.log(table.markdown);
      console.log(`\n${r.interrupted ? 'interrupted' : 'trained'}: ${r.steps} steps in ${r.seconds.toFixed(0)} s`);
      console.log(`report: ${report}`);
      console.log(`plots:  ${join(r.runDir, 'plots')}`);
      if (r.best) console.log(`model:  ${join(r.best.modelDir, 'model.safetensors')} (+ model.json; try: ecacface eval -m ${r.runDir} --bin ${data.bins[0]!.path})`);
      console.log(`log:    ${join(r.runDir, 'training.log')}; TensorBoard: tensorboard --logdir ${o.out}`);
    });
}
