/**
 * CUDA graphs: record a sequence of CUDA work once (a whole train step: forward, loss, backward,
 * optimizer step) and replay it per batch with one launch, which removes the per-op launch and
 * host cost that dominates small batches. libtorch's `at::cuda::CUDAGraph` (native/ops/cuda_graph.cc).
 *
 * Rules (CUDA's and PyTorch's): the captured function must not synchronise with the host (no
 * `item()`, no copies to the CPU, no data-dependent control flow) and must take its inputs from
 * tensors whose storage stays the same — copy each new batch into the same static input tensors
 * before `replay()`. Tensors the capture creates (outputs, gradients, optimizer state) keep their
 * memory and are overwritten by every replay. Numbers passed to ops during capture (a learning
 * rate given as a number, for instance) are frozen into the graph. Run the function eagerly a
 * few times before capturing (cuDNN autotuning, lazy initialisation, optimizer state).
 *
 * Needs a CUDA build and a GPU; in a CPU build `capture` throws "this build of ecacface-torch has
 * no CUDA support".
 */
import { native, type NativeCudaGraph } from '../native.js';
import { checkInt } from '../check.js';

/** A captured CUDA graph. Dispose it (or `using`) to free its memory pool. */
export class CudaGraph implements Disposable {
  #graph: NativeCudaGraph | null;

  private constructor(graph: NativeCudaGraph) {
    this.#graph = graph;
  }

  /**
   * Captures the CUDA work of `fn` on `device` (default 0). Nothing of it runs during capture;
   * `replay()` runs it. If `fn` throws, the capture is abandoned and the error rethrown.
   */
  static capture(fn: () => void, options: { device?: number } = {}): CudaGraph {
    const device = checkInt('CudaGraph.capture: device', options.device ?? 0, 0);
    const g = native.cudaGraphBegin(device);
    try {
      fn();
      native.cudaGraphEnd(g);
    } catch (e) {
      native.cudaGraphDispose(g);
      throw e;
    }
    return new CudaGraph(g);
  }

  /** Runs the captured work once (asynchronously, on the current CUDA stream). */
  replay(): void {
    if (this.#graph === null) throw new Error('CudaGraph: replay after dispose');
    native.cudaGraphReplay(this.#graph);
  }

  get isDisposed(): boolean {
    return this.#graph === null;
  }

  dispose(): void {
    if (this.#graph === null) return;
    native.cudaGraphDispose(this.#graph);
    this.#graph = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
