/**
 * Run directories are never clobbered: a run starts only in a new or empty directory. An existing
 * non-empty one is refused unless the run resumes it (`--resume`: continue from its checkpoint) or
 * replaces it (`--overwrite`: what an earlier run wrote there is removed first; other files stay).
 * `--overwrite` clears only a folder that a run made: each run directory holds a marker file,
 * {@link RUN_MARKER}, and a folder without one is refused (a run name of `..` or a mistyped outDir
 * must not turn `--overwrite` loose on someone's files). The default name is a time stamp, so
 * unnamed runs never meet.
 */
import { existsSync, lstatSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeDirectory, namingFile } from '../io/write-error.js';
import type { TrainConfig } from './config.js';

/** The marker file every run directory holds (JSON: what made it, when). */
export const RUN_MARKER = '.ecacface-run';

/** The default run name: the time as an ISO-8601 stamp fit for a folder name (`2024-05-01T12-30-05-123Z`). */
export function runTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/** What a training run writes into its directory (what `overwrite` removes). */
export const RUN_ENTRIES = [
  'config.json',
  'metrics.jsonl',
  'training.log',
  'checkpoint.safetensors',
  'model-best',
  'model-last',
  'plots',
  'tensorboard',
  'report.md',
] as const;

/** Other entries of a run: the ranks' checkpoint files, atomic writes' leftovers (lib/io/atomic.ts). */
const RUN_ENTRY_PATTERNS = [/^checkpoint\.rank\d+\.safetensors$/, /^\..+\.tmp-\d+-\d+$/];

/** Thrown when a run would start in a directory that already holds something. */
export class RunExistsError extends Error {
  constructor(
    readonly runDir: string,
    readonly entries: string[],
  ) {
    const shown = entries.slice(0, 6).join(', ') + (entries.length > 6 ? ', …' : '');
    super(
      `run directory ${runDir} is not empty (${shown}): a new run would overwrite it. ` +
        `Resume it (CLI --resume ${runDir}, or train(config, { resume: true })), replace it (--overwrite / { overwrite: true }), ` +
        `or pick another name (config 'name').`,
    );
    this.name = 'RunExistsError';
  }
}

/**
 * Checks a run name: one folder name inside outDir (not `.`, `..`, nor anything with a path
 * separator). The config schema says the same; this guards configs built without it.
 */
export function checkRunName(name: string): void {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new Error(`run name ${JSON.stringify(name)} is not one folder name inside outDir (no '.', '..' or path separators)`);
  }
}

/** The run directory of a config: `outDir/name` (default name: a time stamp). */
export function runDirOf(config: Pick<TrainConfig, 'outDir' | 'name'>): string {
  const name = config.name ?? runTimestamp();
  checkRunName(name);
  return resolve(config.outDir, name);
}

/** How {@link prepareRunDir} treats an existing directory. */
export interface RunDirMode {
  /** The run continues the directory's checkpoint. */
  resume?: boolean;
  /** Remove what an earlier run wrote, then start afresh. */
  overwrite?: boolean;
}

function isOurs(entry: string): boolean {
  return (RUN_ENTRIES as readonly string[]).includes(entry) || RUN_ENTRY_PATTERNS.some((p) => p.test(entry));
}

function hasMarker(runDir: string): boolean {
  const p = join(runDir, RUN_MARKER);
  return existsSync(p) && lstatSync(p).isFile();
}

/**
 * Leaves the {@link RUN_MARKER} in `runDir` if it has none: {@link prepareRunDir} does for a new
 * run; a resumed run calls it once its checkpoint loaded (a run from before the marker existed).
 */
export function markRunDir(runDir: string): void {
  const marker = join(runDir, RUN_MARKER);
  if (!hasMarker(runDir)) namingFile(marker, 'writing', () => writeFileSync(marker, JSON.stringify({ made: 'ecacface train', time: new Date().toISOString() }) + '\n'));
}

/**
 * Makes `runDir` ready for a run: creates it, or checks an existing one as the module doc says,
 * and leaves the {@link RUN_MARKER} in it (a resumed one: see {@link markRunDir}). Throws {@link RunExistsError} for a non-empty directory
 * without `resume` or `overwrite`, and refuses `overwrite` of a non-empty folder without the marker.
 */
export function prepareRunDir(runDir: string, mode: RunDirMode = {}): void {
  if (mode.resume && mode.overwrite) throw new Error('train: resume and overwrite exclude each other (resume continues the run, overwrite replaces it)');
  if (existsSync(runDir)) {
    if (!statSync(runDir).isDirectory()) throw new Error(`run directory ${runDir} exists and is not a directory`);
    const entries = readdirSync(runDir)
      .filter((e) => e !== RUN_MARKER) // a folder holding only the marker: a run that wrote nothing yet
      .sort();
    if (entries.length && !mode.resume) {
      if (!mode.overwrite) throw new RunExistsError(runDir, entries);
      if (!hasMarker(runDir)) {
        throw new Error(
          `--overwrite: ${runDir} was not made by an ecacface run (it has no ${RUN_MARKER} marker), so nothing in it is removed. ` +
            'Check outDir and name; clear the folder yourself if it really is an old run.',
        );
      }
      for (const e of entries) if (isOurs(e)) rmSync(join(runDir, e), { recursive: true, force: true });
    }
  }
  makeDirectory(runDir, 'the run directory');
  if (!mode.resume) markRunDir(runDir);
}
