/** Face detection (MTCNN) and photo → aligned face. */
export { FaceDetector, detect, alignPhotos, selectFaces, type BatchOptions, type DetectOptions, type DetectedFace, type FaceDetectorOptions, type FaceSelection, type PhotoFaces } from './detect.js';
export type { Face, MtcnnOptions, RgbImage } from './mtcnn.js';
export { loadPhoto, type Photo } from './photos.js';
export { drawFaces } from './draw.js';
export type { MtcnnNets } from './weights.js';
