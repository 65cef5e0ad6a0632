/**
 * Several row × seed runs at once (`--jobs N`): each in a child process that runs the same script
 * with the same options and `--task <row>:<seed>` (so the child trains, evaluates and writes that
 * one result file, under tsx and ts-node alike), N at a time. Ctrl-C reaches the children too:
 * each checkpoints its run and exits, nothing new starts, and the rerun continues.
 */
import { spawn } from 'node:child_process';

/** Outcome of the pool: the tasks that failed (with their message) and whether Ctrl-C stopped it. */
export interface PoolOutcome {
  failed: { task: string; message: string }[];
  interrupted: boolean;
}

/**
 * Runs `tasks` (labels like `esca:2`) as children of this script, `jobs` at a time. `onLine` gets
 * every line the children print (they label their own lines), `onDone` each task that succeeded.
 */
export async function runPool(tasks: string[], jobs: number, argv: string[], onLine: (line: string) => void, onDone: (task: string) => void): Promise<PoolOutcome> {
  const queue = [...tasks];
  const failed: PoolOutcome['failed'] = [];
  let interrupted = false;
  // the children get Ctrl-C from the terminal themselves; this process only stops starting new ones
  const onSigint = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  const lines = (chunk: Buffer, carry: { rest: string }, sink: (l: string) => void) => {
    const parts = (carry.rest + chunk.toString('utf8')).split('\n');
    carry.rest = parts.pop()!;
    for (const p of parts) sink(p);
  };
  const one = (task: string) =>
    new Promise<void>((done) => {
      // the same runtime (tsx's or ts-node's loader flags), script and options, for one task
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv, '--task', task], { stdio: ['ignore', 'pipe', 'pipe'] });
      const out = { rest: '' };
      const err = { rest: '' };
      const errors: string[] = [];
      child.stdout.on('data', (c: Buffer) => lines(c, out, onLine));
      child.stderr.on('data', (c: Buffer) => lines(c, err, (l) => errors.push(l)));
      child.on('close', (code, signal) => {
        if (out.rest) onLine(out.rest);
        if (err.rest) errors.push(err.rest);
        if (code === 0) onDone(task);
        else if (code === 130 || signal === 'SIGINT') interrupted = true;
        else failed.push({ task, message: errors.filter((l) => l.trim()).slice(-5).join('\n') || `exit ${code ?? signal}` });
        done();
      });
    });
  const worker = async () => {
    while (queue.length && !interrupted && failed.length === 0) await one(queue.shift()!);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));
  } finally {
    process.off('SIGINT', onSigint);
  }
  return { failed, interrupted };
}
