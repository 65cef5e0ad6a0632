/** `ecacface plot <runDir>`: draws the run's curves (PNG + SVG) from its metrics file. */
import type { Command } from 'commander';
import { plotRun } from '../../train/plots.js';

export function registerPlot(program: Command): void {
  program
    .command('plot')
    .description("draw a run's loss, accuracy (± std band), t, hard-negative, positive-cosine, LR (step line) and per-set ROC curves (PNG and SVG)")
    .argument('<runDir>', 'a run directory (holding metrics.jsonl)')
    .action((runDir: string) => {
      const r = plotRun(runDir);
      console.log(`wrote ${r.files.length} files to ${r.dir}`);
    });
}
