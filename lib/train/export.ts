/**
 * Export of a trained backbone through the evaluation area's `exportModel`: `model.safetensors`
 * (the state dict with the reference PyTorch names, buffers included) and `model.json` (the model
 * card: spec, input normalisation, embedding size, validation results and the verification
 * threshold of the first set), so `loadModel(dir)`, `ecacface eval` and `ecacface embed` use it as is.
 */
import { exportModel } from '../eval/model.js';
import { thresholdFromDistance, type ModelCard } from '../io/model-card.js';
import type { TrainConfig } from './config.js';
import type { Backbone } from '../models/backbone.js';
import type { ValidationResult } from './types.js';

/** Writes `dir/model.safetensors` and `dir/model.json`; returns the card. */
export function exportBackbone(
  dir: string,
  backbone: Backbone,
  config: TrainConfig,
  info: { validation: ValidationResult[]; step: number; epoch: number; runDir?: string },
): ModelCard {
  const first = info.validation.find((v) => v.threshold !== undefined);
  return exportModel(backbone, dir, {
    arch: config.backbone,
    validation: info.validation.map((v) => ({
      set: v.name,
      accuracy: v.accuracy,
      std: v.std,
      ...(v.pairs !== undefined ? { pairs: v.pairs } : {}),
      ...(v.threshold !== undefined ? { threshold: v.threshold } : {}),
    })),
    ...(first?.threshold !== undefined ? { threshold: thresholdFromDistance(Math.min(4, Math.max(0, first.threshold)), first.name) } : {}),
    source: `ecacface train: ${config.head.type} head, step ${info.step} (epoch ${info.epoch})${info.runDir ? `, run ${info.runDir}` : ''}`,
  });
}
