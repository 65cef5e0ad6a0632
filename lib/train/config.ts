/**
 * The training configuration: a zod 4 schema, loading from JSON/YAML, `--set key=value`
 * overrides with dotted keys, and validation that reports every problem at once.
 */
import { existsSync, statSync } from 'node:fs';
import { readRegularFile } from '../io/regular-file.js';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { HEAD_OPTION_SCHEMAS, HEAD_TYPES, headOptionKeys } from '../heads/options.js';
import { ARCHS } from '../models/archs.js';
import { backboneSpecSchema } from '../models/spec.js';
import { ATTENTION_KINDS } from '../nn/attention/kinds.js';
import { milestoneProblems } from './schedule.js';

export const PRECISIONS = ['fp32', 'bf16', 'fp16'] as const;

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();

const trainData = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('recordio'),
    /** Path of train.rec (train.idx and property beside it), or of the folder holding them. */
    path: z.string().min(1),
  }),
  z.strictObject({
    type: z.literal('folder'),
    /** Root folder with one sub-folder of images per identity. */
    path: z.string().min(1),
  }),
]);

/** The schema of a run configuration (unknown keys are errors). */
export const trainConfigSchema = z.strictObject({
  /** Backbone architecture. */
  backbone: z.enum(ARCHS),
  /** Attention module in every block ('none' = plain backbone). */
  attention: z.enum(ATTENTION_KINDS).default('esca'),
  embeddingSize: posInt.default(512),
  /** A full backbone spec (models' `BackboneSpec`: custom widths, depths, input size) used instead of the preset. */
  backboneSpec: backboneSpecSchema.optional(),
  /** Image side (112 for the paper; smaller for quick synthetic runs). */
  imageSize: posInt.default(112),
  head: z
    .strictObject({
      type: z.enum(HEAD_TYPES),
      /** The head's options besides numClasses and embeddingSize (heads/options.ts: e.g. s, m, alpha, tUpdate, tStatistic). */
      options: z.record(z.string(), z.unknown()).default({}),
    })
    .superRefine(checkHeadOptions)
    .default({ type: 'curricularface', options: {} }),
  data: z.strictObject({
    train: trainData,
    /** Verification .bin files validated on (10-fold accuracy). */
    val: z.array(z.string().min(1)).default([]),
    /** Random horizontal flip probability (0.5 in the recipe). */
    flip: z.number().min(0).max(1).default(0.5),
    /** Loader worker threads (0 = decode on the main thread). */
    workers: nonNegInt.default(2),
    shuffle: z.boolean().default(true),
    /**
     * The training set's class count, when given: checked against the data, and the confirmation a
     * RecordIO pack needs when it declares far more classes than it has records (docs/security.md).
     */
    numClasses: posInt.optional(),
  }),
  /** Samples per optimizer step and rank: batchSize × gradAccumSteps in micro-batches of batchSize. */
  batchSize: posInt.default(512),
  /** Micro-batches (each of batchSize, BatchNorm per micro-batch) accumulated into one step. */
  gradAccumSteps: posInt.default(1),
  /** Data-parallel runs (started by `ecacface launch`, torchrun or srun; see docs/distributed.md). */
  distributed: z
    .strictObject({
      /** Split the head's classes across ranks (Partial FC); the fused-family heads only. */
      shardedHead: z.boolean().default(false),
      /** Sharded head: fraction of each shard's classes used per step (positives always kept). */
      sampleRate: z.number().gt(0).max(1).default(1),
      /** Gradient bucket size for the allreduce (MiB). */
      bucketCapMB: z.number().positive().default(25),
      /** A collective that takes longer fails, naming the stalled rank (ms; must cover rank 0's validation). */
      timeoutMs: posInt.default(1_800_000),
    })
    .default({ shardedHead: false, sampleRate: 1, bucketCapMB: 25, timeoutMs: 1_800_000 }),
  epochs: posInt.default(50),
  lr: z.number().positive().default(0.1),
  milestones: z.array(posInt).default([28, 38, 46]),
  gamma: z.number().positive().max(1).default(0.1),
  /** Linear LR warm-up over this many steps (0 = none, the recipe). */
  warmup: nonNegInt.default(0),
  weightDecay: z.number().nonnegative().default(5e-4),
  momentum: z.number().nonnegative().default(0.9),
  /** 'cpu', 'cuda' or 'cuda:N'. */
  device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, "expected 'cpu', 'cuda' or 'cuda:N'").default('cpu'),
  precision: z.enum(PRECISIONS).default('fp32'),
  /** fp16 loss scaling: initial scale (dynamic: halves on overflow, doubles after 2000 good steps). */
  lossScale: z.number().positive().default(65536),
  /** libtorch intra-op threads (0 = all cores). */
  threads: nonNegInt.default(0),
  seed: nonNegInt.default(1337),
  outDir: z.string().min(1).default('runs'),
  /** Run name (the run directory is outDir/name); default: a timestamp. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only')
    .refine((n) => n !== '.' && n !== '..', 'a run name is one folder inside outDir: not "." or ".."')
    .optional(),
  /** Log line / progress stats every N steps. */
  logEvery: posInt.default(20),
  /** Also validate the untrained model before the first step (a baseline for the curves). */
  valAtStart: z.boolean().default(false),
  /** Validation every K steps (0 = only at each epoch end). */
  valEvery: nonNegInt.default(0),
  /** Checkpoint every K steps (0 = only at each epoch end). */
  checkpointEvery: nonNegInt.default(0),
  /** Stop each epoch after this many steps (0 = the full epoch); for quick runs. */
  stepsPerEpoch: nonNegInt.default(0),
  /** Stop (validate, checkpoint, export) once training has run this many minutes (0 = no limit). */
  maxMinutes: z.number().nonnegative().default(0),
  /**
   * ESCA gate statistics per block (mean σ of the channel and spatial gates, shares below 0.01 and
   * above 0.99) on every logging step: metrics.jsonl, training.log, TensorBoard. Costs one extra
   * attention forward per ESCA block on logging steps only; no effect without ESCA.
   */
  gateStats: z.boolean().default(true),
  /** Validation images per .bin used (0 = all); for quick runs. */
  valPairs: nonNegInt.default(0),
});

