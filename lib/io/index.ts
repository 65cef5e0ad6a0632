/** The `io` layer: safetensors, PyTorch checkpoints (read-only, restricted), model cards. */
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
export { detectLayout, mapInsightfaceStateDict, toOurNames, type CheckpointLayout, type InsightfaceMapping } from './layouts.js';
export { loadStateDict } from './state-dict.js';
export {
  readModelCard,
  writeModelCard,
  parseModelCard,
  thresholdFromDistance,
  DEFAULT_INPUT,
  type ModelCard,
  type ModelCardValidation,
} from './model-card.js';
