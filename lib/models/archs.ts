/** The preset architectures (the one list of them; presets.ts builds their specs). */
export const ARCHS = ['mobilefacenet', 'ir18', 'ir34', 'ir50', 'ir101', 'ir152'] as const;

/** A preset architecture. */
export type Arch = (typeof ARCHS)[number];
