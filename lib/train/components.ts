/**
 * Builds what the loop trains from a config: the backbone (models), the head (heads), the batch
 * source (data loader over RecordIO or an image folder), the validator (.bin sets through the
 * evaluation area's 10-fold verification with flip TTA) and the model export (safetensors + model card).
 */
import { basename } from 'node:path';
import { decode, loader, openImageFolder, openRecordIO, readBin, type ImageDataset, type Loader } from '../data/index.js';
import { verifyImages } from '../eval/evaluate.js';
import type { RawFace } from '../eval/images.js';
import { create as createHead } from '../heads/index.js';
import { backboneSpec, buildBackbone } from '../models/index.js';
import { weightDecayGroups } from '../nn/index.js';
import { ConfigError, type TrainConfig } from './config.js';
import { exportBackbone } from './export.js';
import type { Head } from '../heads/head.js';
import type { Backbone } from '../models/backbone.js';
import type { BatchSource, TrainBatch, TrainComponents, ValidationResult, Validator } from './types.js';

/** The backbone of a config: the preset spec with the configured attention, embedding and input size. */
export function buildConfiguredBackbone(config: TrainConfig): Backbone {
  if (config.backboneSpec) return buildBackbone(config.backboneSpec);
  const spec = backboneSpec({ arch: config.backbone, attention: config.attention, embeddingSize: config.embeddingSize });
  return buildBackbone({ ...spec, inputSize: config.imageSize });
}

/** Adapts the data loader to the trainer's resumable batch source. */
export class LoaderSource implements BatchSource {
  readonly numClasses: number;
  readonly numImages: number;
  readonly batchesPerEpoch: number;
  readonly #loader: Loader;
  readonly #dataset: ImageDataset;

  constructor(dataset: ImageDataset, config: TrainConfig, place: { rank: number; worldSize: number } = { rank: 0, worldSize: 1 }) {
    this.#dataset = dataset;
    this.numClasses = dataset.numClasses;
    this.numImages = dataset.length;
    this.#loader = loader(dataset, {
      // one step's samples on this rank: gradAccumSteps micro-batches of batchSize
      batchSize: config.batchSize * config.gradAccumSteps,
      rank: place.rank,
      worldSize: place.worldSize,
      shuffle: config.data.shuffle,
      seed: config.seed,
      dropLast: true,
      flip: config.data.flip,
      imageSize: [config.imageSize, config.imageSize],
      ...(config.device !== 'cpu' ? { device: config.device as 'cpu' } : {}),
      ...(config.data.workers > 0 ? { threads: config.data.workers } : {}),
    });
    this.batchesPerEpoch = this.#loader.batchesPerEpoch;
  }

  async *epoch(epoch: number, fromBatch: number): AsyncIterable<TrainBatch> {
    this.#loader.resume({ epoch, step: fromBatch });
    for await (const b of this.#loader) {
      if (b.epoch !== epoch) {
        b.dispose();
        return;
      }
      yield { images: b.images, labels: b.labels };
    }
  }

  close(): void {
    this.#dataset.close();
  }
}

/** Opens the configured training data. */
export function openTrainData(config: TrainConfig): ImageDataset {
  const t = config.data.train;
  const { numClasses } = config.data;
  if (t.type === 'folder') {
    const ds = openImageFolder(t.path);
    if (numClasses !== undefined && ds.numClasses !== numClasses) {
      ds.close();
      throw new ConfigError([`data.numClasses: ${numClasses}, but ${t.path} has ${ds.numClasses} class folders`]);
    }
    return ds;
  }
  return openRecordIO(t.path, numClasses !== undefined ? { numClasses } : {});
}

/** A decoded verification set. */
export interface PairImages {
  name: string;
  /** Decoded faces, RGB HWC, in pair order. */
  images: RawFace[];
  issame: boolean[];
  size: number;
}

/** Reads and decodes a .bin (optionally only its first `maxPairs` pairs); images must be `size`². */
export function loadPairSet(path: string, size: number, maxPairs = 0): PairImages {
  const set = readBin(path);
  const all = set.issame.length;
  const P = maxPairs > 0 ? Math.min(maxPairs, all) : all;
  // A subset is taken evenly spread over the file (pair ⌊j·all/P⌋), so that every contiguous fold
  // keeps the file's mix of same and different pairs (the official files are ordered in blocks).
  const pick = Array.from({ length: P }, (_, j) => Math.floor((j * all) / P));
  const images: RawFace[] = [];
  for (const p of pick) {
    for (const i of [2 * p, 2 * p + 1]) {
      const d = decode(set.images[i]!);
      if (d.width !== size || d.height !== size) throw new Error(`${path}: image ${i} is ${d.width}×${d.height}, the model takes ${size}×${size}`);
      images.push({ data: d.data, width: d.width, height: d.height });
    }
  }
  return { name: basename(path).replace(/\.bin$/, ''), images, issame: pick.map((p) => set.issame[p]!), size };
}

/**
 * A validator over decoded pair sets: the evaluation area's protocol ({@link verifyImages}: flip
 * TTA, 10-fold accuracy) on the backbone where it is.
 */
export function pairSetValidator(sets: PairImages[]): Validator {
  return async (backbone) => {
    const out: ValidationResult[] = [];
    for (const s of sets) {
      const r = await verifyImages(backbone, s.images, s.issame);
      out.push({ name: s.name, accuracy: r.accuracy, std: r.std, threshold: r.bestThreshold, pairs: r.pairs, roc: r.roc });
    }
    return out;
  };
}

/** Where a data-parallel process sits (lib/distributed), and how it builds its head. */
export interface ComponentPlace {
  rank: number;
  worldSize: number;
  /** A head other than the configured one (the sharded head), given the number of classes. */
  makeHead?: (numClasses: number) => Head;
}

/**
 * Builds every component of a run from its config. In a data-parallel run the loader shards by
 * rank and only rank 0 loads the validation sets.
 */
export function buildComponents(config: TrainConfig, place: ComponentPlace = { rank: 0, worldSize: 1 }): TrainComponents {
  const dataset = openTrainData(config);
  const source = new LoaderSource(dataset, config, place);
  const backbone = buildConfiguredBackbone(config);
  const head = place.makeHead
    ? place.makeHead(dataset.numClasses)
    : createHead({ type: config.head.type, numClasses: dataset.numClasses, embeddingSize: config.embeddingSize, ...config.head.options });
  const sets = place.rank === 0 ? config.data.val.map((p) => loadPairSet(p, config.imageSize, config.valPairs)) : [];
  return {
    backbone,
    head,
    source,
    backboneGroups: () => {
      const g = weightDecayGroups(backbone);
      return { decay: g.decay, noDecay: g.noDecay };
    },
    ...(sets.length ? { validator: pairSetValidator(sets) } : {}),
    exportModel: (dir, info) => exportBackbone(dir, backbone, config, info),
  };
}
