/**
 * The options of each head as zod schemas (strict: an unknown key is an error), for checking
 * options that come from files — the training config's `head.options`. `numClasses` and
 * `embeddingSize` are not among them: the trainer takes those from the data and the backbone.
 * Kept in step with the option interfaces of the head files by the type checks at the end.
 */
import { z } from 'zod';
import type { ArcFaceOptions } from './arcface.js';
import type { CosFaceOptions } from './cosface.js';
import type { CurricularFaceOptions } from './curricularface.js';
import type { MagFaceOptions } from './magface.js';
import type { MvArcFaceOptions } from './mv-arcface.js';
import type { SoftmaxOptions } from './softmax.js';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const positive = z.number().positive().refine(Number.isFinite, 'must be a finite number');
const unit = z.number().min(0).max(1);

const base = { returnLogits: z.boolean().optional() };
const margin = { ...base, s: positive.optional(), m: finite.optional(), impl: z.enum(['fused', 'composed']).optional() };

/** The head names `heads.create` accepts (the one list of them). */
export const HEAD_TYPES = ['softmax', 'cosface', 'arcface', 'mv-arcface', 'curricularface', 'magface'] as const;
/** A head name. */
export type HeadType = (typeof HEAD_TYPES)[number];

/** Each head type's options, as passed to `heads.create` besides `type`, `numClasses` and `embeddingSize`. */
export const HEAD_OPTION_SCHEMAS = {
  softmax: z.strictObject(base),
  cosface: z.strictObject(margin),
  arcface: z.strictObject({ ...margin, variant: z.enum(['thresh', 'easy', 'plain']).optional() }),
  'mv-arcface': z.strictObject({ ...margin, t: finite.optional(), easyMargin: z.boolean().optional() }),
  curricularface: z.strictObject({
    ...margin,
    tUpdate: z.enum(['code', 'paper']).optional(),
    alpha: unit.optional(),
    tStatistic: z.enum(['cos', 'cos_m']).optional(),
    target: z.enum(['thresh', 'plain']).optional(),
  }),
  magface: z.strictObject({
    ...base,
    s: positive.optional(),
    la: finite.optional(),
    ua: finite.optional(),
    lm: finite.optional(),
    um: finite.optional(),
    lambdaG: finite.optional(),
    easyMargin: z.boolean().optional(),
  }),
} satisfies Record<HeadType, z.ZodType>;

/** The option keys a head type takes (for messages). */
export function headOptionKeys(type: HeadType): string[] {
  return Object.keys(HEAD_OPTION_SCHEMAS[type].shape);
}

// Every schema accepts exactly the options of its head (minus the two the trainer fills in): a
// field added to an option interface and not here (or the reverse) fails to compile.
type Given<O> = Omit<O, 'numClasses' | 'embeddingSize'>;
type Same<A, B> = [Required<A>] extends [Required<B>] ? ([Required<B>] extends [Required<A>] ? true : false) : false;
type Schema<T extends HeadType> = z.input<(typeof HEAD_OPTION_SCHEMAS)[T]>;
const inStep: [
  Same<Schema<'softmax'>, Given<SoftmaxOptions>>,
  Same<Schema<'cosface'>, Given<CosFaceOptions>>,
  Same<Schema<'arcface'>, Given<ArcFaceOptions>>,
  Same<Schema<'mv-arcface'>, Given<MvArcFaceOptions>>,
  Same<Schema<'curricularface'>, Given<CurricularFaceOptions>>,
  Same<Schema<'magface'>, Given<MagFaceOptions>>,
] = [true, true, true, true, true, true];
void inStep;
