/**
 * ESCA, the paper's attention: channel attention ECA followed by a spatial attention
 * on its output,
 *   y = ECA(x),  SA(y) = σ(conv3×3([avgpool3(y), maxpool3(y)])) ∈ R^{1×H×W},  ESCA(x) = y · SA(y)
 * (avg-pooled maps first, AvgPool2d(3,1,1) counting the zero padding, MaxPool2d(3,1,1), SA conv
 * 2C → 1, pad 1, no bias, no BN; no residual). Params k(C) + 18C; MACs C·k + 18·C·H·W.
 * Names `ca.conv.weight` [1, 1, k] and `sa.conv.weight` [1, 2C, 3, 3].
 * The forward calls the fused `esca()` op of lib/ops/esca.ts (native kernels with their own backward).
 * Init: both convs keep PyTorch's default init and backbone Kaiming loops skip them
 * (docs/decisions/models.md: Kaiming fan_out on the SA conv saturates most of the map at init).
 */
import { noGrad, scope, type Tensor } from '../../tensor/index.js';
import { channelAttentionGate, esca, spatialAttentionMap } from '../../ops/esca.js';
import { Conv2d } from '../conv.js';
import type { Tracer } from '../module.js';
import { Attention } from './base.js';
import { ECA, ecaKernelSize } from './eca.js';

/** ESCA's spatial half: σ(conv3×3([avgpool3(y), maxpool3(y)])), the 1×H×W map (not applied). */
export class SpatialAttention extends Attention {
  readonly kind = 'esca' as const;
  conv: Conv2d;

  constructor(channels: number) {
    super(channels);
    this.conv = this.registerModule('conv', new Conv2d(2 * channels, 1, 3, { padding: 1, bias: false }));
  }

  override get excludeFromBackboneInit(): boolean {
    return true;
  }

  /**
   * The attention map [N, 1, H, W] of `y` (the ECA output), for inspection: `ESCA.forward` applies
   * it inside the fused op and does not call this.
   */
  forward(y: Tensor): Tensor {
    this.check(y.shape);
    return spatialAttentionMap(y, this.conv.weight);
  }

  override traceShape(input: number[], tracer: Tracer): number[] {
    this.check(input);
    return tracer.run(this.conv, [input[0]!, 2 * this.channels, input[2]!, input[3]!]);
  }
}

/**
 * ESCA's two gates for one input: the channel gate σ(conv1d_k(GAP(x))) [N, C] and the spatial gate
 * σ(conv3×3([avgpool3(y), maxpool3(y)])) [N, 1, H, W] on y = ECA(x). Detached (computed without grad).
 */
export interface EscaGates {
  channel: Tensor;
  spatial: Tensor;
}

/**
 * Called by an ESCA module's forward with its gates while set as the module's `probe`
 * (lib/train/gate-stats.ts, `ecacface attention`). The gate tensors are freed when the forward's
 * scope ends: read or copy them in the call.
 */
export type GateProbe = ((block: ESCA, gates: EscaGates) => void) & {
  /** Only in training mode: eval-mode forwards (validation) neither compute nor report the gates. */
  trainingOnly?: boolean;
};

/** ESCA attention: ECA's channel gate, then the spatial gate on its output, as one fused op (file comment). */
export class ESCA extends Attention {
  readonly kind = 'esca' as const;
  ca: ECA;
  sa: SpatialAttention;
  /**
   * Observer of the gates: when set, each forward also computes the two gates (composed ATen ops,
   * no grad: one extra attention forward, so set it only on the steps that log) and passes them on.
   * The output and gradients are the same with or without a probe.
   */
  probe: GateProbe | null = null;

  constructor(channels: number, kernelSize = ecaKernelSize(channels)) {
    super(channels);
    this.ca = this.registerModule('ca', new ECA(channels, kernelSize));
    this.sa = this.registerModule('sa', new SpatialAttention(channels));
  }

  override get excludeFromBackboneInit(): boolean {
    return true;
  }

  forward(x: Tensor): Tensor {
    this.check(x.shape);
    const out = esca(x, this.ca.conv.weight, this.sa.conv.weight);
    const probe = this.probe;
    if (probe && (this.training || !probe.trainingOnly)) scope(() => probe(this, this.gates(x)));
    return out;
  }

  /** The channel and spatial gates for input `x` [N, C, H, W] (no grad; the caller frees them). */
  gates(x: Tensor): EscaGates {
    this.check(x.shape);
    return noGrad(() =>
      scope(() => {
        const [n, c] = x.shape as [number, number, number, number];
        const channel = channelAttentionGate(x, this.ca.conv.weight);
        const y = x.mul(channel.view(n, c, 1, 1));
        return { channel, spatial: spatialAttentionMap(y, this.sa.conv.weight) };
      }),
    );
  }

  override traceShape(input: number[], tracer: Tracer): number[] {
    this.check(input);
    tracer.run(this.ca, input);
    tracer.run(this.sa, input);
    return input.slice();
  }
}

/** Anything that may hold ESCA modules (an nn `Module`; other networks have none). */
export interface ModuleTree {
  namedModules?(): [string, unknown][];
}

/** The ESCA modules of a network with their block names (module path without a trailing `.attention`). */
export function escaBlocks(root: ModuleTree): { block: string; module: ESCA }[] {
  return (root.namedModules?.() ?? [])
    .filter((e): e is [string, ESCA] => e[1] instanceof ESCA)
    .map(([name, module]) => ({ block: name.replace(/\.attention$/, '') || '(root)', module }));
}
