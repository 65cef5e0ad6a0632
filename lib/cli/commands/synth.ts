/** `ecacface synth`: generates (or finds in the cache) a synthetic face-identity set in the real formats. */
import type { Command } from 'commander';
import { generateSynthDataset, synthParams, type SynthOptions } from '../../data/synth-files.js';
import type { SynthVariant } from '../../data/synth.js';
import { countProgress } from '../progress.js';
import { integerArg } from '../model-option.js';

/** The command-line spelling of each parameter, for error messages. */
const OPTION_NAMES = { identities: '--identities', imagesPerIdentity: '--images', valIdentities: '--val-identities', valPairs: '--pairs', imageSize: '--size', seed: '--seed', variant: '--variant' } as const;

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('generate synthetic face identities: RecordIO for training, .bin pair sets on unseen identities')
    .option('--identities <n>', 'training identities', integerArg)
    .option('--images <n>', 'images per training identity', integerArg)
    .option('--val-identities <n>', 'validation identities (never in training)', integerArg)
    .option('--pairs <n>', 'pairs per .bin set', integerArg)
    .option('--size <px>', 'image side', integerArg)
    .option('--seed <n>', 'seed', integerArg)
    .option('--variant <name>', "'plain' (default) or 'wild': cluttered backgrounds, occluders, misalignment and pose as in real crops (docs/experiments.md)")
    .option('--cache <dir>', 'cache root', '.cache/synth')
    .option('--out <dir>', 'write the set into this folder (new or empty) instead of the cache')
    .option('--quiet', 'no progress output')
    .action(async (o: { out?: string; quiet?: boolean; identities?: number; images?: number; valIdentities?: number; pairs?: number; size?: number; seed?: number; variant?: string; cache: string }) => {
      const options: SynthOptions = {
        identities: o.identities,
        imagesPerIdentity: o.images,
        valIdentities: o.valIdentities,
        valPairs: o.pairs,
        imageSize: o.size,
        seed: o.seed,
        cacheDir: o.cache,
        ...(o.variant !== undefined ? { variant: o.variant as SynthVariant } : {}),
        ...(o.out !== undefined ? { outDir: o.out } : {}),
      };
      synthParams(options, OPTION_NAMES); // a bad value is reported by its option's name
      const progress = countProgress();
      const d = await generateSynthDataset(options, o.quiet ? undefined : (done, total, what) => progress(`generating ${what}`, done, total));
      progress.end();
      console.log(`${d.cached ? 'cached' : 'generated'}: ${d.images} images of ${d.identities} identities (${d.imageSize}px) in ${d.dir}`);
      console.log(`train: ${d.rec}`);
      for (const b of d.bins) console.log(`val:   ${b.path} (${b.pairs} pairs)`);
    });
}
