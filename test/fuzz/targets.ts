/**
 * Every parser that reads a user's file, as a fuzz target: valid seed inputs (made here, or the
 * committed fixtures) and a `run` that parses one input completely and frees what it made.
 * A run must end in a value or a named Error (see worker.ts for what counts as a bug).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBin, parseBin } from '../../lib/data/bin.js';
import { decode, encodeJpeg, encodePng } from '../../lib/data/codec.js';
import { imageDimensions } from '../../lib/data/image-size.js';
import { openRecordIO } from '../../lib/data/recordio.js';
import { writeRecordIO } from '../../lib/data/recordio-writer.js';
import { checkCardAgainstWeights } from '../../lib/eval/card-check.js';
import { parseLandmarks } from '../../lib/eval/landmarks.js';
import { buildNet, cardForSpec } from '../../lib/eval/model.js';
import { readModelCard } from '../../lib/io/model-card.js';
import { extractStateDict, readTorchCheckpoint } from '../../lib/io/pytorch.js';
import { parseSafetensors, serializeSafetensors } from '../../lib/io/safetensors.js';
import { parseBackboneSpec } from '../../lib/models/spec.js';
import { arange, randn, Tensor } from '../../lib/tensor/index.js';
import { readConfigFile, validateConfig } from '../../lib/train/config.js';

export interface FuzzTarget {
  name: string;
  /** Text formats also get number-replacing mutations. */
  text?: boolean;
  /** Valid inputs to mutate (deterministic). */
  seeds(repo: string, scratch: string): Promise<Uint8Array[]>;
  /** Parses one input; `scratch` is an empty folder of this case. */
  run(bytes: Buffer, scratch: string): unknown;
}

/** Disposes every Tensor reachable from a parsed value. */
function disposeAll(v: unknown, depth = 0): void {
  if (depth > 100) return;
  if (v instanceof Tensor) v.dispose();
  else if (v instanceof Map) for (const x of v.values()) disposeAll(x, depth + 1);
  else if (Array.isArray(v)) for (const x of v) disposeAll(x, depth + 1);
}

const image = (i: number, s = 16): Uint8Array => {
  const px = new Uint8Array(s * s * 3);
  for (let k = 0; k < px.length; k++) px[k] = (k * 7 + i * 31) & 0xff;
  return px;
};

/** A small RecordIO pack (header record, identity records, property) in `dir`. */
async function recordIOPack(dir: string): Promise<{ rec: Buffer; idx: Buffer; property: Buffer }> {
  mkdirSync(dir, { recursive: true });
  const samples = Array.from({ length: 6 }, (_, i) => ({ image: encodeJpeg(image(i), 16, 16, 80), label: i >> 1 }));
  await writeRecordIO(dir, samples, { imageSize: [16, 16] });
  return { rec: readFileSync(join(dir, 'train.rec')), idx: readFileSync(join(dir, 'train.idx')), property: readFileSync(join(dir, 'property')) };
}

/** RecordIO with one of its three files mutated. */
function recordIOTarget(which: 'rec' | 'idx' | 'property'): FuzzTarget {
  let base: { rec: Buffer; idx: Buffer; property: Buffer } | undefined;
  return {
    name: `recordio-${which}`,
    text: which !== 'rec',
    async seeds(_repo, scratch) {
      base = await recordIOPack(join(scratch, 'seed-pack'));
      return [base[which]];
    },
    run(bytes, scratch) {
      const files = { ...base!, [which]: bytes };
      writeFileSync(join(scratch, 'train.rec'), files.rec);
      writeFileSync(join(scratch, 'train.idx'), files.idx);
      writeFileSync(join(scratch, 'property'), files.property);
      const ds = openRecordIO(scratch);
      try {
        let n = 0;
        for (let i = 0; i < Math.min(ds.length, 64); i++) n += ds.read(i).image.length;
        return n;
      } finally {
        ds.close();
      }
    },
  };
}

const P0_BIN = 'KChscDAKY19jb2RlY3MKZW5jb2RlCnAxCihWXHUwMDAwAQIDXHUwMDBhYWJjCnAyClZsYXRpbjEKcDMKdHA0ClJwNQphZzEKKFZ4eXoKcDYKZzMKdHA3ClJwOAphKGxwOQpJMDEKYXRwMTAKLg==';