/** Checks `head.options` against the heads' own schema of the chosen type; issues land under `head.options.…`. */
function checkHeadOptions(head: { type: (typeof HEAD_TYPES)[number]; options: Record<string, unknown> }, ctx: z.RefinementCtx): void {
  const r = HEAD_OPTION_SCHEMAS[head.type].safeParse(head.options);
  if (r.success) return;
  for (const issue of r.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) {
        ctx.addIssue({ code: 'custom', path: ['options', ...issue.path, k], message: `unknown option of the ${head.type} head (it takes ${headOptionKeys(head.type).join(', ')})` });
      }
    } else {
      ctx.addIssue({ code: 'custom', path: ['options', ...issue.path], message: issue.message });
    }
  }
}

/** A run configuration after validation (defaults filled). */
export type TrainConfig = z.output<typeof trainConfigSchema>;
/** What a user writes (defaults optional). */
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

/** Thrown by {@link validateConfig}: one message listing every problem. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[], source?: string) {
    super(`invalid training config${source ? ` (${source})` : ''}: ${problems.length} problem${problems.length > 1 ? 's' : ''}\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.length ? path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : '(root)';
}

/** Options of {@link validateConfig}. */
export interface ValidateOptions {
  /** Check that data files exist (default true). */
  checkFiles?: boolean;
  /** Whether CUDA is available (for device/precision checks); default: don't check availability. */
  cudaAvailable?: boolean;
  /** Name of the source (file) for the message. */
  source?: string;
}

/**
 * Validates a raw configuration: schema errors, impossible combinations and missing files are
 * collected and thrown together as one {@link ConfigError}.
 */
export function validateConfig(raw: unknown, opts: ValidateOptions = {}): TrainConfig {
  const parsed = trainConfigSchema.safeParse(raw);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) problems.push(`${pathOf([...issue.path, k])}: unknown key`);
      } else {
        problems.push(`${pathOf(issue.path)}: ${issue.message}`);
      }
    }
  }
  // Cross-field and file checks also run on the fields that did parse, so one error lists everything.
  const c: Partial<TrainConfig> = parsed.success ? parsed.data : {};
  if (!parsed.success && raw !== null && typeof raw === 'object') {
    const shape = trainConfigSchema.shape as Record<string, z.ZodType>;
    for (const [k, schema] of Object.entries(shape)) {
      const r = schema.safeParse((raw as Record<string, unknown>)[k]);
      if (r.success) (c as Record<string, unknown>)[k] = r.data;
    }
  }
  crossChecks(c, problems, opts);
  if (problems.length || !parsed.success) throw new ConfigError(problems, opts.source);
  return parsed.data;
}

