/**
 * Backbone specs: plain JSON-serialisable data describing a backbone, so a user can write a new
 * one (other widths, depths, strides, head, attention) without touching code. `backboneSpec()`
 * (presets.ts) returns the paper's; {@link parseBackboneSpec} validates any object and names the
 * offending field.
 *
 * Two block families:
 * - `block: 'ir'` — CurricularFace/face.evoLVe IR layout: stem
 *   conv3×3 + BN + PReLU, stages of `bottleneck_IR` blocks (the first block of each stage carries
 *   the stride), output layer BN2d → Dropout → Flatten → Linear → BN1d.
 * - `block: 'mobilefacenet'` — face.evoLVe MobileFaceNet layout: stem conv3×3 s2 +
 *   depthwise conv3×3, stages of `Depth_Wise` bottlenecks, conv1×1 → GDConv 7×7 → Linear → BN1d.
 */
import { z } from 'zod';
import { ATTENTION_KINDS } from '../nn/attention/kinds.js';

const positive = z.number().int().positive();

/**
 * Bounds on every spec integer, so that a spec read from a file (a model card) cannot make us
 * build a network without bound: generous for any face backbone (iresnet200 has 60 blocks in one
 * stage, 512 channels, 512-d embeddings), far below what would exhaust memory. docs/security.md.
 */
export const SPEC_LIMITS = Object.freeze({
  inputChannels: 4,
  inputSize: 1024,
  channels: 8192,
  blocksPerStage: 256,
  stages: 32,
  stride: 8,
  embeddingSize: 16384,
});
/** A positive integer at most `max`. */
export const boundedInt = (max: number) => positive.max(max, `must be at most ${max} (a bound on spec integers, see docs/security.md)`);
const attentionKind = z.enum(ATTENTION_KINDS);
/** 'kaiming': CurricularFace's loop (`_initialize_weights`); 'pytorch-default': the layers' own PyTorch defaults. */
const initKind = z.enum(['kaiming', 'pytorch-default']);

export const irSpecSchema = z
  .object({
    block: z.literal('ir'),
    name: z.string().min(1),
    inputChannels: boundedInt(SPEC_LIMITS.inputChannels),
    /** Input height = width (112 in the paper). */
    inputSize: boundedInt(SPEC_LIMITS.inputSize),
    stem: z.object({ channels: boundedInt(SPEC_LIMITS.channels) }).strict(),
    /** Stages in order; the first block of each has `stride`, the others stride 1. */
    stages: z
      .array(z.object({ channels: boundedInt(SPEC_LIMITS.channels), blocks: boundedInt(SPEC_LIMITS.blocksPerStage), stride: boundedInt(SPEC_LIMITS.stride) }).strict())
      .min(1)
      .max(SPEC_LIMITS.stages),
    head: z
      .object({
        /** Dropout before the Linear (0.4 in CurricularFace). */
        dropout: z.number().min(0).max(1),
        embeddingSize: boundedInt(SPEC_LIMITS.embeddingSize),
        /** Affine final BatchNorm1d (false in CurricularFace, true in face.evoLVe). */
        bnAffine: z.boolean(),
      })
      .strict(),
    /** Attention in every block at `res_layer.5`. */
    attention: attentionKind,
    init: initKind,
  })
  .strict();

export const mobileFaceNetSpecSchema = z
  .object({
    block: z.literal('mobilefacenet'),
    name: z.string().min(1),
    inputChannels: boundedInt(SPEC_LIMITS.inputChannels),
    inputSize: boundedInt(SPEC_LIMITS.inputSize),
    /** conv1 (3×3, stride) + conv2_dw (depthwise 3×3, stride 1). */
    stem: z.object({ channels: boundedInt(SPEC_LIMITS.channels), stride: boundedInt(SPEC_LIMITS.stride) }).strict(),
    /**
     * Bottleneck stages in order: `residual: true` → `<name>.model.<i>` (all blocks stride 1 and
     * in = out); `residual: false` → one `Depth_Wise` block named `<name>` carrying `stride`.
     */
    stages: z
      .array(
        z
          .object({
            name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
            channels: boundedInt(SPEC_LIMITS.channels),
            hidden: boundedInt(SPEC_LIMITS.channels),
            blocks: boundedInt(SPEC_LIMITS.blocksPerStage),
            stride: boundedInt(SPEC_LIMITS.stride),
            residual: z.boolean(),
          })
          .strict(),
      )
      .min(1)
      .max(SPEC_LIMITS.stages),
    head: z
      .object({
        /** conv_6_sep output channels (the GDConv is depthwise over them). */
        channels: boundedInt(SPEC_LIMITS.channels),
        embeddingSize: boundedInt(SPEC_LIMITS.embeddingSize),
      })
      .strict(),
    /** Attention after `project` of every bottleneck, as `<block>.attention`. */
    attention: attentionKind,
    init: initKind,
  })
  .strict();

/** A CurricularFace-layout IR backbone. */
export type IRSpec = z.infer<typeof irSpecSchema>;
/** A face.evoLVe-layout MobileFaceNet backbone. */
export type MobileFaceNetSpec = z.infer<typeof mobileFaceNetSpecSchema>;
/** Any backbone spec. */
export type BackboneSpec = IRSpec | MobileFaceNetSpec;

/**
 * Any backbone spec, with the checks across fields (MobileFaceNet: residual stages have stride 1,
 * a non-residual stage is one block, stage names are unique). The training config reuses it.
 */
export const backboneSpecSchema = z.discriminatedUnion('block', [irSpecSchema, mobileFaceNetSpecSchema]).superRefine((spec, ctx) => {
  if (spec.block !== 'mobilefacenet') return;
  const names = new Set<string>();
  spec.stages.forEach((s, i) => {
    if (s.residual && s.stride !== 1) ctx.addIssue({ code: 'custom', path: ['stages', i, 'stride'], message: `a residual stage must have stride 1, got ${s.stride}` });
    if (!s.residual && s.blocks !== 1) ctx.addIssue({ code: 'custom', path: ['stages', i, 'blocks'], message: `a non-residual stage is one block, got ${s.blocks}` });
    if (names.has(s.name)) ctx.addIssue({ code: 'custom', path: ['stages', i, 'name'], message: `duplicate stage name '${s.name}'` });
    names.add(s.name);
  });
});

/** Validates `value` as a backbone spec (e.g. parsed JSON); throws an Error naming each bad field. */
export function parseBackboneSpec(value: unknown): BackboneSpec {
  const r = backboneSpecSchema.safeParse(value);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new Error(`invalid backbone spec: ${lines.join('; ')}`);
  }
  return r.data;
}
