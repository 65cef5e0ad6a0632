/** Every attention kind a backbone can place in its blocks, 'none' first (the one list of them). */
export const ATTENTION_KINDS = ['none', 'esca', 'eca', 'se', 'cbam', 'bam', 'sk', 'sge'] as const;

/** An attention kind. */
export type AttentionKind = (typeof ATTENTION_KINDS)[number];
