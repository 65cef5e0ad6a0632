/**
 * What every rank of a data-parallel run must have in common, as a fingerprint the ranks compare
 * at start (`ProcessGroup.agree`, lib/distributed/agree.ts): the config, the model, the data, the
 * software. Ranks that differ in any of it would meet in collectives of different sizes (Gloo
 * aborts the process) or wait for each other until the collective timeout.
 *
 * Left out, because they may differ between nodes without changing what is computed: paths (the
 * same data set may be mounted elsewhere; its size and classes are compared instead) and thread
 * counts. {@link PER_NODE_KEYS} lists them.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Fingerprint } from '../distributed/agree.js';
import { packageRoot } from '../native.js';
import { buildInfo } from '../tensor/runtime.js';
import type { TrainConfig } from './config.js';
import type { TrainComponents } from './types.js';

/** Config keys that may differ between ranks (dotted). */
export const PER_NODE_KEYS: readonly string[] = ['outDir', 'threads', 'data.train.path', 'data.val', 'data.workers'];

/** Flattens nested objects into dotted keys (arrays stay values). */
function flatten(o: Record<string, unknown>, prefix: string, out: Fingerprint): Fingerprint {
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (PER_NODE_KEYS.includes(key)) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
    else out[`config.${key}`] = v ?? null;
  }
  return out;
}

let version: string | undefined;
function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}

/**
 * The part known before anything is built: software versions, the config (every key but
 * {@link PER_NODE_KEYS}) and whether the run resumes.
 */
export function configFingerprint(config: TrainConfig, run: { resume: boolean }): Fingerprint {
  return {
    'ecacface.version': packageVersion(),
    'libtorch.version': buildInfo().torchVersion,
    ...flatten(config as unknown as Record<string, unknown>, '', {}),
    'run.resume': run.resume,
  };
}

/** Names, dtypes and shapes of a state dict, summarised: `N tensors, P values, sha256 <16 hex>`. */
function stateSummary(sd: Map<string, { dtype: string; shape: number[] }>): string {
  const h = createHash('sha256');
  let values = 0;
  for (const [k, t] of sd) {
    h.update(`${k}:${t.dtype}:${t.shape.join('x')};`);
    values += t.shape.reduce((a, b) => a * b, 1);
  }
  return `${sd.size} tensors, ${values} values, sha256 ${h.digest('hex').slice(0, 16)}`;
}

/**
 * The part known once the components are built: the backbone's tensors (names, dtypes, shapes),
 * the head (its kind, classes and embedding size: a sharded head's own tensors differ by rank),
 * and the data (images, classes, batches per epoch on this rank).
 */
export function componentsFingerprint(c: Pick<TrainComponents, 'backbone' | 'head' | 'source'>): Fingerprint {
  return {
    'model.backbone': stateSummary(c.backbone.stateDict()),
    'model.head': `${c.head.kind}: ${c.head.embeddingSize} → ${c.head.numClasses} classes`,
    'data.images': c.source.numImages,
    'data.classes': c.source.numClasses,
    'data.batchesPerEpoch': c.source.batchesPerEpoch,
  };
}
