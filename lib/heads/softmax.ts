/**
 * Softmax baseline: plain fully connected layer with bias, no normalisation and no
 * scale, then cross-entropy (the face.evoLVe "Softmax" head: xavier-uniform weight, zero bias).
 */
import { empty, functional as F, noGrad, scope, zeros, type Tensor } from '../tensor/index.js';
import { xavierUniform_ } from '../nn/init.js';
import { Head, type HeadBaseOptions, type HeadForwardOptions, type HeadOutput } from './head.js';

/** Options of {@link SoftmaxHead}. */
export type SoftmaxOptions = HeadBaseOptions;

/** Softmax head: logits = x·Wᵀ + b with `weight` [C, D] and `bias` [C] (nn.Linear layout). */
export class SoftmaxHead extends Head {
  weight: Tensor;
  bias: Tensor;

  constructor(o: SoftmaxOptions) {
    super(o, 'softmax');
    this.weight = this.registerParameter('weight', empty([this.numClasses, this.embeddingSize]));
    xavierUniform_(this.weight);
    this.bias = this.registerParameter('bias', zeros([this.numClasses]));
  }

  forward(embeddings: Tensor, labels: Tensor, options: HeadForwardOptions = {}): HeadOutput {
    this.checkInputs(embeddings, labels);
    const want = options.returnLogits ?? this.returnLogits;
    return scope(() => {
      const y = labels.long();
      const logits = F.linear(embeddings, this.weight, this.bias);
      const loss = F.crossEntropy(logits, y);
      const stats = noGrad(() => {
        // cos(x_i, w_{y_i}) from the B selected rows only.
        const wy = F.normalize(this.weight.indexSelect(0, y), { dim: 1 });
        const xh = F.normalize(embeddings, { dim: 1 });
        return {
          positiveCosine: xh.mul(wy).sum(1).mean().item(),
          top1: logits.argmax(1).eq(y).double().mean().item(),
        };
      });
      const out: HeadOutput = { loss, stats };
      if (want) out.logits = logits.detach();
      return out;
    });
  }
}
