/** `ecacface build-native`: (re)builds the native addon from source against this machine's libtorch. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Command } from 'commander';
import { chooseAddon, packageRoot } from '../../native-load.js';

export function registerBuildNative(program: Command): void {
  program
    .command('build-native')
    .description(
      "build the native addon from source against this machine's libtorch (LIBTORCH, Torch_DIR, python3's torch or " +
        "Debian's libtorch-dev); needs cmake and a C++17 compiler",
    )
    .option('--incremental', 'reuse the previous build folder instead of a clean build')
    .action((opts: { incremental?: boolean }) => {
      const root = packageRoot();
      const args = [join(root, 'scripts', 'build-native.js'), ...(opts.incremental ? [] : ['--rebuild'])];
      const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`the native build failed (exit ${r.status ?? r.signal}); see the cmake output above`);
      const choice = chooseAddon(root, process.env, false);
      const m = choice.manifest;
      console.log(`ecacface: built ${choice.path}` + (m ? ` against libtorch ${m.torchVersion} (${m.cuda ? `CUDA ${m.cuda}` : 'CPU'})` : ''));
    });
}
