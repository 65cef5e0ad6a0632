/**
 * `ecacface eval --model <m> --bin lfw.bin --bin cfp_fp.bin …`: the 10-fold verification protocol
 * on insightface .bin sets; prints a table like the paper's Table 7 and writes ROC curves (SVG+PNG).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { calibratedThreshold, evaluate, formatTable, validationEntries, type SetResult } from '../../eval/evaluate.js';
import { exportModel } from '../../eval/model.js';
import { lineChart } from '../../plot/charts.js';
import { countProgress } from '../progress.js';
import { addModelOptions, intOption, modelFromOptions, type ModelOptions } from '../model-option.js';

/** Writes roc.svg/png (all sets) into `dir`; returns the paths. */
export function writeRocCharts(results: readonly SetResult[], dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const series = results.map((r) => ({ name: r.name, x: r.result.roc.fpr, y: r.result.roc.tpr }));
  const { svg, png } = lineChart({ title: 'ROC (10-fold, flip TTA)', xLabel: 'false positive rate', yLabel: 'true positive rate', series, logX: true, yMax: 1 });
  const svgPath = join(dir, 'roc.svg');
  const pngPath = join(dir, 'roc.png');
  writeFileSync(svgPath, svg);
  writeFileSync(pngPath, png);
  return [svgPath, pngPath];
}

export function registerEval(program: Command): void {
  addModelOptions(
    program
      .command('eval')
      .description('verification accuracy (10-fold, flip TTA) on insightface .bin sets (LFW, CFP-FP, AgeDB-30, CALFW, CPLFW)'),
  )
    .requiredOption('--bin <file>', '.bin pair set (repeat for several)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--out <dir>', 'folder for roc.svg, roc.png and results.json', 'eval-out')
    .option('--folds <n>', 'number of folds', '10')
    .option('--save-model <dir>', 'export the model with the calibrated threshold and these results in its card')
    .option('--quiet', 'no progress output')
    .action(async (o: ModelOptions & { bin: string[]; out: string; folds: string; saveModel?: string; quiet?: boolean }) => {
      const model = modelFromOptions(o);
      try {
        const results = await evaluate(model, o.bin, {
          batchSize: intOption(o.batchSize, '--batch-size', 64),
          threads: intOption(o.threads, '--threads', 2),
          folds: intOption(o.folds, '--folds', 10),
          onProgress: o.quiet ? undefined : countProgress(),
        });
        console.log(formatTable(results));
        const files = writeRocCharts(results, o.out);
        const json = results.map((r) => ({ set: r.name, path: r.path, seconds: r.seconds, ...r.result }));
        writeFileSync(join(o.out, 'results.json'), JSON.stringify(json, null, 1));
        console.log(`ROC: ${files.join(', ')}; numbers: ${join(o.out, 'results.json')}`);
        if (o.saveModel) {
          const card = exportModel(model.backbone, o.saveModel, {
            threshold: calibratedThreshold(results),
            validation: validationEntries(results),
            source: model.card.source ?? o.model,
          });
          console.log(`model with threshold ${card.threshold!.distance.toFixed(3)} (cosine ${card.threshold!.cosine.toFixed(4)}, from ${card.threshold!.source}) written to ${o.saveModel}`);
        }
      } finally {
        model.dispose();
      }
    });
}
