/**
 * A model card is checked against the weights file it comes with before any network is built: a
 * card read from a file must not make us build layers the file has no weights for, or report an
 * embedding size its network does not produce.
 *
 * - the spec must be valid, every integer within `SPEC_LIMITS` (lib/models/spec.ts);
 * - `embeddingSize` and `input.size` must equal the spec's;
 * - the spec's least parameter count (its 3×3/1×1 convolutions alone, a lower bound of the real
 *   count) must not exceed the number of elements the file holds (its total size), so a spec that
 *   claims 10,000,000 blocks is refused at once;
 * - the file's tensor names must cover the spec's stages (the last block of every stage);
 * the exact names and shapes are then checked by `loadStateDict` (strict) on the built network.
 */
import type { ModelCard } from '../io/model-card.js';
import { parseIResNetSpec } from '../models/insightface-iresnet.js';
import { parseBackboneSpec } from '../models/spec.js';

interface StageLike {
  channels: number;
  blocks: number;
  hidden?: number;
}
interface SpecLike {
  block?: unknown;
  inputChannels?: number;
  inputSize?: number;
  stem?: { channels: number };
  stages?: StageLike[];
  head?: { embeddingSize?: number };
}

/** A lower bound on the parameter count of a spec: the weights of its convolutions. */
export function minParameterCount(spec: unknown): number {
  const s = spec as SpecLike;
  if (!s || !Array.isArray(s.stages) || !s.stem) return 0;
  let n = 9 * (s.inputChannels ?? 3) * s.stem.channels;
  let cin = s.stem.channels;
  for (const st of s.stages) {
    for (let b = 0; b < st.blocks; b++) {
      // IR / iresnet: two 3×3 convolutions; MobileFaceNet: 1×1 expand, 3×3 depthwise, 1×1 project
      n += s.block === 'mobilefacenet' ? cin * st.hidden! + 9 * st.hidden! + st.hidden! * st.channels : 9 * cin * st.channels + 9 * st.channels * st.channels;
      cin = st.channels;
    }
  }
  return n;
}

/** Block-index prefixes the spec's state dict must contain (the last block of each stage). */
function requiredBlocks(spec: SpecLike): string[] {
  const stages = spec.stages ?? [];
  if (spec.block === 'ir') {
    const total = stages.reduce((a, s) => a + s.blocks, 0);
    return [`body.${total - 1}.`];
  }
  if (spec.block === 'iresnet') return stages.map((s, i) => `layer${i + 1}.${s.blocks - 1}.`);
  return [];
}

/**
 * Throws an Error naming `source` when the card does not fit the weights: `shapes` are the file's
 * tensors (name → shape), as read from its header before any network exists.
 */
export function checkCardAgainstWeights(card: ModelCard, shapes: ReadonlyMap<string, readonly number[]>, source: string): void {
  // the spec's own bounds first (models/spec.ts SPEC_LIMITS), named by field
  const raw = card.spec as SpecLike;
  try {
    if (raw.block === 'iresnet') parseIResNetSpec(raw);
    else parseBackboneSpec(raw);
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message}`);
  }
  const spec = raw;
  const problems: string[] = [];
  const specEmb = spec.head?.embeddingSize;
  if (specEmb !== undefined && specEmb !== card.embeddingSize) problems.push(`embeddingSize ${card.embeddingSize} differs from the spec's head.embeddingSize ${specEmb}`);
  if (spec.inputSize !== undefined && spec.inputSize !== card.input.size) problems.push(`input.size ${card.input.size} differs from the spec's inputSize ${spec.inputSize}`);
  let elements = 0;
  for (const s of shapes.values()) elements += s.reduce((a, b) => a * b, 1);
  const need = minParameterCount(spec);
  if (need > elements) {
    problems.push(`the spec needs at least ${need.toLocaleString('en')} parameters but the weights hold ${elements.toLocaleString('en')} values`);
  } else {
    const names = [...shapes.keys()];
    for (const p of requiredBlocks(spec)) {
      if (!names.some((n) => n.startsWith(p))) problems.push(`the spec has a block '${p.slice(0, -1)}' that the weights do not contain`);
    }
  }
  if (problems.length) throw new Error(`${source}: the model card does not match its weights: ${problems.join('; ')}`);
}
