/**
 * What ESCA attends to: the spatial attention map of each stage and the channel-attention profile
 * of a model's ESCA blocks for given face images (`ecacface attention`, lib/plot/attention.ts
 * draws them). A stage is a run of ESCA blocks at one resolution; its map is the spatial gate of
 * the stage's last block (the one whose output the next stage sees), its profile that block's
 * channel gate. Gates are the module's own (lib/nn/attention/esca.ts, `gates()`), in eval mode.
 */
import { decode, type DecodedImage } from '../data/codec.js';
import { ESCA, escaBlocks } from '../nn/attention/esca.js';
import { noGrad } from '../tensor/runtime.js';
import { scope } from '../tensor/scope.js';
import { isEncodedImage, loadBatch, type FaceImage } from './images.js';
import type { FaceModel } from './model.js';
import { readRegularFile } from '../io/regular-file.js';

/** One stage's attention for one face. */
export interface StageAttention {
  /** 1-based stage number (in order of resolution). */
  stage: number;
  /** The block whose gates these are (module path). */
  block: string;
  /** ESCA blocks in the stage. */
  blocks: number;
  /** Spatial gate [height × width], row-major, values in (0, 1). */
  spatial: Float32Array;
  height: number;
  width: number;
  /** Channel gate, one value per channel in (0, 1). */
  channel: Float32Array;
}

/** The attention of one face. */
export interface FaceAttention {
  /** The face as the model saw it (RGB, `size × size`, decoded from the input). */
  face: DecodedImage | null;
  stages: StageAttention[];
}

/**
 * Runs the model on the faces (aligned, at the model's input size) and returns each face's
 * per-stage spatial maps and channel profiles. Throws when the model has no ESCA blocks.
 */
export async function attentionMaps(model: FaceModel, images: readonly FaceImage[], options: { threads?: number } = {}): Promise<FaceAttention[]> {
  const blocks = escaBlocks(model.backbone);
  if (blocks.length === 0) throw new Error('attention: the model has no ESCA blocks (its card says attention ' + `'${String((model.card.spec as { attention?: unknown }).attention ?? 'none')}'); only ESCA has spatial and channel gates to draw`);
  const n = images.length;
  const captured = new Map<ESCA, { spatial: Float32Array; channel: Float32Array; h: number; w: number; c: number }>();
  const c = model.card.input;
  const x = await loadBatch(images, { size: c.size, colorOrder: c.colorOrder, mean: c.mean, std: c.std }, { device: model.device, threads: options.threads ?? 2 });
  const previous = blocks.map((b) => b.module.probe);
  try {
    for (const b of blocks) {
      b.module.probe = (m, g) => {
        const [, , h, w] = g.spatial.shape as [number, number, number, number];
        captured.set(m, {
          spatial: g.spatial.float().cpu().toTypedArray() as Float32Array,
          channel: g.channel.float().cpu().toTypedArray() as Float32Array,
          h,
          w,
          c: g.channel.size(1),
        });
      };
    }
    noGrad(() => scope(() => void model.backbone.forward(x)));
  } finally {
    blocks.forEach((b, i) => (b.module.probe = previous[i]!));
    x.dispose();
  }
  // stages: runs of blocks with the same map size, in network order
  const stages: { last: (typeof blocks)[number]; count: number }[] = [];
  let key = '';
  for (const b of blocks) {
    const cap = captured.get(b.module);
    if (!cap) continue;
    const k = `${cap.h}x${cap.w}`;
    if (k !== key) stages.push({ last: b, count: 0 });
    key = k;
    stages[stages.length - 1]!.last = b;
    stages[stages.length - 1]!.count++;
  }
  return images.map((img, i) => ({
    face: faceOf(img),
    stages: stages.map((s, si) => {
      const cap = captured.get(s.last.module)!;
      const hw = cap.h * cap.w;
      return {
        stage: si + 1,
        block: s.last.block,
        blocks: s.count,
        spatial: cap.spatial.slice(i * hw, (i + 1) * hw),
        height: cap.h,
        width: cap.w,
        channel: cap.channel.slice(i * cap.c, (i + 1) * cap.c),
      };
    }),
  }));
}

function faceOf(img: FaceImage): DecodedImage | null {
  try {
    if (typeof img === 'string') return decode(readRegularFile(img, 'image'));
    if (img instanceof Uint8Array) {
      if (isEncodedImage(img)) return decode(img);
      const side = Math.round(Math.sqrt(img.length / 3));
      return { data: img, width: side, height: side };
    }
    return { data: img.data, width: img.width, height: img.height };
  } catch {
    return null;
  }
}
