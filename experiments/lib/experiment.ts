/**
 * `runExperiment(definition)`: what every experiment script does. Parses the shared options,
 * prepares the data, trains every row × seed with `train()` (identical data order, schedule and
 * seeds across rows: only the row's own setting differs), evaluates the last model of each run
 * with `evaluate()` (10-fold protocol), keeps each finished row × seed as a file so that a rerun
 * resumes, and writes the table (markdown + JSON) with the paired test against the baseline row.
 */
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { buildInfo, validateConfig, type TrainConfigInput } from 'ecacface-torch';
import { prepareData, type ExperimentData } from './data';
import { runPool } from './jobs';
import { parseOptions, USAGE, type ExperimentOptions } from './options';
import { markdownTable, summarise, type PaperValue } from './report';
import { Interrupted, runOne, type RunTask } from './run-one';
import { ResultStore, type RunResult } from './store';

/** The part of a training configuration a row sets (merged over the experiment's base configuration). */
export type RowConfig = Pick<TrainConfigInput, 'attention' | 'head'>;

/** One row of a table. */
export interface RowDefinition {
  /** Short name: the folder of its results and what `--rows`/`--baseline` take. */
  name: string;
  /** As printed in the table. */
  label: string;
  config: RowConfig;
  /** The paper's published number for this row, when the spec gives one. */
  paper?: PaperValue;
}

/** What an experiment script declares. */
export interface ExperimentDefinition {
  /** Folder name under `--out` and the `[name]` of its log lines. */
  name: string;
  title: string;
  /** A paragraph for `--help`. */
  description: string;
  rows: RowDefinition[];
  /** The row every other row is tested against (the paper's method), unless `--baseline` says otherwise. */
  baseline: string;
  /** Settings of every row that the rows do not set themselves (e.g. the attention module of the heads table). */
  base?: RowConfig;
  /** What the paper publishes for this table and where it is (or that the spec does not give it). */
  paperNote: string;
}

/**
 * The epochs for a step budget: at least 4 (so that the LR drop can sit on the last quarter),
 * more when the data holds fewer batches; `epochs × stepsPerEpoch` is the budget rounded up to a
 * multiple of the epochs.
 */
export function epochPlan(steps: number, batchesPerEpoch: number, milestones: number[] | null): { epochs: number; stepsPerEpoch: number; milestones: number[] } {
  if (batchesPerEpoch < 1) throw new Error('the training set holds fewer images than one batch: lower --batch-size');
  const epochs = Math.max(Math.min(4, steps), Math.ceil(steps / batchesPerEpoch));
  const stepsPerEpoch = Math.ceil(steps / epochs);
  // LR ÷10 for the last quarter of the epochs (none in a one-epoch run), unless given
  const ms = milestones ?? (epochs >= 2 ? [epochs - Math.max(1, Math.round(epochs / 4))] : []);
  return { epochs, stepsPerEpoch, milestones: ms };
}

function mergeRow(base: TrainConfigInput, row: RowConfig): TrainConfigInput {
  const head = row.head ? { type: row.head.type, options: { ...(base.head?.options ?? {}), ...(row.head.options ?? {}) } } : base.head;
  return { ...base, ...(row.attention ? { attention: row.attention } : {}), ...(head ? { head } : {}) };
}

/** The configuration every row starts from: the options and the data, no row setting yet. */
function baseConfig(o: ExperimentOptions, d: ExperimentData, def: ExperimentDefinition, runsDir: string): TrainConfigInput {
  const plan = epochPlan(o.steps, Math.floor(d.images / o.batchSize), o.milestones);
  return {
    backbone: o.arch as TrainConfigInput['backbone'],
    attention: (o.attention ?? def.base?.attention ?? 'esca') as TrainConfigInput['attention'],
    imageSize: o.imageSize,
    embeddingSize: o.embeddingSize,
    head: { type: def.base?.head?.type ?? 'curricularface', options: { ...(def.base?.head?.options ?? {}), ...o.headOptions } },
    data: { train: d.train, val: [], workers: o.workers },
    batchSize: o.batchSize,
    epochs: plan.epochs,
    stepsPerEpoch: plan.stepsPerEpoch,
    milestones: plan.milestones,
    lr: o.lr,
    warmup: o.warmup,
    device: o.device,
    threads: o.threads,
    logEvery: o.logEvery,
    checkpointEvery: Math.max(25, Math.round(o.steps / 10)),
    outDir: runsDir,
  };
}

