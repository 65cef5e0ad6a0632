/**
 * Export of a trained backbone for PyTorch users: `backbone.safetensors` (the state dict with the
 * CurricularFace / face.evoLVe parameter names, buffers included) and `model-card.json` (what the
 * weights are, how to feed them, and how well they verified).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveTensors } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import type { BackboneLike, ValidationResult } from './types.js';

/** The JSON model card written beside the weights. */
export interface ModelCard {
  format: 'ecacface-model-card';
  version: 1;
  weights: string;
  arch: string;
  attention: string;
  embeddingSize: number;
  inputSize: [number, number];
  input: { channels: 'RGB'; layout: 'NCHW'; normalisation: string; mean: number[]; std: number[] };
  /** The embedding is not normalised by the backbone; L2-normalise it (flip-sum first for the protocol). */
  output: string;
  head: { type: string; options: Record<string, unknown> };
  training: { step: number; epoch: number; epochs: number; batchSize: number; lr: number; milestones: number[]; seed: number; data: string };
  validation: { name: string; accuracy: number; std: number; pairs?: number }[];
  created: string;
}

/** Writes `dir/backbone.safetensors` and `dir/model-card.json`. */
export function exportBackbone(dir: string, backbone: BackboneLike, config: TrainConfig, info: { validation: ValidationResult[]; step: number; epoch: number }): ModelCard {
  const weights = 'backbone.safetensors';
  const card: ModelCard = {
    format: 'ecacface-model-card',
    version: 1,
    weights,
    arch: config.backbone,
    attention: config.attention,
    embeddingSize: config.embeddingSize,
    inputSize: [config.imageSize, config.imageSize],
    input: { channels: 'RGB', layout: 'NCHW', normalisation: '(x / 255 - 0.5) / 0.5, i.e. [-1, 1]', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    output: `raw ${config.embeddingSize}-d embedding (not L2-normalised); verification sums the embeddings of the image and its mirror, then L2-normalises`,
    head: { type: config.head.type, options: config.head.options },
    training: {
      step: info.step,
      epoch: info.epoch,
      epochs: config.epochs,
      batchSize: config.batchSize,
      lr: config.lr,
      milestones: config.milestones,
      seed: config.seed,
      data: config.data.train.path,
    },
    validation: info.validation.map((v) => ({ name: v.name, accuracy: v.accuracy, std: v.std, ...(v.pairs !== undefined ? { pairs: v.pairs } : {}) })),
    created: new Date().toISOString(),
  };
  saveTensors(join(dir, weights), backbone.stateDict(), { format: 'pt', model_card: JSON.stringify(card) });
  writeFileSync(join(dir, 'model-card.json'), JSON.stringify(card, null, 2) + '\n');
  return card;
}
