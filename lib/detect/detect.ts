/**
 * Face detection for photos: {@link FaceDetector} (MTCNN with the bundled weights, on CPU or CUDA)
 * finds faces with box, score and five landmarks; {@link FaceDetector.detectAndAlign} aligns them to
 * the 112×112 template for embedding. {@link detect} is the one-call form.
 */
import { alignRaw, type AlignedFace, type AlignOptions } from '../data/align.js';
import type { Device } from '../tensor/device.js';
import type { DetectOptions, FaceSelection } from './detect-options.js';
import { detectFaces, mtcnnParams, type Face, type RgbImage } from './mtcnn.js';
import { describePhoto, type Photo } from './photos.js';
import { detectStream } from './stream.js';
import { loadMtcnn, type MtcnnNets } from './weights.js';

import { FACE_SELECTIONS } from './detect-options.js';
export { FACE_SELECTIONS };
export type { DetectOptions, FaceSelection } from './detect-options.js';

/** The faces found in one photo, with the size of the (upright) photo. */
export interface PhotoFaces {
  faces: Face[];
  width: number;
  height: number;
  /** The decoder's warning, when the photo was damaged but decoded (a truncated JPEG: grey rows). */
  warning?: string;
}

/** How many photos are decoded and detected at once (see {@link FaceDetector.detect}). */
export interface BatchOptions {
  /** Photos detected together, at most (default 16). */
  batch?: number;
  /**
   * Bytes of decoded RGB held at once by the photos being detected and those read ahead (default
   * 512 MiB); a photo larger than this is detected alone.
   */
  maxDecodedBytes?: number;
}

/** An aligned face with the detection it came from. */
export interface DetectedFace extends AlignedFace {
  face: Face;
}

/** Options of {@link FaceDetector}. */
export interface FaceDetectorOptions {
  /** Device of the networks (default 'cpu'). */
  device?: Device;
  /** An MTCNN weights file (default: the bundled weights/mtcnn/mtcnn.safetensors). */
  weights?: string;
}

/** Keeps the faces `select` asks for (`faces` sorted by descending score). */
export function selectFaces(faces: Face[], width: number, height: number, select: FaceSelection = 'all'): Face[] {
  if (faces.length <= 1 || select === 'all') return faces;
  const area = (f: Face): number => (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]);
  const offCentre = (f: Face): number => ((f.box[0] + f.box[2]) / 2 - width / 2) ** 2 + ((f.box[1] + f.box[3]) / 2 - height / 2) ** 2;
  let best = faces[0]!;
  for (const f of faces) {
    if (select === 'largest' ? area(f) > area(best) : select === 'central' ? offCentre(f) < offCentre(best) : f.score > best.score) best = f;
  }
  return [best];
}

function checkSelect(s: unknown): FaceSelection {
  if (s === undefined) return 'all';
  const found = FACE_SELECTIONS.find((f) => f === s);
  if (found) return found;
  throw new RangeError(`detect: select must be one of ${FACE_SELECTIONS.join(', ')}, got ${JSON.stringify(s)}`);
}

/**
 * MTCNN face detector (P-Net, R-Net, O-Net with the bundled weights). Dispose it to free the weights.
 * @example
 * const detector = new FaceDetector();
 * const [{ faces }] = await detector.detect('photo.jpg');
 * console.log(faces[0]?.box, faces[0]?.landmarks);
 * detector.dispose();
 */
export class FaceDetector {
  readonly nets: MtcnnNets;

  constructor(options: FaceDetectorOptions = {}) {
    this.nets = loadMtcnn({ path: options.weights, device: options.device });
  }

  get device(): Device {
    return this.nets.device;
  }

  /** Detects faces in decoded upright RGB photos (synchronous; all photos batched together). */
  detectImages(images: readonly RgbImage[], options: DetectOptions = {}): Face[][] {
    const select = checkSelect(options.select);
    const found = detectFaces(this.nets, images, options);
    return found.map((faces, i) => selectFaces(faces, images[i]!.width, images[i]!.height, select));
  }

