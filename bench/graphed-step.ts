/**
 * A whole train step (forward, loss, backward, optimizer step) captured once as a CUDA graph
 * (lib/tensor/cuda-graph.ts) and replayed per batch: the per-op launch and host cost, which
 * dominates small batches on a fast GPU, is paid once at capture.
 *
 *   using gs = GraphedTrainStep.create({ inputs: [x, y], step: () => trainStepOn(x, y), optimizer });
 *   for (const [bx, by] of batches) { const loss = gs.run([bx, by]); … loss.item() … }
 *
 * `step` must use only `inputs` as its data, return the loss as a CUDA tensor (never call
 * `item()` inside), and must not clear gradients (the graph overwrites them on every replay).
 * `create` first runs `warmup` eager steps (cuDNN autotuning, lazy initialisation, the
 * optimizer's momentum buffers: created inside a capture they would be re-initialised on every
 * replay), clears the gradients, then captures one step. The learning rate and every other
 * number the step passes to ops are frozen at capture: a schedule needs a new capture when it
 * changes the rate (or steps on a constant rate). Needs a CUDA build and a GPU.
 */
import { CudaGraph } from '../lib/tensor/cuda-graph.js';
import { persist, scope } from '../lib/tensor/scope.js';
import type { Tensor } from '../lib/tensor/tensor.js';
import { checkInt } from '../lib/check.js';

/** Options of {@link GraphedTrainStep.create}. */
export interface GraphedStepOptions {
  /** The static input tensors (on the device) that `step` reads; `run` copies each batch into them. */
  inputs: Tensor[];
  /** One train step on `inputs`, returning the loss tensor; no host synchronisation inside. */
  step: () => Tensor;
  /** Clears every gradient (`optimizer.zeroGrad()`): called after each warm-up step and before capture. */
  zeroGrad: () => void;
  /** Eager steps before the capture (default 3, at least 1). */
  warmup?: number;
  /** CUDA device (default 0). */
  device?: number;
}

/** A captured train step. Dispose it to free the graph and the loss tensor. */
export class GraphedTrainStep implements Disposable {
  readonly #graph: CudaGraph;
  readonly #inputs: Tensor[];
  readonly #loss: Tensor;

  private constructor(graph: CudaGraph, inputs: Tensor[], loss: Tensor) {
    this.#graph = graph;
    this.#inputs = inputs;
    this.#loss = loss;
  }

  static create(options: GraphedStepOptions): GraphedTrainStep {
    const warmup = checkInt('GraphedTrainStep: warmup', options.warmup ?? 3, 1);
    for (let i = 0; i < warmup; i++) {
      scope(() => {
        options.step();
      });
      options.zeroGrad();
    }
    let loss: Tensor | null = null;
    const graph = CudaGraph.capture(
      () => {
        loss = persist(scope(() => options.step())); // owned by the GraphedTrainStep
      },
      { device: options.device ?? 0 },
    );
    return new GraphedTrainStep(graph, options.inputs, loss!);
  }

  /**
   * Copies `batch` (one tensor per static input, same shapes) into the inputs, replays the step
   * and returns the loss tensor (the same tensor every time, overwritten by each replay; read it
   * with `item()` before the next `run`).
   */
  run(batch: Tensor[]): Tensor {
    if (batch.length !== this.#inputs.length) {
      throw new RangeError(`GraphedTrainStep.run: expected ${this.#inputs.length} tensors, got ${batch.length}`);
    }
    batch.forEach((b, i) => {
      const s = this.#inputs[i]!;
      if (b !== s) s.copy_(b);
    });
    this.#graph.replay();
    return this.#loss;
  }

  /** The loss tensor the graph writes. */
  get loss(): Tensor {
    return this.#loss;
  }

  dispose(): void {
    this.#graph.dispose();
    this.#loss.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
