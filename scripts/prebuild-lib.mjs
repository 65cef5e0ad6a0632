// What scripts/prebuild.js decides about one built addon, as plain functions (the tests call them):
// which libraries it needs and where each comes from, the system package of a library, and the
// pip command of a PyTorch wheel.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

// What every glibc Linux with a C++ toolchain's runtime has (libgomp comes with libtorch).
export const BASE = /^(libc|libm|libdl|libpthread|librt|libgcc_s|libstdc\+\+|libgomp|libz|ld-linux[-\w]*)\.so/;
export const TORCH = /^lib(torch|torch_cpu|torch_cuda|torch_global_deps|c10|c10_cuda)\.so/;

/** NEEDED and RUNPATH entries of an ELF file (readelf, from binutils). */
export function dynamic(file) {
  const out = execFileSync('readelf', ['-d', file], { encoding: 'utf8' });
  const needed = [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const runpath = /\((?:RUNPATH|RPATH)\)\s+Library (?:runpath|rpath): \[([^\]]*)\]/.exec(out)?.[1] ?? '';
  return { needed, runpath: runpath.split(':').filter(Boolean) };
}

/**
 * The Debian package that owns a library, or undefined. On a merged-/usr system (Debian 12) the
 * linker's path names /lib/x86_64-linux-gnu, an alias of /usr/lib/x86_64-linux-gnu where dpkg
 * recorded the file: `dpkg -S` of the alias finds nothing, so the real folder is asked too.
 */
export function debianOwner(libPath) {
  const tries = [libPath];
  try {
    const real = join(realpathSync(dirname(libPath)), basename(libPath));
    if (real !== libPath) tries.push(real);
  } catch {
    /* no such folder */
  }
  for (const p of tries) {
    try {
      const owner = execFileSync('dpkg', ['-S', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      return owner.split(':')[0].trim();
    } catch {
      /* not dpkg's, or no dpkg */
    }
  }
  return undefined;
}

/**
 * The `pip install` arguments of a PyTorch wheel, as docs/install.md gives them: PyTorch's index
 * for that build as an extra index (CUDA "13.0" → cu130; a CPU build is asked for by its +cpu label).
 */
export function pipHint(torchVersion, cuda) {
  if (!cuda) return `torch==${torchVersion}+cpu --extra-index-url https://download.pytorch.org/whl/cpu`;
  return `torch==${torchVersion} --extra-index-url https://download.pytorch.org/whl/cu${String(cuda).replace('.', '')}`;
}

/** A PyTorch wheel's torch folder for a library folder (…/site-packages/torch/lib), else null. */
export function wheelOf(torchLibDir) {
  return existsSync(join(torchLibDir, '..', 'version.py')) ? join(torchLibDir, '..') : null;
}

/** The libraries a wheel's torch libraries need, followed through the wheel (their RPATHs). */
function wheelClosure(torchLibDir, roots) {
  const site = join(torchLibDir, '..', '..');
  const dirs = [torchLibDir];
  try {
    for (const d of readdirSync(join(site, 'nvidia'))) if (existsSync(join(site, 'nvidia', d, 'lib'))) dirs.push(join(site, 'nvidia', d, 'lib'));
  } catch {
    /* a CPU wheel */
  }
  const seen = new Set();
  const stack = [...roots];
  while (stack.length) {
    const name = stack.pop();
    if (seen.has(name)) continue;
    seen.add(name);
    const dir = dirs.find((d) => existsSync(join(d, name)));
    if (dir) stack.push(...dynamic(join(dir, name)).needed);
  }
  return seen;
}

/**
 * Where each library an addon needs comes from:
 *   torchLib   the libtorch library that names the version (libtorch_cpu.so[.1.13]);
 *   wheelLibs  for a PyTorch wheel: the wheel's own libraries it links (the loader opens them from
 *              the wheel; every other wheel library it needs must come with them);
 *   bundle     what a machine with that libtorch cannot be expected to have: shipped beside it;
 *   problems   libraries that fit none of these.
 * `search`: the folders of the linker's path (lib/native-load.ts librarySearchDirs).
 */
export function classify(needed, { torchLibDir, search, findLibrary }) {
  const wheel = wheelOf(torchLibDir);
  const torchLib = needed.find((n) => /^libtorch_cpu\.so/.test(n)) ?? needed.find((n) => TORCH.test(n));
  const problems = [];
  if (!wheel) {
    const bundle = needed.filter((n) => !BASE.test(n) && !TORCH.test(n));
    for (const lib of bundle) if (findLibrary(lib, search) === null) problems.push(`${lib} (needed by the addon) is not on this machine's library path`);
    return { torchLib, wheelLibs: undefined, bundle, problems };
  }
  const wheelLibs = needed.filter((n) => existsSync(join(torchLibDir, n)));
  const closure = wheelClosure(torchLibDir, wheelLibs);
  const bundle = [];
  for (const n of needed) {
    if (BASE.test(n) || wheelLibs.includes(n)) continue;
    if (closure.has(n)) continue; // loaded with the wheel's libtorch (e.g. libcudart.so.13)
    if (findLibrary(n, search) === null) problems.push(`${n} (needed by the addon) is neither a library of the wheel's libtorch nor on this machine's library path`);
    else bundle.push(n);
  }
  return { torchLib, wheelLibs, bundle, problems };
}

/** The prebuild folder name of a build: torch-<version>-<cpu|cuXY>. */
export function prebuildTag(built) {
  return `torch-${built.torchVersion}-${built.cuda ? `cu${String(built.cuda).replace('.', '')}` : 'cpu'}`;
}

/** The build manifest (ecacface.json) beside an addon. */
export function builtManifest(addon) {
  return JSON.parse(readFileSync(join(dirname(addon), 'ecacface.json'), 'utf8'));
}
