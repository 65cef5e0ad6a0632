/**
 * Train one of the paper's presets on a RecordIO set, then print where the model is.
 *
 *   npx tsx examples/train-preset.ts <train.rec> [val.bin …]     a real run (PRESET, DEVICE as below)
 *   npx tsx examples/train-preset.ts                             a quick check on the synthetic set
 *
 * Without arguments the synthetic face set (what `npx ecacface synth` makes) is generated once under
 * .cache/synth, and a sized-down version of the preset runs a few steps on the CPU: a check that
 * the script works end to end, not a trained model (`npx ecacface demo` trains one in minutes).
 * Environment: PRESET (default casia-mobilefacenet:ecacface), DEVICE (cpu), STEPS (quick run: 12).
 */
import { generateSynthDataset, preset, train } from 'ecacface-torch';

async function main(): Promise<void> {
  const [rec, ...bins] = process.argv.slice(2);
  const name = process.env.PRESET ?? 'casia-mobilefacenet:ecacface';
  const device = process.env.DEVICE ?? 'cpu';

  if (rec) {
    // The preset as the paper ran it; only the data and the device are ours.
    const run = await train({ ...preset(name), data: { train: { type: 'recordio', path: rec }, val: bins }, device });
    console.log(JSON.stringify({ runDir: run.runDir, modelDir: (run.best ?? run.last).modelDir, best: run.best?.meanAccuracy ?? null }));
    return;
  }

  const synth = await generateSynthDataset({ identities: 40, imagesPerIdentity: 8, valIdentities: 30, valPairs: 60, imageSize: 48, cacheDir: '.cache/synth' });
  const run = await train({
    ...preset(name),
    data: { train: { type: 'recordio', path: synth.rec }, val: synth.bins.map((b) => b.path), workers: 1 },
    device,
    // sized down for a check in seconds: 48×48 faces, a small batch, a few steps
    imageSize: 48,
    embeddingSize: 128,
    batchSize: 16,
    epochs: 1,
    milestones: [],
    stepsPerEpoch: Number(process.env.STEPS ?? 12),
    // a low rate with warm-up: at 0.1 the ESCA gates saturate in a few steps (docs/training.md)
    lr: 0.01,
    warmup: 6,
    threads: 1,
    logEvery: 4,
    outDir: 'runs',
    name: `example-${Date.now()}`,
  });
  console.log(
    JSON.stringify({
      runDir: run.runDir,
      modelDir: (run.best ?? run.last).modelDir,
      steps: run.steps,
      finalLoss: run.finalLoss,
      bins: synth.bins.map((b) => b.path),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