export const TARGETS: FuzzTarget[] = [
  recordIOTarget('rec'),
  recordIOTarget('idx'),
  recordIOTarget('property'),
  {
    name: 'bin-pickle',
    async seeds() {
      const imgs = [0, 1, 2, 3].map((i) => encodeJpeg(image(i), 16, 16, 70));
      return [
        encodeBin(imgs, [true, false], { protocol: 4 }),
        encodeBin(imgs, [true, false], { protocol: 3 }),
        encodeBin(imgs, [true, false], { protocol: 2 }),
        Buffer.from(P0_BIN, 'base64'),
      ];
    },
    run: (bytes) => parseBin(bytes, 'fuzz.bin').images.length,
  },
  {
    name: 'torch-zip',
    async seeds(repo) {
      const fx = join(repo, 'test/fixtures/checkpoints');
      return ['misc.pt', 'codecs.pt', 'ir_tiny.pt'].map((f) => readFileSync(join(fx, f)));
    },
    run(bytes) {
      const v = readTorchCheckpoint(bytes, 'fuzz.pth');
      try {
        if (v instanceof Map) {
          const sd = extractStateDict(v, 'fuzz.pth');
          disposeAll(sd);
          return sd.size;
        }
        return typeof v;
      } finally {
        disposeAll(v);
      }
    },
  },
  {
    name: 'safetensors',
    async seeds() {
      const a = randn([3, 4]);
      const b = arange(5);
      const out = [serializeSafetensors({ a, b }, { format: 'pt', note: 'x' }), serializeSafetensors({ a })];
      a.dispose();
      b.dispose();
      return out;
    },
    run(bytes) {
      const r = parseSafetensors(bytes, 'fuzz.safetensors');
      disposeAll([...r.tensors.values()]);
      return r.tensors.size;
    },
  },
  (() => {
    let shapes: Map<string, number[]> | undefined;
    return {
      name: 'model-card',
      text: true,
      async seeds(repo: string) {
        const expected = JSON.parse(readFileSync(join(repo, 'test/fixtures/checkpoints/expected.json'), 'utf8')) as { spec: unknown };
        const spec = parseBackboneSpec(expected.spec);
        const net = buildNet(spec);
        shapes = new Map([...net.stateDict()].map(([k, t]) => [k, t.shape]));
        net.dispose();
        return [Buffer.from(JSON.stringify(cardForSpec(spec, 'model.safetensors'), null, 1))];
      },
      run(bytes: Buffer, scratch: string) {
        // through the reader a user's model.json goes through (size cap, JSON errors named)
        const file = join(scratch, 'model.json');
        writeFileSync(file, bytes);
        const card = readModelCard(file);
        checkCardAgainstWeights(card, shapes!, file);
        const net = buildNet(card.spec); // bounded by the checks above
        net.dispose();
        return card.embeddingSize;
      },
    };
  })(),
  {
    name: 'image-header',
    async seeds() {
      const grey = new Uint8Array(24 * 20 * 3).fill(77);
      return [encodeJpeg(image(1, 24), 24, 24, 90), encodePng(image(2, 24), 24, 24), encodeJpeg(grey, 24, 20, 50)];
    },
    run(bytes) {
      const dims = imageDimensions(bytes);
      const d = decode(bytes, { maxPixels: 1 << 22 });
      return [dims, d.width, d.height];
    },
  },
  {
    name: 'config',
    text: true,
    async seeds() {
      const c = { backbone: 'mobilefacenet', attention: 'esca', imageSize: 112, data: { train: { type: 'recordio', path: 'train.rec' }, val: ['lfw.bin'] }, batchSize: 64, epochs: 2, lr: 0.1, milestones: [1], threads: 2 };
      const yaml = 'backbone: ir50\nattention: esca\nembeddingSize: 512\ndata:\n  train: { type: recordio, path: train.rec }\n  val: [lfw.bin, cfp_fp.bin]\nbatchSize: 512\nepochs: 50\nmilestones: [28, 38, 46]\nanchors: &a [1, 2]\nextra: *a\n';
      return [Buffer.from(JSON.stringify(c, null, 1)), Buffer.from(yaml)];
    },
    run(bytes, scratch) {
      const ext = bytes[0] === 0x7b ? 'json' : 'yaml';
      const file = join(scratch, `config.${ext}`);
      writeFileSync(file, bytes);
      return validateConfig(readConfigFile(file), { checkFiles: false, source: file }).backbone;
    },
  },
  {
    name: 'landmarks',
    text: true,
    async seeds() {
      const lm = [38.29, 51.69, 73.53, 51.5, 56.02, 71.73, 41.54, 92.36, 70.72, 92.2];
      return [Buffer.from(JSON.stringify({ 'a.jpg': lm, 'b/c.png': lm })), Buffer.from(`# x\na.jpg ${lm.join(' ')}\nb.jpg,${lm.join(',')}\n`)];
    },
    run: (bytes) => parseLandmarks(bytes.toString('utf8'), 'fuzz.txt').length,
  },
];

/**
 * The harness's own check (test/fuzz/fuzz.test.ts, only with ECF_FUZZ_SELFTEST=1): case seeds ≡ 3
 * (mod 7) abort the process, ≡ 5 never return, ≡ 6 throw a TypeError from a parser bug.
 */
if (process.env.ECF_FUZZ_SELFTEST === '1') {
  TARGETS.push({
    name: 'selftest',
    seeds: async () => [Buffer.from('x')],
    run(_bytes, scratch) {
      const seed = Number(/(\d+)$/.exec(process.env.ECF_FUZZ_CASE ?? '')?.[1] ?? -1);
      if (seed % 7 === 3) process.abort();
      if (seed % 7 === 5) for (;;);
      if (seed % 7 === 6) return (undefined as unknown as { x: { y: number } }).x.y;
      return scratch.length;
    },
  });
}

/** Removes and recreates a scratch folder. */
export function freshDir(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}
