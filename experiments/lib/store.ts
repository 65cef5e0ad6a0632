/**
 * Where an experiment keeps what it finished, so that a rerun resumes: one JSON file per row ×
 * seed (written atomically once the run is trained and evaluated), stamped with the settings it
 * was computed with. A file made with other settings is never mixed into a table: the rerun stops
 * and names the settings that differ (a setting the file does not name at all is one a later
 * version of the package added, at its default, and does not count).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** One verification set's 10-fold result. */
export interface SetScore {
  name: string;
  pairs: number;
  /** Mean of the 10 fold accuracies, in [0, 1]. */
  accuracy: number;
  /** Population std of the fold accuracies (the protocol's ± ). */
  std: number;
  folds: number[];
}

/** What one trained and evaluated row × seed left. */
export interface RunResult {
  experiment: string;
  row: string;
  seed: number;
  /** sha256 of {@link settings}. */
  fingerprint: string;
  /** The run's training configuration (without where it was written) and the data and evaluation it used. */
  settings: Record<string, unknown>;
  steps: number;
  trainSeconds: number;
  /** Training throughput: median images/s over the logged windows after the first. */
  trainImagesPerSec: number;
  /** Evaluation throughput: images (and their mirrors) embedded per second. */
  evalImagesPerSec: number;
  /** Trainable parameters of the backbone. */
  params: number;
  finalLoss: number;
  sets: SetScore[];
  /**
   * CPU time (user + system, all threads of the run's process) of the training and of the evaluation:
   * about the wall time the run takes on idle cores with one thread; absent in results of older versions.
   */
  cpuSeconds?: { train: number; eval: number };
  /** 1-minute load averages at the start and end of the training, and the core count. */
  load: { start: number; end: number; cores: number };
  device: string;
  finishedAt: string;
  runDir: string;
}

/** A stable JSON text (sorted keys) of a value. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function fingerprint(settings: unknown): string {
  return createHash('sha256').update(canonicalJson(settings)).digest('hex').slice(0, 16);
}

/** The dotted keys whose values differ between two settings objects. */
export function differingKeys(a: unknown, b: unknown, prefix = ''): string[] {
  const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differingKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return canonicalJson(a) === canonicalJson(b) ? [] : [prefix || '(all)'];
}

function valueAt(o: unknown, dotted: string): unknown {
  let v = o;
  for (const k of dotted.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** Thrown when a finished result was computed with other settings than the current command's. */
export class SettingsMismatchError extends Error {
  constructor(file: string, keys: string[]) {
    super(
      `${file} was computed with other settings (differing: ${keys.join(', ')}). ` +
        'A table never mixes settings: rerun with the settings it was made with, give another --out, or delete that file (or the whole folder) to recompute.',
    );
    this.name = 'SettingsMismatchError';
  }
}

function writeJsonAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

/** The results of one experiment under `<out>/<experiment>/`. */
export class ResultStore {
  constructor(readonly dir: string) {}

  resultPath(row: string, seed: number): string {
    return join(this.dir, 'rows', row, `seed-${seed}.json`);
  }

  runDir(row: string, seed: number): string {
    return join(this.dir, 'runs', `${row}-seed-${seed}`);
  }

  /** The finished result of a row × seed, or null; throws {@link SettingsMismatchError} when it was made with other settings. */
  read(row: string, seed: number, settings: Record<string, unknown>): RunResult | null {
    const path = this.resultPath(row, seed);
    if (!existsSync(path)) return null;
    let r: RunResult;
    try {
      r = JSON.parse(readFileSync(path, 'utf8')) as RunResult;
    } catch (e) {
      throw new Error(`${path}: not a readable result (${(e as Error).message}); delete it to recompute that run`);
    }
    if (r.fingerprint === fingerprint(settings)) return r;
    // A setting the result does not name is new in this version of the package, at its default:
    // the run was made with that same behaviour, so it still counts.
    const keys = differingKeys(r.settings, settings).filter((k) => valueAt(r.settings, k) !== undefined);
    if (keys.length) throw new SettingsMismatchError(relative(process.cwd(), path) || path, keys);
    return r;
  }

  write(r: RunResult): string {
    const path = this.resultPath(r.row, r.seed);
    writeJsonAtomic(path, r);
    return path;
  }

  writeFile(name: string, text: string): string {
    const path = join(this.dir, name);
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, text);
    renameSync(tmp, path);
    return path;
  }
}