/** What identifies a result: the training configuration without what cannot change its numbers, the data, the evaluation. */
function settingsOf(config: TrainConfigInput, d: ExperimentData): Record<string, unknown> {
  const c = validateConfig(config, { checkFiles: false }) as unknown as Record<string, unknown>;
  // where the run is written, threads, logging and checkpoint intervals leave the numbers as they are
  const { outDir: _o, name: _n, threads: _t, logEvery: _l, checkpointEvery: _c, gateStats: _g, data: cd, ...rest } = c;
  const { workers: _w, train: _tr, ...dataRest } = cd as Record<string, unknown>;
  return { train: { ...rest, data: dataRest }, data: d.identity, evaluation: { protocol: '10-fold', folds: 10, flip: true, model: 'model-last' } };
}

/** Runs an experiment script: `runExperiment(definition)` with the process's arguments. Sets the exit code. */
export async function runExperiment(def: ExperimentDefinition, argv: string[] = process.argv.slice(2)): Promise<void> {
  let o: ExperimentOptions | 'help';
  try {
    o = parseOptions(argv);
  } catch (e) {
    console.error(`${def.name}: ${(e as Error).message}\n(--help lists the options)`);
    process.exitCode = 2;
    return;
  }
  if (o === 'help') {
    console.log(`${def.title}\n\n${def.description}\n\nrows: ${def.rows.map((r) => r.name).join(', ')} (baseline: ${def.baseline})\n\n${USAGE}`);
    return;
  }
  const opts = o;
  const log = (line: string) => {
    if (!opts.quiet) console.log(line.startsWith(' ') ? line : `[${def.name}] ${line}`);
  };
  try {
    await execute(def, opts, argv, log);
  } catch (e) {
    console.error(`[${def.name}] ${(e as Error).message}`);
    process.exitCode = e instanceof Interrupted ? 130 : 1;
  }
}

