/**
 * Running an ONNX model in ONNX Runtime (onnxruntime-node, an optional peer dependency): loaded on
 * first need with a clear error when it is not installed. Only the few members used here are
 * typed, so that the package's typings do not depend on onnxruntime-node being installed.
 */
import { createRequire } from 'node:module';
import { tensor } from '../tensor/creation.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

/** The part of an ONNX Runtime tensor used here. */
interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
  readonly type: string;
}
/** The part of an ONNX Runtime session used here. */
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
/** The part of the onnxruntime-node module used here. */
export interface OrtModule {
  InferenceSession: { create(path: string, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  env: { versions: Record<string, string | undefined> };
}

const requireHere = createRequire(import.meta.url);
let cached: OrtModule | undefined;

/**
 * The onnxruntime-node module, or an Error that says how to install it. `name` is for tests
 * (a module that is not installed).
 */
export function onnxRuntime(what: string, name = 'onnxruntime-node'): OrtModule {
  if (name === 'onnxruntime-node' && cached) return cached;
  let mod: OrtModule;
  try {
    mod = requireHere(name) as OrtModule;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'MODULE_NOT_FOUND' && err.message.includes(name)) {
      throw new Error(
        `${what} needs ONNX Runtime, an optional peer dependency that is not installed: npm install onnxruntime-node ` +
          `(its CPU binaries are in the npm package; ONNXRUNTIME_NODE_INSTALL=skip skips its download of the CUDA ones)`,
      );
    }
    throw new Error(`${what}: onnxruntime-node is installed but does not load here: ${err.message}`);
  }
  if (name === 'onnxruntime-node') cached = mod;
  return mod;
}

/** True when onnxruntime-node loads. */
export function hasOnnxRuntime(): boolean {
  try {
    onnxRuntime('check');
    return true;
  } catch {
    return false;
  }
}

/** Options of {@link OnnxNet}. */
export interface OnnxNetOptions {
  /** ONNX Runtime session options (execution providers, threads, …), passed as they are. */
  sessionOptions?: Record<string, unknown>;
}

/**
 * An ONNX model file run by ONNX Runtime: [N, C, S, S] float32 images → [N, E] embeddings. The
 * session is created on the first {@link run} (ONNX Runtime creates sessions asynchronously).
 */
export class OnnxNet {
  readonly #ort: OrtModule;
  #session: Promise<OrtSession> | undefined;
  #disposed = false;

  /**
   * @param path the .onnx file (its external data, if any, beside it)
   * @param input the graph input's name; @param output the output's name
   * @param batch the batch size fixed in the file, or null when the batch axis is dynamic
   */
  constructor(
    readonly path: string,
    readonly input: string,
    readonly output: string,
    readonly batch: number | null,
    readonly options: OnnxNetOptions = {},
  ) {
    this.#ort = onnxRuntime(`the ONNX model ${path}`);
  }

  /** onnxruntime-node's version. */
  get runtimeVersion(): string {
    return this.#ort.env.versions.node ?? this.#ort.env.versions.common ?? 'unknown';
  }

  #sessionNow(): Promise<OrtSession> {
    if (this.#disposed) return Promise.reject(new Error(`the ONNX model ${this.path} has been disposed`));
    this.#session ??= this.#ort.InferenceSession.create(this.path, this.options.sessionOptions ?? {}).catch((e: unknown) => {
      this.#session = undefined;
      throw new Error(`ONNX Runtime cannot load ${this.path}: ${(e as Error).message}`);
    });
    return this.#session;
  }

  /** Embeddings [N, E] (CPU float32) of images `x` [N, C, S, S] (any device and float dtype). */
  async run(x: Tensor): Promise<Tensor> {
    const session = await this.#sessionNow();
    const shape = x.shape;
    const n = shape[0]!;
    const per = shape.slice(1).reduce((a, b) => a * b, 1);
    const data = scope(() => x.to({ device: 'cpu', dtype: 'float32' }).contiguous().toTypedArray()) as Float32Array;
    const chunk = this.batch ?? n;
    const parts: Float32Array[] = [];
    let width = 0;
    for (let start = 0; start < n; start += chunk) {
      const count = Math.min(chunk, n - start);
      // a file with a fixed batch gets full batches: the last one is padded with zeros
      const feed = new Float32Array(chunk * per);
      feed.set(data.subarray(start * per, (start + count) * per));
      const out = (await session.run({ [this.input]: new this.#ort.Tensor('float32', feed, [chunk, ...shape.slice(1)]) }))[this.output];
      if (!out || out.type !== 'float32' || out.dims.length !== 2 || out.dims[0] !== chunk) {
        throw new Error(`ONNX model ${this.path}: output '${this.output}' is ${out ? `${out.type} [${out.dims.join(', ')}]` : 'missing'}, expected float32 [${chunk}, E]`);
      }
      width = out.dims[1]!;
      parts.push((out.data as Float32Array).slice(0, count * width));
    }
    const all = new Float32Array(n * width);
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    return tensor(all, { shape: [n, width] });
  }

  /** Releases the ONNX Runtime session. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const s = this.#session;
    this.#session = undefined;
    void s?.then((session) => session.release(), () => undefined);
  }
}
