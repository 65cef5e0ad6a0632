/**
 * Embed face photos and compare them at the model's calibrated threshold.
 *
 *   npx tsx examples/embed-compare.ts <modelDir> <photo1.jpg> <photo2.jpg> [more …]
 *   npx tsx examples/embed-compare.ts <modelDir>        three synthetic faces (two of one person)
 *
 * Photos should be aligned faces (see `ecacface align` / `align()` for five-point alignment).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { data, generateSynthDataset, loadModel } from 'ecacface-torch';

/**
 * Writes three synthetic faces as JPEG files, taken from the pairs of a small synthetic `.bin`
 * set: the two faces of a same-person pair, and one face of another person.
 */
async function syntheticPhotos(size: number): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ecacface-photos-'));
  const synth = await generateSynthDataset({ identities: 2, imagesPerIdentity: 2, valIdentities: 4, valPairs: 20, imageSize: size, outDir: join(dir, 'synth') });
  const pairs = data.readBin(synth.bins[0]!.path);
  const same = pairs.issame.indexOf(true);
  const other = pairs.issame.indexOf(false);
  return [pairs.images[2 * same]!, pairs.images[2 * same + 1]!, pairs.images[2 * other + 1]!].map((jpeg, i) => {
    const file = join(dir, `face${i}.jpg`);
    writeFileSync(file, jpeg);
    return file;
  });
}

async function main(): Promise<void> {
  const [modelDir, ...given] = process.argv.slice(2);
  if (!modelDir) throw new Error('usage: embed-compare.ts <modelDir> [photo …]');
  const model = loadModel(modelDir, { device: process.env.DEVICE ?? 'cpu' });
  try {
    const photos = given.length >= 2 ? given : await syntheticPhotos(model.card.input.size);
    const embeddings = await model.embed(photos);
    console.log(`${photos.length} embeddings of ${embeddings[0]!.length} values`);
    const rows = [];
    for (let i = 0; i < photos.length; i++) {
      for (let j = i + 1; j < photos.length; j++) {
        const c = await model.compare(embeddings[i]!, embeddings[j]!);
        rows.push({ a: photos[i], b: photos[j], cosine: Number(c.cosine.toFixed(4)), same: c.same });
      }
    }
    console.table(rows);
    console.log(JSON.stringify(rows));
  } finally {
    model.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
