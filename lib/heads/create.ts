/**
 * `heads.create({ type, numClasses, embeddingSize, ...options })`: a head by name with its paper's
 * defaults (s 64 and m 0.5 for the margin heads, CosFace m 0.35, MV-Arc t 0.2 with easy margin, MagFace
 * l_a 10, u_a 110, l_m 0.45, u_m 0.8, λ_g 35).
 */
import { ArcFaceHead, type ArcFaceOptions } from './arcface.js';
import { CosFaceHead, type CosFaceOptions } from './cosface.js';
import { CurricularFaceHead, type CurricularFaceOptions } from './curricularface.js';
import type { Head } from './head.js';
import { MagFaceHead, type MagFaceOptions } from './magface.js';
import { MvArcFaceHead, type MvArcFaceOptions } from './mv-arcface.js';
import { SoftmaxHead, type SoftmaxOptions } from './softmax.js';

import { HEAD_TYPES, type HeadType } from './options.js';

export { HEAD_TYPES, type HeadType } from './options.js';

/** Options of {@link create}: `type` plus that head's options. */
export type CreateHeadOptions =
  | ({ type: 'softmax' } & SoftmaxOptions)
  | ({ type: 'cosface' } & CosFaceOptions)
  | ({ type: 'arcface' } & ArcFaceOptions)
  | ({ type: 'mv-arcface' } & MvArcFaceOptions)
  | ({ type: 'curricularface' } & CurricularFaceOptions)
  | ({ type: 'magface' } & MagFaceOptions);

/** The head class for each type. */
export interface HeadByType {
  softmax: SoftmaxHead;
  cosface: CosFaceHead;
  arcface: ArcFaceHead;
  'mv-arcface': MvArcFaceHead;
  curricularface: CurricularFaceHead;
  magface: MagFaceHead;
}

/** Creates a head; throws a RangeError naming the unknown type. */
export function create<O extends CreateHeadOptions>(options: O): HeadByType[O['type']];
export function create(options: CreateHeadOptions): Head {
  if (typeof options !== 'object' || options === null) throw new TypeError('heads.create: options must be an object');
  const { type, ...rest } = options;
  switch (type) {
    case 'softmax':
      return new SoftmaxHead(rest as SoftmaxOptions);
    case 'cosface':
      return new CosFaceHead(rest as CosFaceOptions);
    case 'arcface':
      return new ArcFaceHead(rest as ArcFaceOptions);
    case 'mv-arcface':
      return new MvArcFaceHead(rest as MvArcFaceOptions);
    case 'curricularface':
      return new CurricularFaceHead(rest as CurricularFaceOptions);
    case 'magface':
      return new MagFaceHead(rest as MagFaceOptions);
    default:
      throw new RangeError(`heads.create: unknown type '${String(type)}' (expected one of ${HEAD_TYPES.join(', ')})`);
  }
}