  /**
   * Detects faces in photos (paths, JPEG/PNG bytes, decoded pixels or uint8 tensors): one
   * {@link PhotoFaces} per photo, in order; a photo without faces has `faces: []`. Photos that cannot
   * be read or decoded reject with an error naming the photo.
   */
  async detect(photos: Photo | readonly Photo[], options: DetectOptions & BatchOptions = {}): Promise<PhotoFaces[]> {
    const list = asList(photos);
    mtcnnParams(options);
    checkSelect(options.select);
    const out: PhotoFaces[] = [];
    for await (const r of detectStream(this, list, options)) {
      if (r.error !== undefined) throw new Error(r.error);
      out.push({ faces: r.faces, width: r.image!.width, height: r.image!.height, ...(r.warning === undefined ? {} : { warning: r.warning }) });
    }
    return out;
  }

  /**
   * Detects and aligns faces (to 112×112 by default): per photo, the selected faces (default:
   * 'largest', one face) as aligned RGB crops with their detections.
   */
  async detectAndAlign(photos: Photo | readonly Photo[], options: DetectOptions & AlignOptions & BatchOptions = {}): Promise<DetectedFace[][]> {
    const out: DetectedFace[][] = [];
    for (const r of await alignEach(this, asList(photos), options)) {
      if ('error' in r) throw new Error(r.error);
      out.push(r.faces);
    }
    return out;
  }

  /** Frees the networks. */
  dispose(): void {
    this.nets.dispose();
  }
}

function asList(photos: Photo | readonly Photo[]): readonly Photo[] {
  const list = Array.isArray(photos) ? (photos as readonly Photo[]) : [photos as Photo];
  if (list.length === 0) throw new RangeError('detect: no photos given');
  return list;
}

/**
 * Detects faces in photos with a detector made for this call (see {@link FaceDetector} to reuse one).
 * @example
 * const [{ faces }] = await detect('group.jpg', { select: 'all', minFaceSize: 40 });
 */
export async function detect(photos: Photo | readonly Photo[], options: DetectOptions & FaceDetectorOptions = {}): Promise<PhotoFaces[]> {
  const d = new FaceDetector(options);
  try {
    return await d.detect(photos, options);
  } finally {
    d.dispose();
  }
}

/** Per photo of {@link alignEach}: its aligned faces, or why it could not be read. */
export type AlignedPhoto = { faces: DetectedFace[]; warning?: string } | { error: string };

/**
 * Detects and aligns the selected faces (default 'largest') of every photo, within the memory
 * budget of {@link detectStream}; a photo that cannot be read gives its error and the others go on.
 */
export async function alignEach(detector: FaceDetector, photos: readonly Photo[], options: DetectOptions & AlignOptions & BatchOptions = {}): Promise<AlignedPhoto[]> {
  const { size, ...rest } = options;
  const out: AlignedPhoto[] = [];
  for await (const r of detectStream(detector, photos, { ...rest, select: options.select ?? 'largest' })) {
    if (r.error !== undefined) out.push({ error: r.error });
    else out.push({ faces: r.faces.map((face) => ({ ...alignRaw(r.image!, face.landmarks, { size }), face })), ...(r.warning === undefined ? {} : { warning: r.warning }) });
  }
  return out;
}

/**
 * One aligned face per photo for embedding: the selected face (default 'largest') of each photo,
 * aligned to `size` (default 112). Throws one error listing every photo that could not be read
 * and every photo without a face.
 */
export async function alignPhotos(
  detector: FaceDetector,
  photos: readonly Photo[],
  options: DetectOptions & AlignOptions & BatchOptions = {},
): Promise<AlignedFace[]> {
  const found = await alignEach(detector, photos, { ...options, select: options.select === 'all' || options.select === undefined ? 'largest' : options.select });
  const problems = faceProblems(found, photos);
  if (problems) throw new Error(`detect: ${problems}`);
  return found.map((f) => (f as { faces: DetectedFace[] }).faces[0]!);
}

/** What went wrong for the photos of {@link alignEach} that have no face: '' when every one has. */
export function faceProblems(found: readonly AlignedPhoto[], photos: readonly Photo[]): string {
  const unreadable = found.flatMap((f) => ('error' in f ? [f.error] : []));
  const missing = found.flatMap((f, i) => (!('error' in f) && f.faces.length === 0 ? [describePhoto(photos[i]!, i)] : []));
  const list = (a: string[], sep: string): string => `${a.slice(0, 10).join(sep)}${a.length > 10 ? `${sep}…` : ''}`;
  return [
    unreadable.length ? `${unreadable.length} of ${photos.length} photos could not be read: ${list(unreadable, '; ')}` : '',
    missing.length ? `no face found in ${missing.length} of ${photos.length} photos: ${list(missing, ', ')}` : '',
  ].filter(Boolean).join('; ');
}
