/**
 * The `data` namespace: datasets (insightface RecordIO, image folders, `.bin` pair sets), native
 * image codecs, the batch loader, and the restricted unpickler.
 */
export { openRecordIO, parseIdx, type IdxIndex, labelOf, readRawRecord, type RecordIODataset, type RecordIOPaths, type OpenRecordIOOptions } from './recordio.js';
export { writeRecordIO, type RecordIOInput, type WriteRecordIOOptions, type WriteRecordIOResult } from './recordio-writer.js';
export { encodeRecord, readRecordAt, parseIRHeader, packIR, RecordIOError, RECORD_MAGIC, type IRRecord } from './recordio-format.js';
export { openImageFolder, type ImageFolderDataset } from './image-folder.js';
export { readBin, parseBin, writeBin, encodeBin, type PairSet, type WriteBinOptions } from './bin.js';
export { decode, encodeJpeg, encodePng, codecs, type DecodedImage } from './codec.js';
export { imageDimensions } from './image-size.js';
export { loader, epochPermutation, type Loader, type LoaderOptions, type LoaderPosition, type Batch, type BadRecord } from './loader.js';
export { unpickle, isTuple, PickleError, type UnpickleOptions, type PickleCallable } from './pickle.js';
export type { ImageDataset, Sample } from './dataset.js';
