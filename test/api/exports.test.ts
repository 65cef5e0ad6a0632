/**
 * The public API is a promise: these are the names `ecacface-torch` exports, at the top level and in
 * each namespace. Changing the list is a decision (and a line in docs/api.md), never an accident:
 * adding, removing or renaming an export fails here until the list below and docs/api.md say so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as api from '../../lib/index.js';
import { publicSurface, type Surface } from './surface.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** '' is the top level; 'nn', 'nn.init', … each namespace. Values are also what exists at run time. */
const EXPECTED: Record<string, Surface> = {
  '': {
    values: [
      'ARCFACE_TEMPLATE', 'ConfigError', 'DTYPES', 'DivergenceError', 'FaceDetector', 'FaceModel',
      'GateStatsCollector', 'GradScaler', 'MultiStepSchedule', 'RunExistsError', 'SGD', 'Tensor',
      'TensorBoardLogger', 'align', 'alignPhotos', 'alignRaw', 'alignmentMatrix', 'arange',
      'attentionMaps', 'autocast', 'autocastState', 'buildInfo', 'calibratedThreshold', 'cat', 'cuda',
      'data', 'detect', 'distributed', 'drawFaces', 'empty', 'enableGrad', 'evaluate', 'exportModel',
      'exportOnnx', 'eye', 'formatGateStats', 'formatTable', 'full', 'fullLike', 'functional', 'generateSynthDataset',
      'getNumThreads', 'getRngState', 'heads', 'io', 'isGradEnabled', 'keep', 'lineChart', 'lineChartSvg',
      'linspace', 'loadModel', 'loadModelInWorker', 'loadPhoto', 'manualSeed', 'memory', 'models', 'nn',
      'noGrad', 'ones', 'onesLike', 'plotRun', 'preset', 'presetNames', 'progressReporter', 'rand',
      'randLike', 'randint', 'randn', 'randnLike', 'randperm', 'readConfigFile', 'readMetrics',
      'renderAttention', 'runTraining', 'scope', 'selectFaces', 'setNumThreads', 'setRngState', 'stack',
      'templateFor', 'tensor', 'train', 'trainConfigSchema', 'trainStep', 'validateConfig',
      'validationEntries', 'verification', 'where', 'zeros', 'zerosLike',
    ],
    types: [
      'AlignOptions', 'AlignedFace', 'AttentionPictureOptions', 'AutocastDtype', 'BatchOptions', 'BatchSource',
      'BlockGateStats', 'BuildInfo', 'Comparison', 'CudaAllocatorReport', 'DType', 'DetectOptions', 'DetectedFace',
      'Device', 'EmbedOptions', 'EmbeddingNet', 'EvaluableModel', 'EvaluateOptions', 'ExportCardFields',
      'Face', 'FaceAttention', 'FaceDetectorOptions', 'FaceImage', 'FaceSelection', 'GateSummary',
      'GradScalerOptions', 'GradScalerState', 'InputSpec', 'LineChartOptions', 'LineSeries',
      'LoadModelOptions', 'LrRecord', 'MemoryOptions', 'MemoryReport', 'MetricRecord', 'MtcnnNets',
      'MtcnnOptions', 'NestedArray', 'OnnxExportOptions', 'OnnxExportResult', 'ParamGroupInput', 'Photo', 'PhotoFaces', 'PresetConfig',
      'ProgressEvent', 'ProgressReporter', 'RawFace', 'RawImage', 'ReadMetricsOptions', 'RenderedChart', 'RgbImage', 'RunPlots',
      'SGDOptions', 'SGDState', 'SaveKind', 'ScheduleOptions', 'SetResult', 'SourcePosition',
      'StageAttention', 'StepParts', 'StepResult', 'SynthDataset', 'SynthOptions', 'TensorOptions',
      'TensorOrScalar', 'TrainBatch', 'TrainComponents', 'TrainConfig', 'TrainConfigInput',
      'TrainContext', 'TrainHooks', 'TrainOptions', 'TrainRecord', 'TrainResult', 'TrainSummary',
      'ValRecord', 'ValidationResult', 'Validator', 'WorkerFaceModel',
    ],
  },
  'data': {
    values: [
      'PickleError', 'RecordIOError', 'codecs', 'decode', 'encodeBin', 'encodeJpeg', 'encodePng',
      'imageDimensions', 'isTuple', 'loader', 'openImageFolder', 'openRecordIO', 'parseBin', 'readBin',
      'unpickle', 'writeBin', 'writeRecordIO',
    ],
    types: [
      'BadRecord', 'Batch', 'DecodedImage', 'ImageDataset', 'ImageFolderDataset', 'Loader',
      'LoaderOptions', 'LoaderPosition', 'OpenRecordIOOptions', 'PairSet', 'PickleCallable',
      'RecordIODataset', 'RecordIOInput', 'RecordIOPaths', 'Sample', 'SkippedEntry', 'UnpickleOptions', 'WriteBinOptions',
      'WriteRecordIOOptions', 'WriteRecordIOResult',
    ],
  },
  'distributed': {
    values: [
      'DataParallel', 'ProcessGroup', 'SetupMismatchError', 'ShardedMarginHead', 'allGatherWithGrad',
      'availableBackends', 'broadcastState', 'init', 'readLaunchEnv', 'shardRange',
    ],
    types: [
      'DataParallelOptions', 'Distributed', 'Fingerprint', 'InitOptions', 'LaunchEnv', 'ProcessGroupOptions',
      'ReduceOp', 'ShardableHeadOptions', 'ShardedHeadOptions',
    ],
  },
  'functional': {
    values: [
      'adaptiveAvgPool2d', 'adaptiveMaxPool2d', 'avgPool2d', 'batchNorm', 'conv1d', 'conv2d',
      'crossEntropy', 'dropout', 'leakyRelu', 'linear', 'logSoftmax', 'maxPool2d', 'mseLoss', 'nllLoss',
      'normalize', 'oneHot', 'pad', 'prelu', 'relu', 'sigmoid', 'softmax',
    ],
    types: [
      'BatchNormOptions', 'Conv2dOptions', 'Reduction',
    ],
  },
  'heads': {
    values: [
      'ArcFaceHead', 'CosFaceHead', 'CurricularFaceHead', 'HEAD_TYPES', 'Head', 'MagFaceHead',
      'MarginHead', 'MvArcFaceHead', 'SoftmaxHead', 'create', 'marginLoss',
    ],
    types: [
      'ArcFaceOptions', 'CosFaceOptions', 'CreateHeadOptions', 'CurricularFaceOptions', 'HeadBaseOptions',
      'HeadByType', 'HeadForwardOptions', 'HeadOutput', 'HeadStats', 'HeadType', 'MagFaceOptions',
      'MarginHeadOptions', 'MarginLossOptions', 'MarginLossResult', 'MarginNegative', 'MarginStats',
      'MarginTarget', 'MvArcFaceOptions', 'SoftmaxOptions',
    ],
  },
  'io': {
    values: [
      'CheckpointError', 'EventFileWriter', 'SafetensorsError', 'extractStateDict', 'loadSafetensors',
      'loadStateDict', 'mapInsightfaceStateDict', 'parseModelCard', 'parseSafetensors', 'readModelCard',
      'readSafetensorsHeader', 'readTorchCheckpoint', 'saveSafetensors', 'serializeSafetensors',
      'writeModelCard',
    ],
    types: [
      'CheckpointValue', 'EventContent', 'InsightfaceMapping', 'ModelCard', 'ModelCardValidation',
      'SafetensorsEntry', 'SafetensorsHeader', 'ScalarValue', 'TensorSource',
    ],
  },
  'models': {
    values: [
      'ARCHS', 'Backbone', 'IRBackbone', 'InsightfaceIResNet', 'MobileFaceNet', 'backbone',
      'backboneSpec', 'buildBackbone', 'inferIResNetSpec', 'iresnetSpec', 'parseBackboneSpec',
    ],
    types: [
      'Arch', 'BackboneOptions', 'BackboneSpec', 'IRSpec', 'IResNetSpec', 'MobileFaceNetSpec',
    ],
  },
  'nn': {
    values: [
      'ATTENTION_KINDS', 'AdaptiveAvgPool2d', 'Attention', 'AvgPool2d', 'BAM', 'BatchNorm', 'BatchNorm1d',
      'BatchNorm2d', 'CBAM', 'Conv1d', 'Conv2d', 'Dropout', 'ECA', 'ESCA', 'Flatten', 'Identity',
      'Linear', 'MaxPool2d', 'Module', 'ModuleList', 'PReLU', 'ReLU', 'SE', 'SGE', 'SK', 'Sequential',
      'Sigmoid', 'attention', 'init', 'profile', 'summary', 'weightDecayGroups',
    ],
    types: [
      'AttentionKind', 'BatchNormOptions', 'Conv1dOptions', 'Conv2dOptions', 'EscaGates', 'GateProbe',
      'LoadStateDictOptions', 'LoadStateDictResult', 'StateDict', 'SummaryRow', 'SummaryTotals', 'Tracer',
      'WeightDecayGroups',
    ],
  },
  'nn.init': {
    values: [
      'calculateGain', 'constant_', 'kaimingNormal_', 'kaimingUniform_', 'normal_', 'ones_', 'uniform_',
      'xavierNormal_', 'xavierUniform_', 'zeros_',
    ],
    types: [
      'KaimingOptions', 'Nonlinearity',
    ],
  },
  'verification': {
    values: [
      'evaluate', 'formatAccuracy', 'thresholdAtFar',
    ],
    types: [
      'TarAtFar', 'VerificationOptions', 'VerificationResult',
    ],
  },
};

