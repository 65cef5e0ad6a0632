/**
 * A model in a worker thread, for Node services: the forward pass is a sequence of libtorch ops
 * called from JS, so {@link FaceModel.embed} keeps the calling thread busy while a batch runs.
 * {@link loadModelInWorker} loads the model in a `worker_threads` Worker (the addon keeps
 * per-environment state, so it loads there too) and forwards `embed`/`compare` to it; the main
 * event loop stays free. Embeddings come back as transferred Float32Arrays (no copy).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../native.js';
import type { ModelCard } from '../io/model-card.js';
import type { FaceImage } from './images.js';
import type { Comparison, EmbedOptions, LoadModelOptions } from './model.js';

/** The worker-side model: same `embed`/`compare` as {@link FaceModel}, all asynchronous. */
export interface WorkerFaceModel {
  readonly card: ModelCard;
  embed(images: FaceImage | readonly FaceImage[], options?: Omit<EmbedOptions, 'onProgress'>): Promise<Float32Array[]>;
  compare(a: FaceImage | Float32Array, b: FaceImage | Float32Array, options?: Omit<EmbedOptions, 'onProgress'> & { threshold?: number }): Promise<Comparison>;
  /** Frees the model and stops the worker. */
  close(): Promise<void>;
}

/** The compiled model module (dist/lib/eval/model.js), also when this file runs from TypeScript sources. */
function modelModuleUrl(): string {
  const sibling = fileURLToPath(new URL('./model.js', import.meta.url));
  if (existsSync(sibling)) return pathToFileURL(sibling).href;
  const built = join(packageRoot(), 'dist', 'lib', 'eval', 'model.js');
  if (!existsSync(built)) throw new Error(`loadModelInWorker: ${built} is missing (build the package: npx tsc -p tsconfig.json)`);
  return pathToFileURL(built).href;
}

const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.module).then((mod) => {
  let model;
  try {
    model = mod.loadModel(workerData.path, workerData.options);
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: e && e.message || String(e) });
    return;
  }
  parentPort.postMessage({ type: 'ready', card: model.card });
  parentPort.on('message', async (m) => {
    if (m.op === 'close') { model.dispose(); parentPort.postMessage({ id: m.id, result: null }); return; }
    try {
      if (m.op === 'embed') {
        const out = await model.embed(m.images, m.options);
        parentPort.postMessage({ id: m.id, result: out }, out.map((a) => a.buffer));
      } else if (m.op === 'compare') {
        parentPort.postMessage({ id: m.id, result: await model.compare(m.a, m.b, m.options) });
      } else throw new Error('unknown operation ' + m.op);
    } catch (e) {
      parentPort.postMessage({ id: m.id, error: e && e.message || String(e) });
    }
  });
}).catch((e) => parentPort.postMessage({ type: 'error', message: String(e && e.stack || e) }));
`;

/**
 * Loads a model (as {@link loadModel}) in a worker thread.
 * @example
 * const model = await loadModelInWorker('models/ecacface-ir50');
 * const [a, b] = await model.embed(['a.jpg', 'b.jpg']);   // the event loop keeps serving meanwhile
 * await model.close();
 */
export function loadModelInWorker(path: string, options: LoadModelOptions = {}): Promise<WorkerFaceModel> {
  const worker = new Worker(WORKER_CODE, { eval: true, workerData: { module: modelModuleUrl(), path, options } });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let closed = false;
  const call = <T>(msg: Record<string, unknown>): Promise<T> => {
    if (closed) return Promise.reject(new Error('loadModelInWorker: the model was closed'));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...msg, id });
    });
  };
  return new Promise((resolve, reject) => {
    const failAll = (e: Error): void => {
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    };
    worker.on('error', (e) => {
      failAll(e);
      reject(e);
    });
    worker.on('exit', (code) => {
      closed = true;
      failAll(new Error(`loadModelInWorker: the worker exited (code ${code})`));
    });
    worker.on('message', (m: { type?: string; card?: ModelCard; message?: string; id?: number; result?: unknown; error?: string }) => {
      if (m.type === 'error') {
        reject(new Error(m.message));
        void worker.terminate();
        return;
      }
      if (m.type === 'ready') {
        resolve({
          card: m.card!,
          embed: (images, opts = {}) => call<Float32Array[]>({ op: 'embed', images: Array.isArray(images) ? images : [images], options: opts }),
          compare: (a, b, opts = {}) => call<Comparison>({ op: 'compare', a, b, options: opts }),
          close: async () => {
            if (closed) return;
            await call({ op: 'close' });
            closed = true;
            await worker.terminate();
          },
        });
        return;
      }
      const p = pending.get(m.id!);
      if (!p) return;
      pending.delete(m.id!);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
  });
}
