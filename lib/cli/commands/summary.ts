/** `ecacface summary`: a backbone's layers, output shapes, parameters and MACs (or its spec as JSON). */
import { readRegularFile } from '../../io/regular-file.js';
import { Command, Option } from 'commander';
import { ARCHS, backboneSpec, buildBackbone, type Arch } from '../../models/index.js';
import { ATTENTION_KINDS, type AttentionKind } from '../../nn/index.js';

export function registerSummary(program: Command): void {
  program
    .command('summary')
    .description('print a backbone\'s per-layer output shapes, parameters and MACs (Conv/Linear MACs of one image)')
    .addOption(new Option('--arch <arch>', 'preset architecture').choices(ARCHS).default('ir50'))
    .addOption(new Option('--attention <kind>', 'attention in every block').choices(ATTENTION_KINDS).default('none'))
    .option('--embedding-size <n>', 'embedding size', (v) => Number.parseInt(v, 10), 512)
    .option('--spec <file.json>', 'build from a backbone spec file instead of a preset')
    .option('--print-spec', 'print the spec as JSON instead of the table')
    .option('--totals', 'print only the totals')
    .action((o: { arch: Arch; attention: AttentionKind; embeddingSize: number; spec?: string; printSpec?: boolean; totals?: boolean }) => {
      let spec: unknown;
      if (o.spec !== undefined) {
        try {
          spec = JSON.parse(readRegularFile(o.spec, '--spec file', 'utf8'));
        } catch (e) {
          throw new Error(`cannot read spec file '${o.spec}': ${(e as Error).message}`);
        }
      } else {
        spec = backboneSpec({ arch: o.arch, attention: o.attention, embeddingSize: o.embeddingSize });
      }
      if (o.printSpec) {
        console.log(JSON.stringify(spec, null, 2));
        return;
      }
      // the counts do not depend on the initialisation: skip the Kaiming loop
      const m = buildBackbone({ ...(spec as object), init: 'pytorch-default' });
      try {
        if (o.totals) {
          const p = m.profile();
          console.log(`${m.spec.name}: ${p.params.toLocaleString('en-US')} params, ${p.macs.toLocaleString('en-US')} MACs, output [${p.outputShape.join(', ')}]`);
        } else {
          m.summary();
        }
      } finally {
        m.dispose();
      }
    });
}
