/** Face detection (MTCNN) and photo → aligned face. */
export { FaceDetector, detect, alignPhotos, selectFaces, type DetectOptions, type DetectedFace, type FaceDetectorOptions, type FaceSelection, type PhotoFaces } from './detect.js';
export { detectFaces, pyramidScales, type Face, type MtcnnOptions, type RgbImage } from './mtcnn.js';
export { loadPhoto, decodePhoto, type Photo } from './photos.js';
export { jpegOrientation, applyOrientation } from './exif.js';
export { detectAlignFiles, listPhotos, type FileFaces } from './folder.js';
export { drawFaces } from './draw.js';
export { PNet, RNet, ONet, type PNetOutput, type RNetOutput, type ONetOutput } from './nets.js';
export { loadMtcnn, defaultMtcnnWeights, type MtcnnNets } from './weights.js';
