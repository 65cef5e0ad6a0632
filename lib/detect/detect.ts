/**
 * Face detection for photos: {@link FaceDetector} (MTCNN with the bundled weights, on CPU or CUDA)
 * finds faces with box, score and five landmarks; {@link FaceDetector.detectAndAlign} aligns them to
 * the 112×112 template for embedding. {@link detect} is the one-call form.
 */
import { alignRaw, type AlignedFace, type AlignOptions } from '../data/align.js';
import type { Device } from '../tensor/device.js';
import { detectFaces, mtcnnParams, type Face, type MtcnnOptions, type RgbImage } from './mtcnn.js';
import { describePhoto, loadPhoto, type Photo } from './photos.js';
import { loadMtcnn, type MtcnnNets } from './weights.js';

/** Which faces of a photo to return. */
/** The ways to pick faces in a photo (`select`). */
export const FACE_SELECTIONS = ['all', 'largest', 'central', 'best'] as const;
export type FaceSelection = (typeof FACE_SELECTIONS)[number];

/** Options of {@link FaceDetector.detect}. */
export interface DetectOptions extends MtcnnOptions {
  /**
   * 'all' (default): every face, by descending score; 'largest': the face with the largest box;
   * 'central': the face whose box centre is nearest the photo centre; 'best': the highest score.
   */
  select?: FaceSelection;
}

/** The faces found in one photo, with the size of the (upright) photo. */
export interface PhotoFaces {
  faces: Face[];
  width: number;
  height: number;
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
  async detect(photos: Photo | readonly Photo[], options: DetectOptions = {}): Promise<PhotoFaces[]> {
    const list = asList(photos);
    mtcnnParams(options);
    checkSelect(options.select);
    const images = await Promise.all(list.map((p, i) => loadPhoto(p, i)));
    return this.detectImages(images, options).map((faces, i) => ({ faces, width: images[i]!.width, height: images[i]!.height }));
  }

  /**
   * Detects and aligns faces (to 112×112 by default): per photo, the selected faces (default:
   * 'largest', one face) as aligned RGB crops with their detections.
   */
  async detectAndAlign(photos: Photo | readonly Photo[], options: DetectOptions & AlignOptions = {}): Promise<DetectedFace[][]> {
    const list = asList(photos);
    const images = await Promise.all(list.map((p, i) => loadPhoto(p, i)));
    const found = this.detectImages(images, { ...options, select: options.select ?? 'largest' });
    return found.map((faces, i) => faces.map((face) => ({ ...alignRaw(images[i]!, face.landmarks, { size: options.size }), face })));
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

/**
 * One aligned face per photo for embedding: the selected face (default 'largest') of each photo,
 * aligned to `size` (default 112). Throws one error listing every photo without a face.
 */
export async function alignPhotos(
  detector: FaceDetector,
  photos: readonly Photo[],
  options: DetectOptions & AlignOptions = {},
): Promise<AlignedFace[]> {
  const found = await detector.detectAndAlign(photos, { ...options, select: options.select === 'all' || options.select === undefined ? 'largest' : options.select });
  const missing = found.flatMap((f, i) => (f.length === 0 ? [describePhoto(photos[i]!, i)] : []));
  if (missing.length > 0) throw new Error(`detect: no face found in ${missing.length} of ${photos.length} photos: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`);
  return found.map((f) => f[0]!);
}