async function execute(def: ExperimentDefinition, o: ExperimentOptions, argv: string[], log: (line: string) => void): Promise<void> {
  const known = def.rows.map((r) => r.name);
  const unknown = (o.rows ?? []).filter((r) => !known.includes(r));
  if (unknown.length) throw new Error(`--rows: no row ${unknown.map((u) => `'${u}'`).join(', ')} in this experiment (rows: ${known.join(', ')})`);
  if (o.baseline && !known.includes(o.baseline)) throw new Error(`--baseline: no row '${o.baseline}' (rows: ${known.join(', ')})`);
  if (o.attention && def.rows.some((r) => r.config.attention)) throw new Error(`--attention: the ${def.name} experiment sets the attention module per row`);
  const rows = o.rows ? def.rows.filter((r) => o.rows!.includes(r.name)) : def.rows;
  const baseline = o.baseline ?? def.baseline;
  const store = new ResultStore(resolve(o.out, def.name));
  const child = o.task !== null;

  const d = await prepareData(o, child ? () => undefined : log);
  const base = baseConfig(o, d, def, join(store.dir, 'runs'));
  const tasks: RunTask[] = rows.flatMap((row) =>
    o.seeds.map((seed) => {
      const config = mergeRow({ ...base, seed, name: `${row.name}-seed-${seed}` }, row.config);
      return { experiment: def.name, row: row.name, seed, config, settings: settingsOf(config, d), bins: d.bins };
    }),
  );
  const label = (t: { row: string; seed: number }) => `${t.row}:${t.seed}`;

  if (child) {
    // a --jobs child: this one run, its result file, nothing else
    const t = tasks.find((x) => x.row === o.task!.row && x.seed === o.task!.seed);
    if (!t) throw new Error(`--task: no run ${label(o.task!)} among this command's rows and seeds`);
    store.write(await runOne(t, store, o.quiet ? null : (l) => console.log(l)));
    return;
  }

  const plan = { epochs: base.epochs!, stepsPerEpoch: base.stepsPerEpoch!, milestones: base.milestones! };
  const steps = plan.epochs * plan.stepsPerEpoch;
  log(
    `${rows.length} rows × ${o.seeds.length} seeds = ${tasks.length} runs of ${steps} steps ` +
      `(${plan.epochs} epochs × ${plan.stepsPerEpoch}, batch ${o.batchSize}, lr ${o.lr}, warm-up ${o.warmup}, ÷10 at epoch ${plan.milestones.join(', ') || '–'}); ` +
      `${o.arch} ${o.imageSize} px, ${o.device}, ${o.jobs} at once × ${o.threads} thread${o.threads === 1 ? '' : 's'}`,
  );
  log(`data: ${d.description}`);
  log(`results: ${relative(process.cwd(), store.dir) || '.'}`);

  // Every finished result is checked against the current settings before anything is trained.
  const results = new Map<string, RunResult[]>(rows.map((r) => [r.name, []]));
  const reused: string[] = [];
  for (const t of tasks) {
    const r = store.read(t.row, t.seed, t.settings);
    if (!r) continue;
    results.get(t.row)!.push(r);
    reused.push(label(t));
    log(`${t.row} seed ${t.seed}: finished earlier, read from ${relative(process.cwd(), store.resultPath(t.row, t.seed))}`);
  }
  const pending = tasks.filter((t) => !reused.includes(label(t)));
  const computed: string[] = [];
  const finished = (t: RunTask, r: RunResult) => {
    results.get(t.row)!.push(r);
    computed.push(label(t));
    log(
      `${t.row} seed ${t.seed} (${reused.length + computed.length}/${tasks.length}): ${r.steps} steps in ${r.trainSeconds.toFixed(0)} s ` +
        `(${r.trainImagesPerSec.toFixed(1)} img/s, load ${r.load.start.toFixed(1)}–${r.load.end.toFixed(1)} on ${r.load.cores} cores); ` +
        r.sets.map((s) => `${s.name} ${(s.accuracy * 100).toFixed(1)} ± ${(s.std * 100).toFixed(1)} %`).join(', '),
    );
  };
  if (o.jobs > 1 && pending.length > 1) {
    const outcome = await runPool(pending.map(label), o.jobs, argv, (l) => log(l), (task) => {
      const t = pending.find((x) => label(x) === task)!;
      finished(t, store.read(t.row, t.seed, t.settings)!);
    });
    if (outcome.interrupted) throw new Interrupted('interrupted: the unfinished runs keep their checkpoints (rerun the same command to continue)');
    if (outcome.failed.length) throw new Error(outcome.failed.map((f) => `${f.task} failed:\n${f.message}`).join('\n'));
  } else {
    for (const t of pending) {
      log(`${t.row} seed ${t.seed}: training`);
      const r = await runOne(t, store, o.quiet ? null : log);
      store.write(r);
      finished(t, r);
    }
  }

  const all = [...results.values()].flat();
  const loads = all.flatMap((r) => [r.load.start, r.load.end]);
  const notes = [
    `Data: ${d.description.replace(/ \(\/[^)]*\)$/, '')}.`,
    `Runs: ${o.arch}, ${o.imageSize} px, ${steps} steps of batch ${o.batchSize}, lr ${o.lr} after ${o.warmup} linear warm-up steps, ` +
      `÷10 from epoch ${plan.milestones.join(', ') || '– (none)'} of ${plan.epochs}, seeds ${o.seeds.join(', ')}; every row the same data order, schedule and seeds; the last model of each run is evaluated.`,
    `Machine: ${o.device}${o.device === 'cpu' ? `, ${o.jobs} run(s) at once × ${o.threads} libtorch thread(s), ${cpus().length} cores` : ''}, libtorch ${buildInfo().torchVersion}; ` +
      (loads.length ? `1-min load average during training ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (img/s compares rows only at a similar load).` : ''),
    `Paper: ${def.paperNote}`,
  ];
  const tested = rows.some((r) => r.name === baseline) ? baseline : null;
  if (!tested) notes.push(`The baseline row '${baseline}' was not run (--rows), so there are no p-values.`);
  const summary = summarise(def.name, def.title, rows.map((r) => ({ name: r.name, label: r.label, paper: r.paper ?? null })), results, tested, notes);
  const md = markdownTable(summary);
  const mdPath = store.writeFile('results.md', md + '\n');
  const { task: _t, ...options } = o;
  const jsonPath = store.writeFile(
    'results.json',
    JSON.stringify({ ...summary, command: [def.name, ...argv].join(' '), options, plan, bins: d.bins, thisSession: { computed, reused }, runs: all }, null, 2) + '\n',
  );
  console.log(`\n${md}\n`);
  console.log(`table: ${relative(process.cwd(), mdPath)}; JSON: ${relative(process.cwd(), jsonPath)}`);
}
