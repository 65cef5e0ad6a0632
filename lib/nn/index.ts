/** The `nn` namespace: the module system, layers, initialisers, summary and attention modules. */
export { Module, type StateDict, type LoadStateDictOptions, type LoadStateDictResult, type Tracer } from './module.js';
export { Conv1d, Conv2d, type Conv1dOptions, type Conv2dOptions } from './conv.js';
export { BatchNorm, BatchNorm1d, BatchNorm2d, type BatchNormOptions } from './batchnorm.js';
export { PReLU, ReLU, Sigmoid, Identity } from './activation.js';
export { Linear } from './linear.js';
export { Dropout } from './dropout.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d } from './pooling.js';
export { Sequential, ModuleList } from './container.js';
export { Flatten } from './flatten.js';
export * as init from './init.js';
export { summary, profile, type SummaryRow, type SummaryTotals } from './summary.js';
export { weightDecayGroups, type WeightDecayGroups } from './param-groups.js';
export * from './attention/index.js';
