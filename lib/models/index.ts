/**
 * The `models` namespace: backbone specs and presets, the IR and MobileFaceNet backbones, and
 * insightface's iresnet layout (to run its checkpoints as they are).
 */
export { Backbone } from './backbone.js';
export { IRBackbone } from './ir.js';
export { MobileFaceNet } from './mobilefacenet.js';
export { backbone, backboneSpec, buildBackbone, ARCHS, type Arch, type BackboneOptions } from './presets.js';
export { parseBackboneSpec, type BackboneSpec, type IRSpec, type MobileFaceNetSpec } from './spec.js';
export { InsightfaceIResNet, iresnetSpec, inferIResNetSpec, type IResNetSpec } from './insightface-iresnet.js';
