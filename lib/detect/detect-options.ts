/**
 * The options of face detection, shared by the detector (detect.ts) and the photo stream
 * (stream.ts) without either importing the other's module for them.
 */
import type { MtcnnOptions } from './mtcnn.js';

/** The ways to pick faces in a photo (`select`). */
export const FACE_SELECTIONS = ['all', 'largest', 'central', 'best'] as const;
export type FaceSelection = (typeof FACE_SELECTIONS)[number];

/** Options of `FaceDetector.detect` and `detectStream`. */
export interface DetectOptions extends MtcnnOptions {
  /**
   * 'all' (default): every face, by descending score; 'largest': the face with the largest box;
   * 'central': the face whose box centre is nearest the photo centre; 'best': the highest score.
   */
  select?: FaceSelection;
}
