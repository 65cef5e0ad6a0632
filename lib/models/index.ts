/** The `models` namespace: backbone specs, the IR and MobileFaceNet builders, presets. */
export { Backbone, kaimingInit } from './backbone.js';
export { IRBackbone, BottleneckIR } from './ir.js';
export { MobileFaceNet, DepthWise, ConvBlock, ResidualStage } from './mobilefacenet.js';
export { backbone, backboneSpec, buildBackbone, ARCHS, type Arch, type BackboneOptions } from './presets.js';
export { parseBackboneSpec, type BackboneSpec, type IRSpec, type MobileFaceNetSpec } from './spec.js';
