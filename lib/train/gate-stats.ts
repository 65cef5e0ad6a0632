/**
 * ESCA gate statistics, a training metric: per ESCA block, the mean of the channel gate σ and of the
 * spatial gate σ, and the share of gate values below 0.01 and above 0.99. Saturated gates (shares
 * near 1) are how ESCA collapses at too high a learning rate (docs/training.md, "The demo"): the
 * block then passes a constant or nothing, and every face gets the same embedding.
 *
 * The trainer collects them on logging steps only (config `gateStats`): for those forwards each
 * ESCA module gets a probe that recomputes its two gates without grad (one extra attention forward
 * per block) and reduces them to six numbers on the device; the numbers of all blocks are read
 * with one transfer at the end of the step. Other steps run untouched.
 */
import { escaBlocks, type ESCA, type EscaGates, type GateProbe, type ModuleTree } from '../nn/attention/esca.js';
import { stack } from '../tensor/creation.js';
import { persist, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

/** Gate values below this count as closed. */
export const GATE_LOW = 0.01;
/** Gate values above this count as fully open. */
export const GATE_HIGH = 0.99;

/** One gate's summary over a batch. */
export interface GateSummary {
  /** Mean gate value σ̄ in [0, 1]. */
  mean: number;
  /** Share of gate values below {@link GATE_LOW}. */
  low: number;
  /** Share of gate values above {@link GATE_HIGH}. */
  high: number;
}

/** The gate statistics of one ESCA block. */
export interface BlockGateStats {
  /** The block's module path in the backbone (e.g. `conv_45`, `body.3.res_layer.5`). */
  block: string;
  /** Channel gate σ(conv1d(GAP(x))): N·C values. */
  channel: GateSummary;
  /** Spatial gate σ(conv3×3(…)): N·H·W values. */
  spatial: GateSummary;
}

/** [mean, share < low, share > high] of a gate tensor, as float32 (stays on the device). */
function summaryTensor(g: Tensor): Tensor {
  const f = g.float();
  return stack([f.mean(), f.lt(GATE_LOW).float().mean(), f.gt(GATE_HIGH).float().mean()]);
}

/**
 * Collects gate statistics of a network's ESCA blocks over the forwards run inside {@link collect}.
 * A block run several times in one collection (not the case in the backbones) reports its last call.
 */
export class GateStatsCollector {
  private readonly blocks: { block: string; module: ESCA }[];

  constructor(root: ModuleTree) {
    this.blocks = escaBlocks(root);
  }

  /** Number of ESCA blocks (0: nothing to collect). */
  get size(): number {
    return this.blocks.length;
  }

  /** True while probes are set (between {@link arm} and {@link harvest}). */
  get armed(): boolean {
    return this.previous !== null;
  }

  private pending = new Map<ESCA, Tensor>();
  private previous: (GateProbe | null)[] | null = null;

  /**
   * Sets the probes: the ESCA forwards from now until {@link harvest} record their gate
   * statistics (on the device; nothing is read back yet). Arming twice is a no-op.
   * `trainingOnly`: forwards in eval mode (validation) are left alone.
   */
  arm(options: { trainingOnly?: boolean } = {}): void {
    if (this.previous) return;
    const probe: GateProbe = (m: ESCA, g: EscaGates): void => {
      const t = scope(() => cat2(summaryTensor(g.channel), summaryTensor(g.spatial)));
      this.pending.get(m)?.dispose();
      this.pending.set(m, persist(t));
    };
    probe.trainingOnly = options.trainingOnly ?? false;
    this.previous = this.blocks.map((b) => b.module.probe);
    for (const b of this.blocks) b.module.probe = probe;
  }

  /** Removes the probes and returns the statistics of the blocks that ran since {@link arm}, in network order. */
  harvest(): BlockGateStats[] {
    if (this.previous) this.blocks.forEach((b, i) => (b.module.probe = this.previous![i]!));
    this.previous = null;
    const pending = this.pending;
    this.pending = new Map();
    const ran = this.blocks.filter((b) => pending.has(b.module));
    let values: Float32Array | null = null;
    try {
      if (ran.length) values = scope(() => stack(ran.map((b) => pending.get(b.module)!)).cpu().toTypedArray() as Float32Array);
    } finally {
      for (const t of pending.values()) t.dispose();
    }
    return ran.map((b, i): BlockGateStats => {
      const v = values!.subarray(i * 6, i * 6 + 6);
      return { block: b.block, channel: { mean: v[0]!, low: v[1]!, high: v[2]! }, spatial: { mean: v[3]!, low: v[4]!, high: v[5]! } };
    });
  }

  /**
   * Runs `fn` (synchronous: a forward, or a whole training step) with probes on every ESCA block;
   * returns its result and the statistics of the blocks that ran.
   */
  collect<R>(fn: () => R): { result: R; stats: BlockGateStats[] } {
    this.arm();
    let result: R;
    try {
      result = fn();
    } catch (err) {
      this.harvest();
      throw err;
    }
    return { result, stats: this.harvest() };
  }
}

function cat2(a: Tensor, b: Tensor): Tensor {
  return stack([a, b]).view(6);
}

/** Blocks with a gate whose values are mostly (> `share`) saturated at either end. */
export function saturatedGates(stats: readonly BlockGateStats[], share = 0.5): string[] {
  const out: string[] = [];
  for (const s of stats) {
    for (const kind of ['channel', 'spatial'] as const) {
      const g = s[kind];
      if (g.low > share) out.push(`${s.block}.${kind} (${(g.low * 100).toFixed(0)}% < ${GATE_LOW})`);
      else if (g.high > share) out.push(`${s.block}.${kind} (${(g.high * 100).toFixed(0)}% > ${GATE_HIGH})`);
    }
  }
  return out;
}

/** The console's short form: `gates: 13/30 saturated` (each block has a channel and a spatial gate). */
export function gateSummary(stats: readonly BlockGateStats[]): string {
  return `gates: ${saturatedGates(stats).length}/${2 * stats.length} saturated`;
}

/**
 * Whether the network has collapsed as the demo at too high a learning rate does: every ESCA block
 * has a saturated gate, so each passes a constant or nothing and every face gets the same
 * embedding (docs/training.md, "The demo").
 */
export function gatesCollapsed(stats: readonly BlockGateStats[]): boolean {
  return stats.length > 0 && stats.every((s) => saturatedGates([s]).length > 0);
}

/** One line for a log: the range of σ̄ over the blocks per gate, and saturated gates if any. */
export function formatGateStats(stats: readonly BlockGateStats[]): string {
  if (stats.length === 0) return 'esca gates: –';
  const range = (k: 'channel' | 'spatial') => {
    const m = stats.map((s) => s[k].mean);
    return `${Math.min(...m).toFixed(3)}–${Math.max(...m).toFixed(3)}`;
  };
  const sat = saturatedGates(stats);
  return `esca gates (${stats.length} blocks): channel σ̄ ${range('channel')}  spatial σ̄ ${range('spatial')}  saturated: ${sat.length ? sat.join(', ') : 'none'}`;
}
