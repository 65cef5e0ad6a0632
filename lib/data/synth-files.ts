/**
 * Writes a synthetic face-identity set (see `synth.ts`) in the real formats: an insightface
 * RecordIO pack (train.rec/.idx/property, JPEG images) for training, and `.bin` pair sets for
 * verification on identities never seen in training. Generated once per parameter set and cached
 * under `cacheDir/<hash>` (a `done.json` marker, written last and atomically, marks a complete set).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encodeJpeg } from './codec.js';
import { writeBin } from './bin.js';
import { writeRecordIO } from './recordio-writer.js';
import { Rng, SYNTH_VARIANTS, hashSeed, identitySeed, makeIdentity, renderFace, renderTemplate, type SynthVariant } from './synth.js';
import { intProblem } from '../check.js';

/** Parameters of a synthetic set (all have defaults). */
export interface SynthOptions {
  seed?: number;
  /** Training identities (classes). */
  identities?: number;
  imagesPerIdentity?: number;
  /** Identities reserved for validation (never in the training pack). */
  valIdentities?: number;
  /** Pairs per .bin set (half same, half different; a multiple of 20 keeps the folds balanced). */
  valPairs?: number;
  imageSize?: number;
  jpegQuality?: number;
  /**
   * `'plain'` (default) or `'wild'`: every image (training and both pair sets) also gets cluttered
   * backgrounds, more and textured occluders, misalignment and stronger pose, as real face crops
   * have (lib/data/synth.ts, `drawWild`); the plain images are unchanged by the option's existence.
   */
  variant?: SynthVariant;
  /** Cache root (default `.cache/synth`); the set goes into a sub-folder named by its parameters. */
  cacheDir?: string;
  /**
   * Write the set into exactly this folder instead of the cache (it must be new or empty, or hold
   * the same set already: then nothing is generated).
   */
  outDir?: string;
}

/** A generated set. */
export interface SynthDataset {
  dir: string;
  /** The RecordIO pack (`train.rec`; `train.idx` and `property` beside it). */
  rec: string;
  bins: { name: string; path: string; pairs: number }[];
  identities: number;
  images: number;
  imageSize: number;
  cached: boolean;
  seconds: number;
}

const DEFAULTS = {
  seed: 2023,
  identities: 300,
  imagesPerIdentity: 24,
  valIdentities: 200,
  valPairs: 1200,
  imageSize: 112,
  jpegQuality: 90,
};

/**
 * Upper bounds of a synthetic set (the .bin pair sets are built in memory: 100,000 pairs of
 * 112-px JPEGs are ≈ 0.6 GB; training images stream to disk).
 */
export const SYNTH_LIMITS = Object.freeze({ identities: 1_000_000, imagesPerIdentity: 10_000, images: 10_000_000, valIdentities: 1_000_000, valPairs: 100_000, imageSize: 1024 });

/** Each parameter's integer range: at least two identities of two images, 16 px, a JPEG quality in [1, 100], {@link SYNTH_LIMITS}. */
const RANGES: Record<keyof typeof DEFAULTS, [number, number]> = {
  seed: [0, Infinity],
  identities: [2, SYNTH_LIMITS.identities],
  imagesPerIdentity: [2, SYNTH_LIMITS.imagesPerIdentity],
  valIdentities: [0, SYNTH_LIMITS.valIdentities],
  valPairs: [0, SYNTH_LIMITS.valPairs],
  imageSize: [16, SYNTH_LIMITS.imageSize],
  jpegQuality: [1, 100],
};

/** The resolved parameters of a synthetic set (`variant` only when not plain, so plain sets keep their cache key). */
export type SynthParams = typeof DEFAULTS & { variant?: 'wild' };

/**
 * The resolved parameters (what the cache key hashes). Out-of-range values throw a RangeError
 * listing every problem; `names` spells the parameters as the caller's user knows them (the CLI's
 * `--pairs` for `valPairs`).
 */
export function synthParams(o: SynthOptions = {}, names: Partial<Record<keyof SynthParams, string>> = {}): SynthParams {
  const numeric = Object.entries(o).filter(([k, v]) => v !== undefined && k !== 'cacheDir' && k !== 'outDir' && k !== 'variant');
  const p = { ...DEFAULTS, ...Object.fromEntries(numeric) } as SynthParams;
  const n = (k: keyof SynthParams) => names[k] ?? k;
  const bad: string[] = [];
  for (const [k, [min, max]] of Object.entries(RANGES) as [keyof typeof RANGES, [number, number]][]) {
    const problem = intProblem(n(k), p[k], min, max);
    if (problem) bad.push(problem);
  }
  const variant = o.variant ?? 'plain';
  if (!(SYNTH_VARIANTS as readonly string[]).includes(variant)) bad.push(`${n('variant')} must be one of ${SYNTH_VARIANTS.join(', ')} (got ${String(variant)})`);
  else if (variant !== 'plain') p.variant = variant as 'wild';
  if (p.valPairs > 0 && p.valIdentities < 2) bad.push(`${n('valIdentities')} must be at least 2 for pair sets (got ${p.valIdentities})`);
  if (p.valPairs % 2 !== 0) bad.push(`${n('valPairs')} must be even (half same, half different; got ${p.valPairs})`);
  const images = p.identities * p.imagesPerIdentity;
  if (images > SYNTH_LIMITS.images) bad.push(`${n('identities')} × ${n('imagesPerIdentity')} must be at most ${SYNTH_LIMITS.images} (got ${images})`);
  if (bad.length) throw new RangeError(`synthetic set: ${bad.join('; ')}`);
  return p;
}

