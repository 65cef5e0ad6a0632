/** `ecacface info`: what the native addon was built against and what it sees. */
import type { Command } from 'commander';
import { buildInfo, cuda, getNumThreads } from '../../tensor/index.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print the libtorch build, CUDA availability and thread count')
    .action(() => {
      const b = buildInfo();
      console.log(
        `libtorch ${b.torchVersion}  CUDA build: ${b.cuda ? 'yes' : 'no'}  GPUs: ${cuda.deviceCount()}  threads: ${getNumThreads()}  NNPACK: ${b.nnpack ? 'on' : 'off'}`,
      );
    });
}
