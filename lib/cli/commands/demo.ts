/**
 * `ecacface demo` (what `npm start` runs): the project's main job.
 * Until the training issue lands this only checks the native layer and says so plainly.
 */
import type { Command } from 'commander';
import { buildInfo, randn, scope } from '../../tensor/index.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the main job: synthetic data → train ECACFace on CPU → evaluate (training not implemented yet)')
    .action(() => {
      const b = buildInfo();
      const v = scope(() => randn([64, 64]).matmul(randn([64, 64])).shape);
      console.log(`ecacface-torch: native layer ready (libtorch ${b.torchVersion}, CUDA build: ${b.cuda}); a [${v.join('x')}] matmul ran.`);
      console.log('The main job (synthetic data, training ECACFace, evaluation) is not implemented yet: it lands with the training issue.');
    });
}
