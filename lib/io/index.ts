/** The `io` namespace: safetensors, PyTorch checkpoints (read-only, restricted), model cards, TensorBoard event files. */
export {
  loadSafetensors,
  saveSafetensors,
  serializeSafetensors,
  parseSafetensors,
  readSafetensorsHeader,
  SafetensorsError,
  type SafetensorsHeader,
  type SafetensorsEntry,
  type TensorSource,
} from './safetensors.js';
export { readTorchCheckpoint, extractStateDict, CheckpointError, type CheckpointValue } from './pytorch.js';
export { mapInsightfaceStateDict, type InsightfaceMapping } from './layouts.js';
export { loadStateDict } from './state-dict.js';
export { readModelCard, writeModelCard, parseModelCard, type ModelCard, type ModelCardValidation } from './model-card.js';
export { EventFileWriter, type EventContent, type ScalarValue } from './tfevents.js';
