/**
 * Presets reproducing the paper's runs (CurricularFace's train.py and config.py; docs/training.md): dataset × backbone × method.
 * A preset fills everything but the data paths; a user's config and `--set` overrides win.
 *
 * Names: `<dataset>-<backbone>` with an optional `:<method>` (default `ecacface`), e.g.
 * `casia-ir50`, `casia-ir101:arcface`, `ms1mv2-ir101:cbam`.
 */
import type { HeadType as Head } from '../heads/options.js';
import type { AttentionKind as Attention } from '../nn/attention/kinds.js';
import type { TrainConfigInput } from './config.js';

interface Recipe {
  backbone: 'mobilefacenet' | 'ir50' | 'ir101';
  epochs: number;
  milestones: number[];
}

/** Dataset × backbone recipes: CASIA ÷10 at 28/38/46 of 50 epochs, MS1MV2 at 10/18/22 of 24. */
export const PRESET_RECIPES: Readonly<Record<string, Recipe>> = {
  'casia-mobilefacenet': { backbone: 'mobilefacenet', epochs: 50, milestones: [28, 38, 46] },
  'casia-ir50': { backbone: 'ir50', epochs: 50, milestones: [28, 38, 46] },
  'casia-ir101': { backbone: 'ir101', epochs: 50, milestones: [28, 38, 46] },
  'ms1mv2-ir101': { backbone: 'ir101', epochs: 24, milestones: [10, 18, 22] },
};

/** Methods: the paper's (ESCA + CurricularFace), the loss baselines, and the attention variants of Table 3. */
export const PRESET_METHODS: Readonly<Record<string, { attention: Attention; head: Head; headOptions?: Record<string, unknown> }>> = {
  ecacface: { attention: 'esca', head: 'curricularface' },
  curricularface: { attention: 'none', head: 'curricularface' },
  arcface: { attention: 'none', head: 'arcface' },
  cosface: { attention: 'none', head: 'cosface' },
  'mv-arcface': { attention: 'none', head: 'mv-arcface' },
  magface: { attention: 'none', head: 'magface' },
  se: { attention: 'se', head: 'curricularface' },
  cbam: { attention: 'cbam', head: 'curricularface' },
  eca: { attention: 'eca', head: 'curricularface' },
  bam: { attention: 'bam', head: 'curricularface' },
  sk: { attention: 'sk', head: 'curricularface' },
  sge: { attention: 'sge', head: 'curricularface' },
};

/** Every preset name, with the method spelled out. */
export function presetNames(): string[] {
  return Object.keys(PRESET_RECIPES).flatMap((r) => Object.keys(PRESET_METHODS).map((m) => `${r}:${m}`));
}

/** What a preset fills: every training setting but `data` (add it, and any override, after the spread). */
export type PresetConfig = Required<
  Pick<TrainConfigInput, 'backbone' | 'attention' | 'embeddingSize' | 'imageSize' | 'head' | 'batchSize' | 'epochs' | 'lr' | 'milestones' | 'gamma' | 'warmup' | 'weightDecay' | 'momentum' | 'seed'>
>;

/**
 * The partial config of a preset (no data paths). Throws a RangeError listing the valid names
 * for an unknown one.
 * @example
 * await train({ ...preset('casia-ir50:ecacface'), data: { train: { type: 'recordio', path: 'train.rec' } }, device: 'cuda' });
 */
export function preset(name: string): PresetConfig {
  const [recipeName, methodName = 'ecacface', ...rest] = name.split(':');
  const recipe = PRESET_RECIPES[recipeName ?? ''];
  const method = PRESET_METHODS[methodName];
  if (!recipe || !method || rest.length) {
    throw new RangeError(
      `unknown preset '${name}': expected <recipe>[:<method>] with recipe one of ${Object.keys(PRESET_RECIPES).join(', ')} ` +
        `and method one of ${Object.keys(PRESET_METHODS).join(', ')}`,
    );
  }
  return {
    backbone: recipe.backbone,
    attention: method.attention,
    embeddingSize: 512,
    imageSize: 112,
    head: { type: method.head, options: { ...(method.headOptions ?? {}) } },
    batchSize: 512,
    epochs: recipe.epochs,
    lr: 0.1,
    milestones: [...recipe.milestones],
    gamma: 0.1,
    warmup: 0,
    weightDecay: 5e-4,
    momentum: 0.9,
    seed: 1337,
  };
}
