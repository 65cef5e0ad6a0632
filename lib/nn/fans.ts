/** Fan in and fan out of a weight, as torch.nn.init's `_calculate_fan_in_and_fan_out`. */
import type { Tensor } from '../tensor/index.js';

/** fan_in = size(1)·receptive field, fan_out = size(0)·receptive field (weights of ≥ 2 dims). */
export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  const s = t.shape;
  if (s.length < 2) throw new RangeError(`init: fan in and fan out need a tensor of at least 2 dimensions, got [${s.join(', ')}]`);
  let receptive = 1;
  for (let i = 2; i < s.length; i++) receptive *= s[i]!;
  return { fanIn: s[1]! * receptive, fanOut: s[0]! * receptive };
}
