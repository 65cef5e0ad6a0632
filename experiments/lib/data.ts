/**
 * The data an experiment trains and verifies on: the synthetic face set (generated once, cached)
 * or the user's RecordIO pack / image folder with .bin sets; and its size, which turns the step
 * budget into epochs.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { data, generateSynthDataset } from 'ecacface-torch';
import type { ExperimentOptions } from './options';

/** The resolved training and verification data of an experiment. */
export interface ExperimentData {
  train: { type: 'recordio' | 'folder'; path: string };
  bins: string[];
  images: number;
  identities: number;
  /** One line for the log and the table's notes. */
  description: string;
  /** What identifies the data in a result's fingerprint (paths, sizes and modification times). */
  identity: unknown;
}

function fileIdentity(path: string): { path: string; bytes: number; mtimeMs: number } {
  const s = statSync(path);
  return { path, bytes: s.size, mtimeMs: Math.round(s.mtimeMs) };
}

/** Generates (or finds) the synthetic set, or checks and measures the user's data. */
export async function prepareData(o: ExperimentOptions, log: (line: string) => void): Promise<ExperimentData> {
  if (o.train === null) {
    const s = o.synth;
    let last = -1;
    const set = await generateSynthDataset(
      {
        identities: s.identities,
        imagesPerIdentity: s.images,
        valIdentities: s.valIdentities,
        valPairs: s.pairs,
        imageSize: o.imageSize,
        ...(s.variant !== 'plain' ? { variant: s.variant } : {}),
        cacheDir: resolve('.cache', 'synth'),
      },
      (done, total, what) => {
        const pct = Math.floor((100 * done) / total / 10) * 10;
        if (pct !== last) log(`  generating the synthetic set: ${what} ${done}/${total}`);
        last = pct;
      },
    );
    return {
      train: { type: 'recordio', path: set.rec },
      bins: set.bins.map((b) => b.path),
      images: set.images,
      identities: set.identities,
      description:
        `synthetic faces (${s.variant}): ${set.images} training images of ${set.identities} identities, ${set.imageSize} px; ` +
        `${set.bins.map((b) => `${b.name} (${b.pairs} pairs)`).join(', ')} on ${s.valIdentities} other identities (${set.dir})`,
      identity: { synthetic: { ...s, imageSize: o.imageSize } },
    };
  }
  const t = { type: o.train.type, path: resolve(o.train.path) };
  const bins = o.bins.map((b) => resolve(b));
  const missing = [t.path, ...bins].filter((p) => !existsSync(p));
  if (missing.length) throw new Error(`not found: ${missing.join(', ')}`);
  const ds = t.type === 'folder' ? data.openImageFolder(t.path) : data.openRecordIO(t.path);
  const images = ds.length;
  const identities = ds.numClasses;
  ds.close();
  return {
    train: t,
    bins,
    images,
    identities,
    description: `${t.type === 'folder' ? 'image folder' : 'RecordIO'} ${t.path}: ${images} images of ${identities} identities; ${bins.map((b) => basename(b)).join(', ')}`,
    identity: { train: t.type === 'folder' ? { path: t.path } : fileIdentity(t.path), bins: bins.map(fileIdentity) },
  };
}