/** Members of the `cuda` object (a plain object, not a namespace). */
const CUDA = ['cudnnBenchmark', 'deviceCount', 'deviceName', 'emptyCache', 'isAvailable', 'synchronize'];

const isNamespace = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && (v as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'Module';

/** The names of a module namespace object and, recursively, of the namespaces in it. */
function runtimeNames(ns: Record<string, unknown>, path = '', out = new Map<string, string[]>()): Map<string, string[]> {
  out.set(path, Object.keys(ns).sort());
  for (const [k, v] of Object.entries(ns)) if (isNamespace(v)) runtimeNames(v, path ? `${path}.${k}` : k, out);
  return out;
}

/** Every pinned name, qualified: `loadModel`, `nn.Conv2d`, `nn.init.zeros_`, `nn.StateDict`, … */
function qualifiedNames(): string[] {
  return Object.entries(EXPECTED).flatMap(([ns, s]) => [...s.values, ...s.types].map((n) => (ns ? `${ns}.${n}` : n)));
}

describe('the public API', () => {
  it('exports exactly the pinned values at run time, at the top level and in every namespace', () => {
    const got = runtimeNames(api as unknown as Record<string, unknown>);
    expect([...got.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const [ns, names] of got) expect(names, `namespace '${ns}'`).toEqual(EXPECTED[ns]!.values);
    expect(Object.keys(api.cuda).sort()).toEqual(CUDA);
  });

  it('exports exactly the pinned values and types to TypeScript', () => {
    const got = publicSurface();
    expect([...got.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const [ns, s] of got) expect(s, `namespace '${ns}'`).toEqual(EXPECTED[ns]);
  }, 120_000);

  it('the CommonJS build exports the same values', () => {
    const cjs = join(root, 'dist/cjs/index.js');
    expect(existsSync(cjs), `${cjs} is missing: run 'npm run build:ts' (npm test does it)`).toBe(true);
    const top = createRequire(import.meta.url)(cjs) as Record<string, unknown>;
    for (const ns of Object.keys(EXPECTED)) {
      // CommonJS namespaces are plain objects: reach each one by its path
      const obj = ns ? ns.split('.').reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, top) : top;
      expect(Object.keys(obj).sort(), `namespace '${ns}'`).toEqual(EXPECTED[ns]!.values);
    }
    expect(Object.keys(top.cuda as object).sort()).toEqual(CUDA);
  });

  it('docs/api.md lists every export once, and nothing that is not exported', () => {
    const md = readFileSync(join(root, 'docs/api.md'), 'utf8');
    const rows = [...md.matchAll(/^\| `([A-Za-z_$][\w$.]*)` \|/gm)].map((m) => m[1]!);
    const dup = rows.filter((r, i) => rows.indexOf(r) !== i);
    expect(dup, 'names listed twice in docs/api.md').toEqual([]);
    expect([...rows].sort()).toEqual(qualifiedNames().sort());
  });
});
