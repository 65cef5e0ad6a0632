/** The attention family of the paper's comparison: ESCA, ECA, SE, CBAM, BAM, SK, SGE. */
export { Attention, ATTENTION_KINDS, type AttentionKind } from './base.js';
export { ECA } from './eca.js';
export { ESCA, type EscaGates, type GateProbe } from './esca.js';
export { SE } from './se.js';
export { CBAM } from './cbam.js';
export { BAM } from './bam.js';
export { SK } from './sk.js';
export { SGE } from './sge.js';
export { attention } from './factory.js';