/** Cache folder name for the parameters. */
export function synthKey(o: SynthOptions = {}): string {
  return createHash('sha256').update(JSON.stringify(synthParams(o))).digest('hex').slice(0, 16);
}

/**
 * The pairs of a verification set: P pairs in 10 contiguous folds, each fold first half "same",
 * then half "different" (like LFW's folds). `difficulty` = undefined draws each sample's
 * difficulty; a number fixes it (the "hard" set uses high values).
 */
function pairPlan(seed: number, tag: number, P: number, V: number): { a: [number, number]; b: [number, number]; same: boolean }[] {
  const r = new Rng(hashSeed(seed, 21, tag));
  const folds = 10;
  const out: { a: [number, number]; b: [number, number]; same: boolean }[] = [];
  for (let f = 0; f < folds; f++) {
    const n = Math.floor(P / folds) + (f < P % folds ? 1 : 0);
    const nSame = Math.floor(n / 2);
    for (let i = 0; i < n; i++) {
      const same = i < nSame;
      const id1 = r.int(V);
      let id2 = id1;
      if (!same) while (id2 === id1) id2 = r.int(V);
      // sample indices: distinct streams per set so the two sets share no image
      const k1 = 1000 * tag + 2 * out.length;
      out.push({ a: [id1, k1], b: [id2, k1 + 1], same });
    }
  }
  return out;
}

/** Generates (or finds in the cache) a synthetic set. */
export async function generateSynthDataset(o: SynthOptions = {}, onProgress?: (done: number, total: number, what: string) => void): Promise<SynthDataset> {
  const t0 = Date.now();
  const p = synthParams(o);
  const root = resolve(o.cacheDir ?? join('.cache', 'synth'));
  const dir = o.outDir !== undefined ? resolve(o.outDir) : join(root, synthKey(o));
  const marker = join(dir, 'done.json');
  if (existsSync(marker)) {
    const d = JSON.parse(readFileSync(marker, 'utf8')) as Omit<SynthDataset, 'cached' | 'seconds' | 'dir'> & { params?: unknown };
    if (JSON.stringify(d.params) === JSON.stringify(p)) return { ...d, dir, cached: true, seconds: (Date.now() - t0) / 1000 };
    if (o.outDir !== undefined) throw new Error(`synthetic set: ${dir} already holds a set with other parameters; choose another folder`);
  }
  if (o.outDir !== undefined) {
    if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`synthetic set: ${dir} is not empty; choose a new or empty folder`);
  } else {
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  const S = p.imageSize;
  const tplSize = Math.round(S * 1.25);
  const total = p.identities * p.imagesPerIdentity + 2 * 2 * p.valPairs;
  let done = 0;
  function* trainSamples(): Generator<{ image: Uint8Array; label: number }> {
    for (let i = 0; i < p.identities; i++) {
      const tpl = renderTemplate(makeIdentity(identitySeed(p.seed, 'train', i)), tplSize);
      for (let k = 0; k < p.imagesPerIdentity; k++) {
        const rgb = renderFace(p.seed, 'train', i, k, S, { template: tpl, variant: p.variant ?? 'plain' });
        done++;
        if (onProgress && done % 500 === 0) onProgress(done, total, 'train');
        yield { image: encodeJpeg(rgb, S, S, p.jpegQuality), label: i };
      }
    }
  }
  const w = await writeRecordIO(dir, trainSamples(), { imageSize: [S, S] });
  const bins: SynthDataset['bins'] = [];
  if (p.valPairs > 0) {
    const templates = new Map<number, ReturnType<typeof renderTemplate>>();
    const tpl = (id: number) => {
      let t = templates.get(id);
      if (!t) templates.set(id, (t = renderTemplate(makeIdentity(identitySeed(p.seed, 'val', id)), tplSize)));
      return t;
    };
    for (const [tag, name, difficulty] of [
      [1, 'synth-val', undefined],
      [2, 'synth-hard', 0.85],
    ] as const) {
      const images: Uint8Array[] = [];
      const issame: boolean[] = [];
      for (const pr of pairPlan(p.seed, tag, p.valPairs, p.valIdentities)) {
        for (const [id, k] of [pr.a, pr.b]) {
          const rgb = renderFace(p.seed, 'val', id, k, S, { template: tpl(id), difficulty, variant: p.variant ?? 'plain' });
          images.push(encodeJpeg(rgb, S, S, p.jpegQuality));
          done++;
          if (onProgress && done % 500 === 0) onProgress(done, total, name);
        }
        issame.push(pr.same);
      }
      const path = join(dir, `${name}.bin`);
      writeBin(path, images, issame);
      bins.push({ name, path, pairs: issame.length });
    }
  }
  const d = { rec: w.rec, bins, identities: p.identities, images: w.images, imageSize: S, params: p };
  const tmp = marker + '.tmp';
  writeFileSync(tmp, JSON.stringify(d, null, 2));
  renameSync(tmp, marker);
  return { ...d, dir, cached: false, seconds: (Date.now() - t0) / 1000 };
}