function crossChecks(c: Partial<TrainConfig>, problems: string[], opts: ValidateOptions): void {
  if (c.milestones && c.epochs !== undefined) problems.push(...milestoneProblems(c.milestones, c.epochs));
  if (c.precision && c.precision !== 'fp32' && c.device === 'cpu') problems.push(`precision: '${c.precision}' needs a CUDA device (device is 'cpu'); use 'fp32' on the CPU`);
  if (c.device && c.device !== 'cpu' && opts.cudaAvailable === false) problems.push(`device: '${c.device}' requested but CUDA is not available in this build/machine`);
  if (c.batchSize !== undefined && c.batchSize < 2) problems.push('batchSize: must be at least 2 (BatchNorm needs more than one sample)');
  const spec = c.backboneSpec;
  if (spec) {
    if (c.imageSize !== undefined && spec.inputSize !== c.imageSize) problems.push(`backboneSpec.inputSize (${spec.inputSize}) must equal imageSize (${c.imageSize})`);
    if (c.embeddingSize !== undefined && spec.head.embeddingSize !== c.embeddingSize) problems.push(`backboneSpec.head.embeddingSize (${spec.head.embeddingSize}) must equal embeddingSize (${c.embeddingSize})`);
  } else if (c.backbone && c.imageSize !== undefined) {
    if (c.backbone.startsWith('ir') && c.imageSize !== 112) problems.push(`imageSize: the IR backbones need 112 (got ${c.imageSize})`);
    if (c.backbone === 'mobilefacenet' && c.imageSize % 16 !== 0) problems.push(`imageSize: MobileFaceNet needs a multiple of 16 (got ${c.imageSize})`);
  }
  if (opts.checkFiles !== false && c.data) {
    const t = c.data.train;
    if (!existsSync(t.path)) problems.push(`data.train.path: ${t.type === 'recordio' ? 'RecordIO file' : 'folder'} not found: ${t.path}`);
    else if (t.type === 'folder' && !statSync(t.path).isDirectory()) problems.push(`data.train.path: not a folder: ${t.path}`);
    c.data.val.forEach((p, i) => {
      if (!existsSync(p)) problems.push(`data.val[${i}]: .bin file not found: ${p}`);
    });
  }
}

/** Reads a JSON or YAML config file (by extension; unknown extensions are tried as YAML, a JSON superset). */
export function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new ConfigError([`config file not found: ${path}`]);
  const text = readRegularFile(path, 'config file', 'utf8');
  let value: unknown;
  try {
    value = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError([`cannot parse ${path}: ${err instanceof Error ? err.message : String(err)}`]);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError([`${path}: the top level must be a mapping of keys to values`]);
  // Relative data paths are relative to the config file.
  const obj = value as Record<string, unknown>;
  const base = resolve(path, '..');
  const data = obj.data as Record<string, unknown> | undefined;
  if (data && typeof data === 'object') {
    const train = data.train as Record<string, unknown> | undefined;
    if (train && typeof train.path === 'string') train.path = resolve(base, train.path);
    if (Array.isArray(data.val)) data.val = data.val.map((p) => (typeof p === 'string' ? resolve(base, p) : p));
  }
  return obj;
}

/** Parses a `--set` value: JSON when it parses (numbers, booleans, arrays, objects), else the raw string. */
function parseValue(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    // a comma list of numbers is an array: milestones=28,38,46
    if (/^-?\d+(\.\d+)?(,-?\d+(\.\d+)?)+$/.test(v)) return v.split(',').map(Number);
    return v;
  }
}

/** Applies `key=value` overrides (dotted keys reach into objects, e.g. `head.options.m=0.4`). Returns a new object. */
export function applyOverrides(config: Record<string, unknown>, sets: string[]): Record<string, unknown> {
  const out = structuredClone(config);
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError([`--set '${s}': expected key=value`]);
    const keys = s.slice(0, eq).split('.');
    if (keys.some((k) => k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype')) throw new ConfigError([`--set '${s}': invalid key`]);
    let node: Record<string, unknown> = out;
    for (const k of keys.slice(0, -1)) {
      const next = node[k];
      if (next === undefined) node[k] = {};
      else if (next === null || typeof next !== 'object' || Array.isArray(next)) throw new ConfigError([`--set '${s}': '${k}' is not an object`]);
      node = node[k] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]!] = parseValue(s.slice(eq + 1));
  }
  return out;
}

/** Deep merge of plain objects (arrays and scalars of `over` replace those of `base`). */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(base);
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)) {
      out[k] = mergeConfig(b as Record<string, unknown>, v as Record<string, unknown>);
    } else {
      out[k] = structuredClone(v);
    }
  }
  return out;
}
