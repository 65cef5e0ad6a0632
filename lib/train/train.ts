/**
 * `train(config)`: validates the config, builds the backbone, head, data and validator, runs the
 * loop, draws the curves, and resolves to the run's summary.
 */
import { cuda, manualSeed } from '../tensor/index.js';
import { buildComponents } from './components.js';
import { validateConfig, type TrainConfig, type TrainConfigInput } from './config.js';
import { plotRun } from './plots.js';
import { runTraining, type TrainOptions, type TrainSummary } from './trainer.js';

/** The summary of {@link train}, with the pictures drawn at the end. */
export interface TrainResult extends TrainSummary {
  plots: string[];
}

/**
 * Trains a face-recognition model as configured (see `TrainConfig`; a raw object is validated
 * first and every problem reported at once).
 * @example
 * const r = await train({ backbone: 'mobilefacenet', data: { train: { type: 'recordio', path: 'faces/train.rec' }, val: ['lfw.bin'] } });
 * console.log(r.best?.results);
 */
export async function train(config: TrainConfigInput | TrainConfig, options: TrainOptions = {}): Promise<TrainResult> {
  const c = validateConfig(config, { cudaAvailable: cuda.isAvailable() });
  manualSeed(c.seed); // the initial weights come from the seed too
  const components = buildComponents(c);
  let summary: TrainSummary;
  try {
    summary = await runTraining(c, components, options);
  } finally {
    components.backbone.dispose();
    components.head.dispose();
  }
  let plots: string[] = [];
  try {
    plots = plotRun(summary.runDir).files;
  } catch (err) {
    options.onProgress?.({ kind: 'message', text: `plots skipped: ${err instanceof Error ? err.message : String(err)}` });
  }
  return { ...summary, plots };
}
