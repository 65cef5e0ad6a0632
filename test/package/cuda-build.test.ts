/**
 * The CUDA build on a machine without a GPU (the CUDA link lane, `npm run check:cuda-link`, runs
 * this file against the addon built with CUDA against PyTorch 2.14.1+cu130): CUDA is compiled in
 * — the .cu kernels for sm_80/90/100, the CUDA halves of the .cc files, NCCL, CUDA graphs — no
 * device is present, asking for one fails naming that, and the CPU still trains.
 * Skipped where the addon that loads has no CUDA compiled in (the other lanes).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chooseAddon, packageRoot } from '../../lib/native-load.js';
import { buildInfo, cuda, CudaGraph, manualSeed, noGrad, randn, scope, tensor, zeros } from '../../lib/tensor/index.js';
import { distributed, heads, models, SGD } from '../../lib/index.js';

const compiledIn = buildInfo().cuda;
const choice = chooseAddon(packageRoot(), process.env, false);

describe.runIf(compiledIn)('the CUDA build, with no GPU', () => {
  it('has CUDA compiled in, reports no device, and says "no CUDA device" when one is asked for', () => {
    expect(buildInfo().cuda).toBe(true);
    expect(cuda.isAvailable()).toBe(false);
    expect(() => zeros([1], { device: 'cuda' })).toThrow(/there is no CUDA device: this addon has CUDA compiled in/);
    expect(() => randn([2, 2]).to('cuda:0')).toThrow(/no CUDA device/);
  });

  it('has NCCL and CUDA graphs compiled in (their CUDA halves answer, not the CPU-build refusal)', () => {
    expect(distributed.availableBackends()).toEqual(expect.arrayContaining(['gloo', 'nccl']));
    expect(() => CudaGraph.capture(() => {})).toThrow(/no CUDA device 0/);
  });

  it.runIf(choice.kind === 'source' && existsSync(join(dirname(dirname(choice.path)), 'compile_commands.json')))(
    'compiles every .cu kernel for sm_80, sm_90 and sm_100, and the .cc files with ECF_WITH_CUDA',
    () => {
      const commands = JSON.parse(readFileSync(join(dirname(dirname(choice.path)), 'compile_commands.json'), 'utf8')) as { file: string; command: string }[];
      const cu = commands.filter((c) => c.file.endsWith('.cu'));
      expect(cu.length).toBeGreaterThanOrEqual(2);
      for (const c of cu) for (const sm of ['80', '90', '100']) expect(c.command, `${c.file} sm_${sm}`).toMatch(new RegExp(`sm_${sm}\\b`));
      const cc = commands.filter((c) => c.file.endsWith('.cc'));
      for (const c of cc) expect(c.command, c.file).toMatch(/-DECF_WITH_CUDA=1/);
      const pg = cc.find((c) => c.file.endsWith('distributed/process_group.cc'))!;
      expect(pg.command).toMatch(/nvidia\/nccl\/include/);
    },
  );

  it('trains on the CPU: one forward, backward and SGD step of MobileFaceNet + ESCA with CurricularFace', () => {
    manualSeed(7);
    const net = models.backbone({ arch: 'mobilefacenet', attention: 'esca', embeddingSize: 32 });
    const head = heads.create({ type: 'curricularface', embeddingSize: 32, numClasses: 5 });
    const params = [...net.parameters(), ...head.parameters()];
    const opt = new SGD(params, { lr: 0.1, momentum: 0.9 });
    scope(() => {
      const before = noGrad(() => params.map((p) => p.clone()));
      const loss = head.forward(net.forward(randn([2, 3, 112, 112])), tensor([1, 3], { dtype: 'int64' })).loss;
      expect(Number.isFinite(loss.item())).toBe(true);
      loss.backward();
      opt.step();
      const moved = noGrad(() => params.filter((p, i) => p.sub(before[i]!).abs().max().item() > 0).length);
      expect(moved).toBeGreaterThan(params.length / 2);
    });
    net.dispose();
    head.dispose();
  });
});
