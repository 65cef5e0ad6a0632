/**
 * `ecacface launch --nproc-per-node N [--nnodes M --node-rank R --master-addr A --master-port P] <command …>`:
 * one worker per device, each running `ecacface <command …>` with the torchrun environment.
 */
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { launch } from '../../distributed/launch.js';
import { integerArg } from '../model-option.js';


export function registerLaunch(program: Command): void {
  program
    .command('launch')
    .description('run an ecacface command (e.g. train) as N data-parallel workers per node (torchrun environment)')
    .requiredOption('-n, --nproc-per-node <n>', 'workers on this node (one per GPU)', integerArg)
    .option('--nnodes <n>', 'nodes in the job', integerArg, 1)
    .option('--node-rank <r>', "this node's index", integerArg, 0)
    .option('--master-addr <host>', 'host of rank 0 (the rendezvous)', '127.0.0.1')
    .option('--master-port <port>', 'rendezvous port, 1…65535 (default: a free one on a single node, 29500 otherwise)', integerArg)
    .option('--force', 'start more workers than the node has GPUs (or 4 × its CPU cores without GPUs)')
    .argument('<command...>', 'the ecacface command and its options, e.g. train -c run.yaml')
    .passThroughOptions()
    .action(async (command: string[], o: { nprocPerNode: number; nnodes: number; nodeRank: number; masterAddr: string; masterPort?: number; force?: boolean }) => {
      const main = fileURLToPath(new URL('../main.js', import.meta.url));
      const r = await launch({
        command: [process.execPath, main, ...command],
        nprocPerNode: o.nprocPerNode,
        nnodes: o.nnodes,
        nodeRank: o.nodeRank,
        masterAddr: o.masterAddr,
        ...(o.masterPort !== undefined ? { masterPort: o.masterPort } : {}),
        ...(o.force ? { force: true } : {}),
      });
      if (r.failed) {
        const f = r.failed;
        process.stderr.write(
          `ecacface launch: rank ${f.rank} failed (${f.signal ? `killed by ${f.signal}` : `exit code ${f.code}`}); the other workers were stopped\n`,
        );
      }
      process.exitCode = r.exitCode;
    });
}
