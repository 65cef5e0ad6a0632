/**
 * The model card: a small JSON file next to the exported weights (`model.safetensors`) that says
 * how to rebuild the backbone and use it: the backbone spec, the input normalisation, the
 * embedding size, the calibrated verification threshold and the validation results.
 *
 * ```json
 * { "format": "ecacface-model-card", "version": 1, "arch": "ir50", "attention": "esca",
 *   "embeddingSize": 512, "spec": { ...backbone spec... },
 *   "input": { "size": 112, "channels": 3, "colorOrder": "RGB", "mean": [0.5,0.5,0.5], "std": [0.5,0.5,0.5] },
 *   "flipTTA": true,
 *   "threshold": { "distance": 1.42, "cosine": 0.29, "source": "lfw" },
 *   "validation": [{ "set": "lfw", "accuracy": 0.9982, "std": 0.0023, "pairs": 6000, "threshold": 1.42 }],
 *   "weights": "model.safetensors" }
 * ```
 * `threshold.distance` is on the squared L2 distance of L2-normalised embeddings (the protocol's
 * scale: the grid 0:0.01:4); `cosine = 1 − distance/2` is the same boundary on cosine similarity.
 */
import { writeFileSync } from 'node:fs';
import { readRegularFile } from './regular-file.js';
import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

const validationSchema = z
  .object({
    set: z.string().min(1),
    accuracy: finite,
    std: finite,
    pairs: z.number().int().nonnegative().optional(),
    threshold: finite.optional(),
    tarAtFar1e3: finite.optional(),
  })
  .strict();

export const modelCardSchema = z
  .object({
    format: z.literal('ecacface-model-card'),
    version: z.literal(1),
    /** Preset name or free text (e.g. "ir50"). */
    arch: z.string().min(1),
    /** Attention kind of every block ("esca", "none", …). */
    attention: z.string().min(1),
    embeddingSize: z.number().int().positive(),
    /** The backbone spec (models engineer's plain JSON spec); rebuilt with `buildBackbone`. */
    spec: z.record(z.string(), z.unknown()),
    input: z
      .object({
        size: z.number().int().positive(),
        channels: z.number().int().positive(),
        colorOrder: z.enum(['RGB', 'BGR']),
        mean: z.array(finite),
        std: z.array(finite.refine((v) => v !== 0, 'std must not be 0')),
      })
      .strict(),
    /** Sum the embeddings of the image and its mirror before normalising (flip TTA, as insightface's verification). */
    flipTTA: z.boolean(),
    threshold: z
      .object({
        /** Squared L2 distance between normalised embeddings: "same" iff distance < this. */
        distance: finite.refine((v) => v >= 0 && v <= 4, 'must lie in [0, 4]'),
        /** The same boundary on cosine similarity: "same" iff cosine > this. */
        cosine: finite,
        /** Where the threshold was calibrated (a validation set name, or "manual"). */
        source: z.string(),
      })
      .strict()
      .optional(),
    validation: z.array(validationSchema).default([]),
    /** Weights file name, relative to the card. */
    weights: z.string().min(1),
    /** Where the weights came from (training run, imported checkpoint …). */
    source: z.string().optional(),
    createdAt: z.string().optional(),
    library: z.string().optional(),
  })
  .strict();

/** A parsed model card. */
export type ModelCard = z.infer<typeof modelCardSchema>;
/** One validation result in a model card. */
export type ModelCardValidation = z.infer<typeof validationSchema>;

/** The paper's input normalisation: RGB, (v/255 − 0.5)/0.5. */
export const DEFAULT_INPUT: ModelCard['input'] = { size: 112, channels: 3, colorOrder: 'RGB', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

/** Validates a parsed JSON value; throws an Error naming every bad field and the file. */
export function parseModelCard(value: unknown, source = '<model card>'): ModelCard {
  const r = modelCardSchema.safeParse(value);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new Error(`${source}: invalid model card: ${lines.join('; ')}`);
  }
  const c = r.data;
  if (c.input.mean.length !== c.input.channels || c.input.std.length !== c.input.channels) {
    throw new Error(`${source}: invalid model card: input.mean and input.std need ${c.input.channels} values (one per channel)`);
  }
  if (c.threshold && Math.abs(c.threshold.cosine - (1 - c.threshold.distance / 2)) > 1e-9) {
    throw new Error(`${source}: invalid model card: threshold.cosine must equal 1 − threshold.distance/2 (${1 - c.threshold.distance / 2})`);
  }
  return c;
}

/**
 * The largest model card read (1 MiB): a card is a few kilobytes of JSON; a bigger file is refused
 * before it is read (also the card carried in a safetensors file's metadata).
 */
export const MAX_CARD_BYTES = 1 << 20;

/** Reads and validates a model card file. */
export function readModelCard(path: string): ModelCard {
  let json: unknown;
  try {
    json = JSON.parse(readRegularFile(path, 'model card', 'utf8', { maxBytes: MAX_CARD_BYTES }));
  } catch (e) {
    throw new Error(`${path}: cannot read the model card (${(e as Error).message})`);
  }
  return parseModelCard(json, path);
}

/** Writes a model card (validated first) as indented JSON. */
export function writeModelCard(path: string, card: ModelCard): void {
  const c = parseModelCard(card, path);
  writeFileSync(path, JSON.stringify(c, null, 2) + '\n');
}

/** A threshold entry from a squared-L2 distance threshold. */
export function thresholdFromDistance(distance: number, source: string): NonNullable<ModelCard['threshold']> {
  return { distance, cosine: 1 - distance / 2, source };
}
