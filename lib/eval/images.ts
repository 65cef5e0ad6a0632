/**
 * Face images in, normalised input batches out: file paths and encoded JPEG/PNG bytes are decoded
 * by the data layer's native batch decoder (on the addon's own thread, off the JS thread);
 * already-decoded aligned faces (raw HWC uint8) are converted with tensor ops.
 * Output: float32 [N, 3, S, S] with (v/255 − mean)/std per channel (the paper: 0.5/0.5, RGB).
 */
import { native } from '../native.js';
import type { Device } from '../tensor/device.js';
import { cat, tensor } from '../tensor/creation.js';
import { checkThreads } from '../tensor/runtime.js';
import { scope } from '../tensor/scope.js';
import { Tensor, wrap } from '../tensor/tensor.js';

/** An aligned face: pixels of `size × size` RGB (HWC uint8). */
export interface RawFace {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * A face image: a file path (JPEG/PNG), encoded JPEG/PNG bytes, or an aligned face as raw HWC
 * RGB uint8 (a {@link RawFace}, or a bare Uint8Array of exactly S·S·3 bytes).
 */
export type FaceImage = string | Uint8Array | RawFace;

/** Input normalisation of a model. */
export interface InputSpec {
  size: number;
  colorOrder: 'RGB' | 'BGR';
  mean: number[];
  std: number[];
}

/** True for bytes that start like a JPEG or PNG file. */
export function isEncodedImage(b: Uint8Array): boolean {
  return (b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) || (b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47);
}

function describeItem(x: FaceImage, i: number): string {
  return typeof x === 'string' ? `image ${i} ('${x}')` : `image ${i}`;
}

type Classified = { kind: 'path'; path: string } | { kind: 'encoded'; bytes: Uint8Array } | { kind: 'raw'; data: Uint8Array };

function classify(x: FaceImage, i: number, size: number): Classified {
  if (typeof x === 'string') return { kind: 'path', path: x };
  if (x instanceof Uint8Array) {
    if (isEncodedImage(x)) return { kind: 'encoded', bytes: x };
    if (x.length === size * size * 3) return { kind: 'raw', data: x };
    throw new TypeError(`${describeItem(x, i)}: ${x.length} bytes are neither a JPEG/PNG file nor a raw ${size}×${size}×3 RGB face (${size * size * 3} bytes)`);
  }
  if (x !== null && typeof x === 'object' && (x as RawFace).data instanceof Uint8Array) {
    const r = x as RawFace;
    if (r.width !== size || r.height !== size) {
      throw new RangeError(`${describeItem(x, i)}: a raw face must be aligned to ${size}×${size} (see align()), got ${r.width}×${r.height}`);
    }
    if (r.data.length !== size * size * 3) throw new RangeError(`${describeItem(x, i)}: ${r.data.length} bytes, expected ${size * size * 3} (RGB HWC)`);
    return { kind: 'raw', data: r.data };
  }
  throw new TypeError(`${describeItem(x, i)}: expected a file path, JPEG/PNG bytes, or an aligned face {data, width, height}`);
}

/** Applies the model's normalisation to a [N, 3, S, S] batch already scaled as (v/255 − 0.5)/0.5 RGB. */
function renormalise(x: Tensor, input: InputSpec): Tensor {
  const paper = input.mean.every((m) => m === 0.5) && input.std.every((s) => s === 0.5);
  let y = x;
  if (!paper) {
    const mean = tensor(input.mean.map((m) => (m - 0.5) / 0.5)).reshape(1, 3, 1, 1);
    const std = tensor(input.std.map((s) => s / 0.5)).reshape(1, 3, 1, 1);
    y = x.sub(mean).div(std);
  }
  if (input.colorOrder === 'BGR') y = y.flip(1);
  return y;
}

/**
 * Decodes and normalises one batch of face images → float32 [N, 3, S, S] on `device`.
 * Files and encoded bytes are decoded by the native batch decoder off the JS thread; an
 * undecodable image or one that is not S×S rejects with an error naming it; one decoded despite
 * damage (a truncated JPEG) is passed to `onWarning`.
 */
export async function loadBatch(
  images: readonly FaceImage[],
  input: InputSpec,
  options: { device?: Device; threads?: number; onWarning?: (message: string) => void } = {},
): Promise<Tensor> {
  const S = input.size;
  const items = images.map((x, i) => classify(x, i, S));
  const parts: Tensor[] = [];
  let out: Tensor | undefined;
  try {
    // contiguous runs of the same kind keep the order without a gather
    let i = 0;
    while (i < items.length) {
      const raw = items[i]!.kind === 'raw';
      let j = i;
      while (j < items.length && (items[j]!.kind === 'raw') === raw) j++;
      if (raw) {
        const n = j - i;
        const buf = new Uint8Array(n * S * S * 3);
        for (let k = 0; k < n; k++) buf.set((items[i + k] as { data: Uint8Array }).data, k * S * S * 3);
        parts.push(
          scope(() => tensor(buf, { dtype: 'uint8' }).reshape(n, S, S, 3).permute(0, 3, 1, 2).float().div(255).sub(0.5).div(0.5).contiguous()),
        );
      } else {
        const paths: string[] = [];
        const pathIndex = new Int32Array(j - i);
        const offsets = new Float64Array(j - i).fill(-1);
        const labels = new Float64Array(j - i);
        const buffers: (Uint8Array | null)[] = [];
        for (let k = i; k < j; k++) {
          const it = items[k]!;
          if (it.kind === 'path') {
            pathIndex[k - i] = paths.length;
            paths.push(it.path);
            buffers.push(null);
          } else {
            pathIndex[k - i] = -1;
            buffers.push(it.kind === 'encoded' ? it.bytes : null);
          }
        }
        const r = await native.dataDecodeBatch(paths, pathIndex, offsets, labels, buffers, {
          height: S,
          width: S,
          threads: checkThreads(options.threads ?? 2, 'embed: threads'),
          flip: 0,
          seed: 0,
          channelsLast: false,
          pin: false,
        });
        const imgs = wrap(r.images);
        wrap(r.labels).dispose();
        if (r.failed.length > 0) {
          imgs.dispose();
          const f = r.failed[0]!;
          throw new Error(`${describeItem(images[i + f.index]!, i + f.index)}: ${f.reason}${r.failed.length > 1 ? ` (and ${r.failed.length - 1} more failed)` : ''}`);
        }
        for (const w of r.warnings) options.onWarning?.(`${describeItem(images[i + w.index]!, i + w.index)}: ${w.reason}`);
        parts.push(imgs);
      }
      i = j;
    }
    out = scope(() => {
      const x = parts.length === 1 ? parts[0]! : cat(parts, 0);
      const y = renormalise(x, input);
      return options.device && options.device !== 'cpu' ? y.to(options.device) : y;
    });
    return out;
  } finally {
    for (const p of parts) if (p !== out) p.dispose();
  }
}
