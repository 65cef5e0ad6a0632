/**
 * SGD with momentum and weight decay, stepped natively over every parameter in one call.
 *
 * The rule is torch.optim.SGD's exactly (dampening 0 and no Nesterov by default):
 * `g ← grad + wd·p; buf ← g (first step) | μ·buf + (1−dampening)·g; p ← p − lr·buf`.
 * Parameter groups carry their own lr / weight decay (CurricularFace: no weight decay on BN affine
 * parameters); the learning rate is set from TypeScript (see {@link SGD.setLr} and `schedule.ts`).
 */
import { native, type NativeTensor } from '../native.js';
import { Tensor, handleOf, wrap } from '../tensor/tensor.js';
import { numberProblem } from '../check.js';

/** One parameter group: its tensors and optional per-group hyper-parameters. */
export interface ParamGroupInput {
  params: Tensor[];
  lr?: number;
  weightDecay?: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** A name for logs and state dicts (e.g. 'decay', 'no_decay'). */
  name?: string;
}

/** A resolved parameter group. */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
  weightDecay: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  name: string;
}

/** Defaults for every group (a group's own fields win). */
export interface SGDOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
  dampening?: number;
  nesterov?: boolean;
}

/** Serialisable optimizer state: hyper-parameters per group and the momentum buffers by flat parameter index. */
export interface SGDState {
  groups: { name: string; lr: number; weightDecay: number; momentum: number; dampening: number; nesterov: boolean; size: number }[];
  /** Momentum buffer of flat parameter i (groups in order), or null before its first step. */
  momentumBuffers: (Tensor | null)[];
  steps: number;
}

function checkHyper(where: string, g: { lr: number; momentum: number; weightDecay: number; dampening: number; nesterov: boolean }): void {
  const bad: string[] = [
    numberProblem('lr', g.lr, { min: 0 }),
    numberProblem('momentum', g.momentum, { min: 0 }),
    numberProblem('weightDecay', g.weightDecay, { min: 0 }),
    numberProblem('dampening', g.dampening),
  ].filter((p) => p !== null);
  if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) bad.push('nesterov requires momentum > 0 and dampening = 0');
  if (bad.length) throw new RangeError(`SGD ${where}: ${bad.join('; ')}`);
}

/** Stochastic gradient descent with momentum (PyTorch semantics), one native call per step. */
export class SGD {
  readonly paramGroups: ParamGroup[];
  /** Momentum buffers as raw native handles (owned here, outside every scope), by flat parameter index. */
  #buffers: (NativeTensor | null)[];
  #steps = 0;

  constructor(params: Tensor[] | ParamGroupInput[], options: SGDOptions) {
    const inputs: ParamGroupInput[] =
      params.length > 0 && params[0] instanceof Tensor ? [{ params: params as Tensor[] }] : (params as ParamGroupInput[]);
    const seen = new Set<Tensor>();
    this.paramGroups = inputs.map((g, i) => {
      const group: ParamGroup = {
        params: [...g.params],
        lr: g.lr ?? options.lr,
        weightDecay: g.weightDecay ?? options.weightDecay ?? 0,
        momentum: g.momentum ?? options.momentum ?? 0,
        dampening: g.dampening ?? options.dampening ?? 0,
        nesterov: g.nesterov ?? options.nesterov ?? false,
        name: g.name ?? `group${i}`,
      };
      checkHyper(`param group ${i} ('${group.name}')`, group);
      group.params.forEach((p, j) => {
        handleOf(p, `params[${i}][${j}]`);
        if (seen.has(p)) throw new Error(`SGD: a parameter appears twice (group '${group.name}', index ${j})`);
        seen.add(p);
      });
      return group;
    });
    const n = this.paramGroups.reduce((a, g) => a + g.params.length, 0);
    this.#buffers = new Array<NativeTensor | null>(n).fill(null);
  }

  /** Number of steps taken (restored by {@link loadStateDict}). */
  get steps(): number {
    return this.#steps;
  }

  /** Sets the learning rate of every group. */
  setLr(lr: number): void {
    for (const g of this.paramGroups) g.lr = lr;
    this.paramGroups.forEach((g, i) => checkHyper(`param group ${i}`, g));
  }
  /** Learning rate of the first group. */
  get lr(): number {
    return this.paramGroups[0]?.lr ?? 0;
  }
  set lr(v: number) {
    this.setLr(v);
  }

