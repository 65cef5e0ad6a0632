/**
 * State-dict naming of the IR backbones in the wild, and their mapping to ours (the
 * CurricularFace / face.evoLVe layout).
 *
 * - CurricularFace and face.evoLVe `IR_50`/`IR_101` (and IR-SE): our names, 1:1.
 * - insightface `iresnet50`/`iresnet100`: renamed by the table below, but three structures have no
 *   counterpart in the CurricularFace layout, so such a checkpoint cannot reproduce its network in
 *   it and is refused (see {@link mapInsightfaceStateDict}):
 *   1. `layer*.*.bn2`: a BatchNorm between conv1 and PReLU in EVERY block;
 *   2. `layer1.0.downsample`: a 1×1 conv + BN shortcut on the first block (ours: MaxPool(1, 2));
 *   3. `features.weight`/`features.bias`: the final BatchNorm1d is affine (ours: affine = false);
 *      its weight is frozen at 1 in insightface, but the bias is trained.
 */
import type { Tensor } from '../tensor/tensor.js';

/** Which naming a state dict uses. */
export type CheckpointLayout = 'curricularface' | 'insightface' | 'unknown';

/** Detects the naming of an IR state dict from its keys. */
export function detectLayout(keys: Iterable<string>): CheckpointLayout {
  const ks = [...keys];
  if (ks.some((k) => k.startsWith('input_layer.')) && ks.some((k) => k.startsWith('body.'))) return 'curricularface';
  if (ks.includes('conv1.weight') && ks.some((k) => /^layer\d+\.\d+\.conv1\.weight$/.test(k))) return 'insightface';
  return 'unknown';
}

/** Result of mapping an insightface iresnet state dict onto the CurricularFace names. */
export interface InsightfaceMapping {
  /** Renamed tensors (our names) for everything that maps 1:1. */
  mapped: Map<string, Tensor>;
  /** insightface keys with no counterpart in the CurricularFace layout. */
  unmapped: string[];
  /** Human-readable reasons, one per structure that does not map. */
  problems: string[];
  /** Blocks per stage found in the checkpoint (e.g. [3, 4, 14, 3] for iresnet50). */
  blocks: number[];
}

/**
 * Renames an insightface `iresnet` state dict to CurricularFace names (the table below) and
 * lists what cannot map. The tensors are moved into `mapped` (not copied); unmapped ones stay in
 * the input map only.
 */
export function mapInsightfaceStateDict(sd: Map<string, Tensor>): InsightfaceMapping {
  const blocksPerStage: number[] = [];
  for (const k of sd.keys()) {
    const m = /^layer(\d+)\.(\d+)\./.exec(k);
    if (m) {
      const s = Number(m[1]) - 1;
      blocksPerStage[s] = Math.max(blocksPerStage[s] ?? 0, Number(m[2]) + 1);
    }
  }
  for (let s = 0; s < blocksPerStage.length; s++) blocksPerStage[s] ??= 0;
  const firstIndex = blocksPerStage.map((_, s) => blocksPerStage.slice(0, s).reduce((a, b) => a + b, 0));
  const mapped = new Map<string, Tensor>();
  const unmapped: string[] = [];
  const top: Record<string, string> = {
    conv1: 'input_layer.0',
    bn1: 'input_layer.1',
    prelu: 'input_layer.2',
    bn2: 'output_layer.0',
    fc: 'output_layer.3',
    features: 'output_layer.4',
  };
  const inBlock: Record<string, string> = { bn1: 'res_layer.0', conv1: 'res_layer.1', prelu: 'res_layer.2', conv2: 'res_layer.3', bn3: 'res_layer.4' };
  let bn2Blocks = 0;
  let stage1Downsample = false;
  for (const [k, t] of sd) {
    const b = /^layer(\d+)\.(\d+)\.(\w+)\.(.+)$/.exec(k);
    if (b) {
      const s = Number(b[1]) - 1;
      const g = firstIndex[s]! + Number(b[2]);
      const mod = b[3]!;
      const rest = b[4]!;
      if (mod === 'downsample') {
        // layer1.0 downsamples 64→64 with a conv; ours is a parameter-free MaxPool(1, 2) there.
        if (s === 0) {
          stage1Downsample = true;
          unmapped.push(k);
        } else mapped.set(`body.${g}.shortcut_layer.${rest}`, t);
      } else if (inBlock[mod] !== undefined) mapped.set(`body.${g}.${inBlock[mod]}.${rest}`, t);
      else {
        if (mod === 'bn2' && rest === 'weight') bn2Blocks++;
        unmapped.push(k);
      }
      continue;
    }
    const tm = /^(\w+)\.(.+)$/.exec(k);
    const name = tm ? top[tm[1]!] : undefined;
    if (name !== undefined && !(tm![1] === 'features' && (tm![2] === 'weight' || tm![2] === 'bias'))) mapped.set(`${name}.${tm![2]}`, t);
    else unmapped.push(k);
  }
  const problems: string[] = [];
  if (bn2Blocks > 0) problems.push(`${bn2Blocks} blocks have bn2, a BatchNorm between conv1 and PReLU that the CurricularFace block does not have`);
  if (stage1Downsample) problems.push('layer1.0 has a 1×1 conv + BN downsample where the CurricularFace block uses MaxPool(1, 2)');
  if (sd.has('features.bias') || sd.has('features.weight')) problems.push('the final BatchNorm1d (features) is affine; the CurricularFace head is affine = false');
  const known = new Set(unmapped.filter((k) => /\.bn2\.|^layer1\.0\.downsample\.|^features\.(weight|bias)$/.test(k)));
  const other = unmapped.filter((k) => !known.has(k));
  if (other.length > 0) problems.push(`unknown keys: ${other.slice(0, 8).join(', ')}${other.length > 8 ? ', …' : ''}`);
  return { mapped, unmapped, problems, blocks: blocksPerStage };
}

/**
 * Brings a PyTorch IR state dict into our naming: CurricularFace/face.evoLVe 1:1; insightface
 * refused with the list of structures that do not map (the network would compute something else).
 */
export function toOurNames(sd: Map<string, Tensor>, source = '<checkpoint>'): Map<string, Tensor> {
  const layout = detectLayout(sd.keys());
  if (layout === 'insightface') {
    const m = mapInsightfaceStateDict(sd);
    throw new Error(
      `${source}: an insightface iresnet checkpoint (blocks per stage ${m.blocks.join('/')}) does not map 1:1 onto the ` +
        `CurricularFace IR layout: ${m.problems.join('; ')}. Loading it without those layers would change the ` +
        `network's output, so it is refused (the other ${m.mapped.size} tensors map by name; ` +
        `mapInsightfaceStateDict() lists both). loadModel() loads it 1:1 into the insightface layout ` +
        `(InsightfaceIResNet) instead.`,
    );
  }
  return sd;
}
