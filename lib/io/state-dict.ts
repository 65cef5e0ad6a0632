/**
 * `loadStateDict(path)`: a state dict in our (CurricularFace / PyTorch reference) naming from a
 * safetensors file or a PyTorch `torch.save` checkpoint (CurricularFace / face.evoLVe IR layout;
 * insightface iresnet files are refused with the list of structures that do not map, see
 * layouts.ts). Pass the result to `module.loadStateDict(...)`; dispose the tensors after.
 */
import { extname } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { toOurNames } from './layouts.js';
import { extractStateDict, readTorchCheckpoint } from './pytorch.js';
import { loadSafetensors } from './safetensors.js';

/** Reads the tensors of a `.safetensors` file or a PyTorch checkpoint (`.pt`, `.pth`, `.bin`, `.tar`, …). */
export function loadStateDict(path: string): Map<string, Tensor> {
  if (extname(path).toLowerCase() === '.safetensors') return loadSafetensors(path).tensors;
  return toOurNames(extractStateDict(readTorchCheckpoint(path), path), path);
}