  /**
   * Applies one update from the accumulated gradients (parameters without a gradient are skipped).
   * Groups that share lr/momentum/dampening/nesterov (the usual case: they differ in weight decay
   * only) go to the native step together: one native call for the whole model.
   */
  step(): void {
    const batches = new Map<string, { handles: NativeTensor[]; wds: number[]; idx: number[]; g: ParamGroup }>();
    let offset = 0;
    for (const g of this.paramGroups) {
      const key = `${g.lr}|${g.momentum}|${g.dampening}|${g.nesterov}`;
      let b = batches.get(key);
      if (!b) batches.set(key, (b = { handles: [], wds: [], idx: [], g }));
      g.params.forEach((p, j) => {
        b!.handles.push(p.handle);
        b!.wds.push(g.weightDecay);
        b!.idx.push(offset + j);
      });
      offset += g.params.length;
    }
    for (const b of batches.values()) {
      const bufs = b.idx.map((i) => this.#buffers[i] ?? null);
      const created = native.sgdStep(b.handles, bufs, b.wds, b.g.lr, b.g.momentum, b.g.dampening, b.g.nesterov);
      created.forEach((h, j) => {
        if (h) this.#buffers[b.idx[j]!] = h;
      });
    }
    this.#steps++;
  }

  /** Clears every parameter's gradient (sets it to undefined, as `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) native.clearGrad(p.handle);
  }

  /**
   * The state to checkpoint. The momentum buffers are new handles sharing the optimizer's storage
   * (no copy): serialise them before the next step, then dispose them (or let a scope do it).
   */
  stateDict(): SGDState {
    return {
      groups: this.paramGroups.map((g) => ({
        name: g.name,
        lr: g.lr,
        weightDecay: g.weightDecay,
        momentum: g.momentum,
        dampening: g.dampening,
        nesterov: g.nesterov,
        size: g.params.length,
      })),
      momentumBuffers: this.#buffers.map((h) => (h === null ? null : wrap(native.detach(h)))),
      steps: this.#steps,
    };
  }

  /** Restores hyper-parameters and momentum buffers (copied) from {@link stateDict}. */
  loadStateDict(state: SGDState): void {
    if (state.groups.length !== this.paramGroups.length) {
      throw new Error(`SGD.loadStateDict: the state has ${state.groups.length} param groups, this optimizer ${this.paramGroups.length}`);
    }
    state.groups.forEach((s, i) => {
      const g = this.paramGroups[i]!;
      if (s.size !== g.params.length) {
        throw new Error(`SGD.loadStateDict: param group ${i} ('${g.name}') has ${g.params.length} parameters, the state ${s.size}`);
      }
    });
    if (state.momentumBuffers.length !== this.#buffers.length) {
      throw new Error(`SGD.loadStateDict: ${state.momentumBuffers.length} momentum buffers for ${this.#buffers.length} parameters`);
    }
    const flat = this.paramGroups.flatMap((g) => g.params);
    state.momentumBuffers.forEach((b, i) => {
      if (b !== null) {
        const want = flat[i]!.shape.join('x');
        if (b.shape.join('x') !== want) throw new Error(`SGD.loadStateDict: momentum buffer ${i} has shape [${b.shape}] but parameter ${i} has [${flat[i]!.shape}]`);
      }
    });
    this.disposeBuffers();
    state.groups.forEach((s, i) => {
      const g = this.paramGroups[i]!;
      Object.assign(g, { lr: s.lr, weightDecay: s.weightDecay, momentum: s.momentum, dampening: s.dampening, nesterov: s.nesterov });
    });
    state.momentumBuffers.forEach((b, i) => {
      if (b === null) return;
      const onDevice = native.to(b.handle, null, flat[i]!.device, false);
      this.#buffers[i] = native.clone(onDevice);
      native.dispose(onDevice);
    });
    this.#steps = state.steps;
  }

  private disposeBuffers(): void {
    for (const h of this.#buffers) if (h !== null) native.dispose(h);
    this.#buffers.fill(null);
  }

  /** Frees the momentum buffers. */
  dispose(): void {
    this.disposeBuffers();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}
