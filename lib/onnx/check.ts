/**
 * The check `ecacface export --onnx` runs after writing a file: the same random images through
 * the libtorch backbone and through ONNX Runtime, and the largest difference of the embeddings.
 */
import { noGrad, randn, scope } from '../tensor/index.js';
import { readOnnxModel } from './read.js';
import { OnnxNet } from './runtime.js';
import type { OnnxExportable } from './write.js';

/** What {@link compareWithOnnxRuntime} measured. */
export interface OnnxComparison {
  /** max |ONNX Runtime − libtorch| over the embeddings. */
  maxAbsDiff: number;
  /** max |libtorch| (the scale the difference is on). */
  maxAbs: number;
  images: number;
  runtimeVersion: string;
}

/** Runs `images` random normalised images through `net` (eval mode) and the ONNX file; needs onnxruntime-node. */
export async function compareWithOnnxRuntime(net: OnnxExportable, path: string, images = 2): Promise<OnnxComparison> {
  const info = readOnnxModel(path);
  const onnx = new OnnxNet(path, info.input.name, info.output.name, typeof info.input.shape[0] === 'number' ? info.input.shape[0] : null);
  const { inputChannels: c, inputSize: s } = net.spec;
  const x = randn([images, c, s, s]);
  const wasTraining = net.training;
  try {
    net.eval();
    const device = net.parameters()[0]?.device ?? 'cpu';
    const want = scope(() => noGrad(() => net.forward(x.to({ device })).to({ device: 'cpu', dtype: 'float32' }).toTypedArray())) as Float32Array;
    const out = await onnx.run(x);
    const got = out.toTypedArray() as Float32Array;
    out.dispose();
    let maxAbsDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < want.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i]! - want[i]!));
      maxAbs = Math.max(maxAbs, Math.abs(want[i]!));
    }
    return { maxAbsDiff, maxAbs, images, runtimeVersion: onnx.runtimeVersion };
  } finally {
    if (wasTraining) net.train();
    x.dispose();
    onnx.dispose();
  }
}
