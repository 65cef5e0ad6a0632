/** `ecacface init <dir>`: a TypeScript project that uses the package, runnable with tsx and ts-node. */
import { relative } from 'node:path';
import type { Command } from 'commander';
import { packageRoot } from '../../native-load.js';
import { initProject } from '../init-project.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a TypeScript project that uses ecacface-torch: package.json, tsconfig.json and experiment.ts (runs with tsx and ts-node)')
    .argument('<dir>', 'the project folder (made if missing)')
    .option('--force', 'replace those files where they exist')
    .action((dir: string, opts: { force?: boolean }) => {
      const written = initProject(dir, packageRoot(), opts.force ?? false);
      for (const f of written) console.log(`wrote ${f}`);
      const cd = relative(process.cwd(), dir) || '.';
      console.log(`next:\n  cd ${cd}\n  npm install\n  npx tsx experiment.ts        # or: npx ts-node experiment.ts`);
    });
}
