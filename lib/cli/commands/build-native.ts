/** `ecacface build-native`: (re)builds the native addon from source against this machine's libtorch. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Command } from 'commander';
import { NativeLoadError, chooseAddon, packageRoot } from '../../native-load.js';

interface BuildNativeOptions {
  incremental?: boolean;
  dryRun?: boolean;
  cpu?: boolean;
  cxxStandard?: string;
  cudaArchs?: string;
  define?: string[];
}

/** The arguments of scripts/build-native.js for these options (exported for the tests). */
export function buildNativeArgs(opts: BuildNativeOptions, passThrough: string[]): string[] {
  return [
    ...(opts.incremental ? [] : ['--rebuild']),
    ...(opts.dryRun ? ['--dry-run'] : []),
    ...(opts.cpu ? ['--cpu'] : []),
    ...(opts.cxxStandard ? ['--cxx-standard', opts.cxxStandard] : []),
    ...(opts.cudaArchs ? ['--cuda-archs', opts.cudaArchs] : []),
    ...(opts.define ?? []).flatMap((d) => ['-D', d]),
    ...passThrough,
  ];
}

export function registerBuildNative(program: Command): void {
  program
    .command('build-native')
    .description(
      "build the native addon from source against this machine's libtorch (LIBTORCH, Torch_DIR, python3's torch or " +
        "Debian's libtorch-dev); needs cmake and a C++17 compiler, and nvcc for a CUDA libtorch. The build goes to the " +
        "package's build/ folder, or to ECACFACE_BUILD_DIR, where the addon is then loaded from",
    )
    .argument('[cmake-js-args...]', 'after --: more arguments for cmake-js (e.g. -- --CDNAME=VALUE)')
    .option('--incremental', 'reuse the previous build folder instead of a clean build')
    .option('--cpu', 'build without CUDA, even against a CUDA libtorch')
    .option('--cxx-standard <n>', "C++ standard of the .cc files (default: the lowest of 17 and 20 that libtorch's headers compile with)")
    .option('--cuda-archs <list>', 'CUDA architectures to compile for, e.g. 90 or "80;90;100" (default 80;90;100)')
    .option('-D, --define <NAME=VALUE>', 'a CMake definition (repeatable), e.g. -D CMAKE_BUILD_TYPE=RelWithDebInfo', (v: string, acc: string[] | undefined) => [...(acc ?? []), v])
    .option('--dry-run', 'print the cmake-js command that would run, and build nothing')
    .action((passThrough: string[], opts: BuildNativeOptions) => {
      const root = packageRoot();
      const args = [join(root, 'scripts', 'build-native.js'), ...buildNativeArgs(opts, passThrough)];
      const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`the native build failed (exit ${r.status ?? r.signal}); see the cmake output above`);
      if (opts.dryRun) return;
      // What was built must be what loads: checked here, in a fresh process, so that a build that
      // does not fit its libtorch fails now, naming why, instead of asking for another build.
      let choice;
      try {
        choice = chooseAddon(root, process.env, false);
      } catch (err) {
        const why = err instanceof NativeLoadError ? err.message.split('\n').slice(0, 2).join('\n') : String(err);
        throw new Error(`the build finished, but its addon is not the one that loads here:\n${why}`);
      }
      if (choice.kind !== 'source') throw new Error(`the build finished, but ${choice.path} (${choice.kind}) would load instead of it`);
      const check = spawnSync(
        process.execPath,
        ['-e', `import(${JSON.stringify(join(root, 'dist', 'lib', 'tensor', 'index.js'))}).then((m) => console.log(JSON.stringify(m.buildInfo())))`],
        { cwd: root, encoding: 'utf8', env: process.env },
      );
      if (check.status !== 0) throw new Error(`the build finished, but its addon does not load:\n${(check.stderr || check.stdout).trim()}`);
      const info = JSON.parse(check.stdout.trim().split('\n').pop()!) as { torchVersion: string; cuda: boolean };
      const m = choice.manifest;
      console.log(
        `ecacface: built ${choice.path} against libtorch ${info.torchVersion}` +
          (m ? ` (${m.cuda ? `CUDA ${m.cuda}` : 'CPU'}, ${m.torchLibDir ?? 'system'})` : '') +
          '; it loads',
      );
    });
}
