/**
 * `ecacface export --onnx <run or model> [--out f.onnx] [--opset n] [--batch n] [--overwrite]`:
 * the model as an ONNX file (exportOnnx), then — when onnxruntime-node is installed — the same
 * random images through libtorch and ONNX Runtime, with the largest difference printed.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadModel } from '../../eval/model.js';
import { compareWithOnnxRuntime } from '../../onnx/check.js';
import { exportOnnx } from '../../eval/onnx-export.js';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET } from '../../onnx/graph.js';
import { hasOnnxRuntime } from '../../onnx/runtime.js';
import { ARCHS } from '../../models/archs.js';
import { ATTENTION_KINDS } from '../../nn/attention/kinds.js';
import { intOption, specFromOptions } from '../model-option.js';
import { checkIntText } from '../../check.js';

interface ExportOptions {
  onnx: string;
  out?: string;
  opset?: string;
  batch?: string;
  externalData?: boolean;
  overwrite?: boolean;
  check: boolean;
  arch?: string;
  attention?: string;
  spec?: string;
}

/** Where the model of `source` is: a training run's model-best/ (else model-last/), a model folder, or a file's folder. */
function defaultOut(source: string): string {
  const p = resolve(source);
  if (existsSync(p) && statSync(p).isDirectory()) {
    if (existsSync(join(p, 'model.json'))) return join(p, 'model.onnx');
    for (const sub of ['model-best', 'model-last']) if (existsSync(join(p, sub, 'model.json'))) return join(p, sub, 'model.onnx');
    return join(p, 'model.onnx');
  }
  return join(dirname(p), `${basename(p, extname(p))}.onnx`);
}

const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export a model (a training run, a model folder, a .safetensors or a PyTorch checkpoint) to ONNX')
    .requiredOption('--onnx <model>', 'the model to export: a training run directory (its best model), a model folder, a card .json, a .safetensors with a card, or a .pt/.pth with --arch/--spec')
    .option('--out <file.onnx>', "output file (default: model.onnx beside the model's model.json, or <checkpoint name>.onnx)")
    .option('--opset <n>', `ONNX opset, ${MIN_OPSET} to ${MAX_OPSET}`, String(DEFAULT_OPSET))
    .option('--batch <n>', 'fix the batch size (default: a dynamic batch axis)')
    .option('--external-data', 'write the weights to <out>.data (ONNX external data) whatever their size (automatic above 2 GB)')
    .option('--overwrite', 'replace an existing output file')
    .option('--no-check', 'skip running the file in ONNX Runtime after writing it')
    .option('--arch <arch>', `for a PyTorch checkpoint: the preset it was trained with (${ARCHS.join(', ')})`)
    .option('--attention <kind>', `for a PyTorch checkpoint with --arch: attention in every block (${ATTENTION_KINDS.join(', ')})`, 'none')
    .option('--spec <file>', 'for a PyTorch checkpoint: a backbone spec JSON file (instead of --arch)')
    .action(async (o: ExportOptions) => {
      const out = resolve(o.out ?? defaultOut(o.onnx));
      if (extname(out).toLowerCase() !== '.onnx') throw new Error(`--out must name a .onnx file, got '${o.out}'`);
      if (existsSync(out) && !o.overwrite) throw new Error(`${out} exists; pass --overwrite to replace it`);
      const opset = checkIntText('--opset', o.opset ?? String(DEFAULT_OPSET), MIN_OPSET, MAX_OPSET);
      const batch = o.batch === undefined ? 'dynamic' : intOption(o.batch, '--batch', 1);
      const model = loadModel(o.onnx, { spec: specFromOptions(o) });
      try {
        const r = exportOnnx(model, out, { opset, batch, ...(o.externalData ? { externalDataThreshold: 0 } : {}) });
        const i = r.card.input;
        const n = batch === 'dynamic' ? 'batch' : String(batch);
        console.log(`ecacface export: ${r.path} (${r.card.arch}, attention ${r.card.attention}, opset ${r.opset}, IR version ${r.irVersion}, ${r.nodes} nodes, ${r.weights} weight tensors, ${mb(r.bytes)})`);
        if (r.dataPath) console.log(`  weights in external data: ${r.dataPath} (keep it beside the model file)`);
        console.log(`  input  'input'     float32 [${n}, ${i.channels}, ${i.size}, ${i.size}], ${i.colorOrder}, (pixel/255 − mean)/std, mean ${i.mean.join('/')}, std ${i.std.join('/')}`);
        console.log(
          `  output 'embedding' float32 [${n}, ${r.card.embeddingSize}], raw: L2-normalise${r.card.flipTTA ? ' (after adding the mirrored image’s, flip TTA)' : ''}` +
            (r.card.threshold ? `; same person when cosine > ${r.card.threshold.cosine.toFixed(4)}` : ''),
        );
        if (!o.check) return;
        if (!hasOnnxRuntime()) {
          console.log('  not run in ONNX Runtime: onnxruntime-node is not installed (npm install onnxruntime-node)');
          return;
        }
        const c = await compareWithOnnxRuntime(model.backbone, r.path);
        const line = `max |ONNX Runtime − libtorch| = ${c.maxAbsDiff.toExponential(2)} on ${c.images} random images (embeddings up to ${c.maxAbs.toPrecision(3)})`;
        // float32 kernels differ in summation order: 1e-4 of the embedding scale is far above that and far below a real mistake
        if (c.maxAbsDiff > 1e-4 * Math.max(1, c.maxAbs)) throw new Error(`the exported model does not compute what the libtorch model does: ${line}`);
        console.log(`  checked with onnxruntime-node ${c.runtimeVersion}: ${line}`);
      } finally {
        model.dispose();
      }
    });
}
