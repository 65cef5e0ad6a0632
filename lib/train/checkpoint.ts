/**
 * Checkpoint files: named tensors plus string metadata in one safetensors file, written
 * atomically (lib/io/safetensors.ts and lib/io/atomic.ts do the work).
 */
export { writeFileAtomic } from '../io/atomic.js';
export { saveSafetensors as saveTensors, loadSafetensors as loadTensors } from '../io/safetensors.js';
