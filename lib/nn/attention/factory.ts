/** `attention(kind, channels)`: builds an attention module by name ('none' → null). */
import { ATTENTION_KINDS, type Attention, type AttentionKind } from './base.js';
import { BAM } from './bam.js';
import { CBAM } from './cbam.js';
import { ECA } from './eca.js';
import { ESCA } from './esca.js';
import { SE } from './se.js';
import { SGE } from './sge.js';
import { SK } from './sk.js';

/** A new attention module of `kind` on `channels` channels, with its own defaults; null for 'none'. */
export function attention(kind: AttentionKind, channels: number): Attention | null {
  switch (kind) {
    case 'none':
      return null;
    case 'esca':
      return new ESCA(channels);
    case 'eca':
      return new ECA(channels);
    case 'se':
      return new SE(channels);
    case 'cbam':
      return new CBAM(channels);
    case 'bam':
      return new BAM(channels);
    case 'sk':
      return new SK(channels);
    case 'sge':
      return new SGE(channels);
    default:
      throw new RangeError(`attention: unknown kind ${JSON.stringify(kind)}; expected one of ${ATTENTION_KINDS.join(', ')}`);
  }
}
