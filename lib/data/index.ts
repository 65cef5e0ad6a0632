/**
 * The `data` namespace: datasets (insightface RecordIO, image folders, `.bin` pair sets) and
 * packing, native image codecs, the batch loader, and the restricted unpickler.
 */
export { openRecordIO, type RecordIODataset, type RecordIOPaths, type OpenRecordIOOptions } from './recordio.js';
export { writeRecordIO, type RecordIOInput, type WriteRecordIOOptions, type WriteRecordIOResult } from './recordio-writer.js';
export { RecordIOError } from './recordio-format.js';
export { openImageFolder, type ImageFolderDataset } from './image-folder.js';
export type { SkippedEntry } from '../io/folder-entries.js';
export { readBin, parseBin, writeBin, encodeBin, type PairSet, type WriteBinOptions } from './bin.js';
export { decode, encodeJpeg, encodePng, codecs, type DecodedImage } from './codec.js';
export { imageDimensions } from './image-size.js';
export { loader, type Loader, type LoaderOptions, type LoaderPosition, type Batch, type BadRecord } from './loader.js';
export { unpickle, isTuple, PickleError, type UnpickleOptions, type PickleCallable } from '../io/pickle.js';
export type { ImageDataset, Sample } from './dataset.js';
