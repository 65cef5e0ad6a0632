/**
 * The addon this process loads links one libtorch, the one its manifest names, and finds every
 * library it needs without LD_LIBRARY_PATH: a wheel's (torch/lib, nvidia/*) through its RUNPATH,
 * a system libtorch (Debian's) through the linker's path. Runs in every lane: against Debian's
 * 1.13 (npm test), a 2.13 CPU wheel (npm run test:torch2) and the 2.14 CUDA wheel (npm run
 * check:cuda-link). It pins the defect where a build against a wheel linked Debian's libc10 and
 * libtorch beside the wheel's.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chooseAddon, packageRoot } from '../../lib/native-load.js';
import { zeros } from '../../lib/tensor/index.js';

const choice = chooseAddon(packageRoot(), process.env, false);
const TORCH_LIB = /^lib(torch|torch_cpu|torch_cuda|c10|c10_cuda)\.so/;

/** ldd's `name => path` lines, run without LD_LIBRARY_PATH. */
function ldd(file: string): Map<string, string> {
  const env = { ...process.env };
  delete env.LD_LIBRARY_PATH;
  const out = execFileSync('ldd', [file], { encoding: 'utf8', env });
  const map = new Map<string, string>();
  for (const m of out.matchAll(/^\s*(\S+) => (.+?) \(0x/gm)) map.set(m[1]!, m[2]!);
  for (const m of out.matchAll(/^\s*(\S+) => not found/gm)) map.set(m[1]!, 'not found');
  return map;
}

describe('the libraries of the loaded addon', () => {
  it.runIf(choice.kind === 'source')('every one resolves without LD_LIBRARY_PATH; its libtorch is the one it was built against', () => {
    const libs = ldd(choice.path);
    expect([...libs].filter(([, p]) => p === 'not found')).toEqual([]);
    const manifest = choice.manifest!;
    const torchDir = realpathSync(manifest.torchLibDir!);
    const torchLibs = [...libs].filter(([n]) => TORCH_LIB.test(n));
    expect(torchLibs.length).toBeGreaterThanOrEqual(2);
    for (const [name, path] of torchLibs) expect(dirname(realpathSync(path)), name).toBe(torchDir);
    // a wheel: found through the addon's RUNPATH, which names the wheel's folders
    const dynamic = execFileSync('readelf', ['-d', choice.path], { encoding: 'utf8' });
    const runpath = /\(RUNPATH\)\s+Library runpath: \[([^\]]*)\]/.exec(dynamic)?.[1]?.split(':') ?? [];
    expect(runpath[0]).toBe('$ORIGIN');
    if (manifest.source?.startsWith('python3 torch')) {
      expect(runpath).toContain(manifest.torchLibDir);
      // a CUDA wheel: its CUDA libraries come from the nvidia wheels beside it, not the system toolkit
      const site = dirname(dirname(torchDir));
      for (const [name, path] of libs) {
        if (/^lib(cudart|cublas|cublasLt|nvrtc|nccl|cudnn)\.so/.test(name)) expect(realpathSync(path).startsWith(join(site, 'nvidia') + '/'), `${name} => ${path}`).toBe(true);
      }
    }
  });

  it('no other libtorch is mapped into this process than the addon\'s', () => {
    zeros([1]).dispose(); // the addon is loaded
    const maps = readFileSync('/proc/self/maps', 'utf8');
    const dirs = new Set([...maps.matchAll(/\s(\/\S+\/)lib(?:torch_cpu|c10)\.so[.\d]*$/gm)].map((m) => realpathSync(m[1]!)));
    expect([...dirs]).toHaveLength(1);
  });

  it.runIf(choice.kind === 'source' && spawnSync('nm', ['--version']).status === 0)(
    'holds no gloo code of its own: gloo types are reached through pointers only (the ABI check of scripts/check-gloo-abi.mjs)',
    () => {
      const symbols = execFileSync('nm', ['-C', choice.path], { encoding: 'utf8', maxBuffer: 1 << 28 });
      const own = symbols
        .split('\n')
        .map((l) => l.replace(/^[0-9a-f ]{16,}\s\S\s/, ''))
        .filter((s) => /^(gloo::|vtable for gloo::|typeinfo for gloo::|typeinfo name for gloo::|VTT for gloo::)/.test(s));
      expect(own).toEqual([]);
    },
  );
});
