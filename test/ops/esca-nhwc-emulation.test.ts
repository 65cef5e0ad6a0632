// The channels_last ESCA/ECA CUDA kernels (native/kernels/esca_nhwc.cu) checked without a GPU:
// test/cuda/esca_nhwc_emulate.cc runs their per-thread code (kernels/esca_nhwc_threads.cuh, the
// same __host__ __device__ functions the kernels call) over the launcher's grids on the CPU and
// compares outputs, saved statistics and gradients with float64 references (ECA/ESCA's formulas as lib/nn/attention/esca.ts states them,
// the CPU NHWC kernels, finite differences), for float32/float16/bfloat16, 16-byte packs and
// one channel per thread. Built with AddressSanitizer, so an index outside any buffer fails.
// Needs g++ and the CUDA toolkit's headers (cuda_runtime.h, cuda_fp16.h, cuda_bf16.h; no GPU,
// no CUDA library); skipped, saying why, where they are missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cxx = process.env.CXX ?? 'g++';

/** The toolkit's include folder: $CUDA_HOME, $CUDA_PATH, beside nvcc, or /usr/local/cuda*. */
function cudaInclude(): string | null {
  const dirs = [process.env.CUDA_HOME, process.env.CUDA_PATH];
  const nvcc = spawnSync('sh', ['-c', 'command -v nvcc'], { encoding: 'utf8' }).stdout.trim();
  if (nvcc) dirs.push(dirname(dirname(realpathSync(nvcc))));
  dirs.push('/usr/local/cuda');
  try {
    for (const d of readdirSync('/usr/local').sort().reverse()) if (d.startsWith('cuda-')) dirs.push(join('/usr/local', d));
  } catch {
    // no /usr/local
  }
  for (const d of dirs) {
    if (d && ['cuda_runtime.h', 'cuda_fp16.h', 'cuda_bf16.h'].every((h) => existsSync(join(d, 'include', h)))) {
      return join(d, 'include');
    }
  }
  return null;
}

const include = cudaInclude();
const hasCxx = spawnSync(cxx, ['--version']).status === 0;
const skip = !include ? 'no CUDA toolkit headers found (set CUDA_HOME)' : !hasCxx ? `no C++ compiler (${cxx})` : false;

describe('channels_last ESCA CUDA kernels, emulated on the CPU', () => {
  const work = mkdtempSync(join(tmpdir(), 'esca-nhwc-emu-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it.skipIf(skip)(
    'match the float64 references (values, statistics, gradients) for every dtype, pack width and shape',
    () => {
      const exe = join(work, 'esca_nhwc_emulate');
      const build = spawnSync(
        cxx,
        [
          '-std=c++17',
          '-O1',
          '-g',
          '-fsanitize=address,undefined',
          '-fno-sanitize-recover=all',
          '-Inative',
          `-I${include}`,
          'test/cuda/esca_nhwc_emulate.cc',
          '-o',
          exe,
        ],
        { cwd: root, encoding: 'utf8' },
      );
      expect(build.status, `compiling test/cuda/esca_nhwc_emulate.cc failed:\n${build.stderr}`).toBe(0);
      const run = spawnSync(exe, [], { encoding: 'utf8', maxBuffer: 16 << 20 });
      const out = `${run.stdout}${run.stderr}`;
      const failures = out.split('\n').filter((l) => /^FAIL|ERROR|runtime error/.test(l));
      expect(failures, out.slice(-4000)).toEqual([]);
      expect(run.status, out.slice(-4000)).toBe(0);
      const m = /esca_nhwc_emulate: (\d+) cases passed/.exec(out);
      expect(m, out.slice(-2000)).not.toBeNull();
      // 19 shapes × {ESCA, ECA} × {float32, float16, bfloat16}, with packs where C allows them
      expect(Number(m![1])).toBeGreaterThanOrEqual(170);
    },
    600_000,
  );
});
