/**
 * Evaluate a model (an exported model folder, e.g. a run's best/ or last/ model) on verification
 * .bin sets with the 10-fold protocol, and print the table.
 *
 *   npx tsx examples/evaluate.ts <modelDir> <lfw.bin> [cfp_fp.bin agedb_30.bin …]
 *
 * With the synthetic set: run examples/train-preset.ts first; it prints modelDir and the .bin paths.
 */
import { evaluate, formatTable, loadModel } from 'ecacface-torch';

async function main(): Promise<void> {
  const [modelDir, ...bins] = process.argv.slice(2);
  if (!modelDir || bins.length === 0) throw new Error('usage: evaluate.ts <modelDir> <set.bin> [more.bin …]');
  const model = loadModel(modelDir, { device: process.env.DEVICE ?? 'cpu' });
  try {
    const results = await evaluate(model, bins, { batchSize: 32 });
    console.log(formatTable(results));
    const mean = results.reduce((s, r) => s + r.result.accuracy, 0) / results.length;
    console.log(JSON.stringify({ sets: results.map((r) => ({ name: r.name, pairs: r.pairs, accuracy: r.result.accuracy })), mean }));
  } finally {
    model.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
