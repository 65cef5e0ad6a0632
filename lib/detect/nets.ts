/**
 * The three MTCNN networks (Zhang et al. 2016) as modules of our nn: P-Net (fully convolutional
 * proposals, 12×12 receptive field, stride 2), R-Net (24×24 refinement) and O-Net (48×48 output with
 * five landmarks). Inputs are RGB NCHW in the image's natural orientation, scaled (v − 127.5)/128.
 * Pooling uses ceil mode (Caffe's, = TensorFlow SAME where the original uses it).
 *
 * Layer names follow the original layer names (conv1, prelu1, …, dense5_1); the dense layer after
 * the last convolution reads our NCHW flattening (scripts/convert-mtcnn.py permutes its columns).
 */
import { functional as F, scope, type Tensor } from '../tensor/index.js';
import { PReLU } from '../nn/activation.js';
import { Conv2d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { MaxPool2d } from '../nn/pooling.js';

/** P-Net output: face probability [N, H', W'] and box regression [N, 4, H', W'] (dx1, dy1, dx2, dy2). */
export interface PNetOutput {
  prob: Tensor;
  reg: Tensor;
}

/** R-Net output: face probability [N] and box regression [N, 4]. */
export interface RNetOutput {
  prob: Tensor;
  reg: Tensor;
}

/** O-Net output: probability [N], box regression [N, 4], landmarks [N, 10] (x1…x5, y1…y5 as box fractions). */
export interface ONetOutput {
  prob: Tensor;
  reg: Tensor;
  landmarks: Tensor;
}

abstract class Stage<Out> extends Module<[Tensor], Out> {
  protected conv(name: string, inC: number, outC: number, k: number): Conv2d {
    return this.registerModule(name, new Conv2d(inC, outC, k));
  }
  protected prelu(name: string, c: number): PReLU {
    return this.registerModule(name, new PReLU(c));
  }
  protected pool(name: string, k: number): MaxPool2d {
    return this.registerModule(name, new MaxPool2d(k, { stride: 2, ceilMode: true }));
  }
}

/** The proposal network: 6,632 parameters. */
export class PNet extends Stage<PNetOutput> {
  readonly conv1 = this.conv('conv1', 3, 10, 3);
  readonly prelu1 = this.prelu('prelu1', 10);
  readonly pool1 = this.pool('pool1', 2);
  readonly conv2 = this.conv('conv2', 10, 16, 3);
  readonly prelu2 = this.prelu('prelu2', 16);
  readonly conv3 = this.conv('conv3', 16, 32, 3);
  readonly prelu3 = this.prelu('prelu3', 32);
  readonly conv4_1 = this.conv('conv4_1', 32, 2, 1);
  readonly conv4_2 = this.conv('conv4_2', 32, 4, 1);

  forward(x: Tensor): PNetOutput {
    return scope(() => {
      let h = this.pool1.forward(this.prelu1.forward(this.conv1.forward(x)));
      h = this.prelu2.forward(this.conv2.forward(h));
      h = this.prelu3.forward(this.conv3.forward(h));
      // softmax over two logits = sigmoid of their difference
      const logits = this.conv4_1.forward(h);
      const prob = logits.select(1, 1).sub(logits.select(1, 0)).sigmoid();
      return { prob, reg: this.conv4_2.forward(h) };
    });
  }
}

/** The refinement network: 100,178 parameters, input 24×24. */
export class RNet extends Stage<RNetOutput> {
  readonly conv1 = this.conv('conv1', 3, 28, 3);
  readonly prelu1 = this.prelu('prelu1', 28);
  readonly pool1 = this.pool('pool1', 3);
  readonly conv2 = this.conv('conv2', 28, 48, 3);
  readonly prelu2 = this.prelu('prelu2', 48);
  readonly pool2 = this.pool('pool2', 3);
  readonly conv3 = this.conv('conv3', 48, 64, 2);
  readonly prelu3 = this.prelu('prelu3', 64);
  readonly dense4 = this.registerModule('dense4', new Linear(576, 128));
  readonly prelu4 = this.prelu('prelu4', 128);
  readonly dense5_1 = this.registerModule('dense5_1', new Linear(128, 2));
  readonly dense5_2 = this.registerModule('dense5_2', new Linear(128, 4));

  forward(x: Tensor): RNetOutput {
    return scope(() => {
      let h = this.pool1.forward(this.prelu1.forward(this.conv1.forward(x)));
      h = this.pool2.forward(this.prelu2.forward(this.conv2.forward(h)));
      h = this.prelu3.forward(this.conv3.forward(h)).flatten(1);
      h = this.prelu4.forward(this.dense4.forward(h));
      const logits = this.dense5_1.forward(h);
      return { prob: F.softmax(logits, 1).select(1, 1), reg: this.dense5_2.forward(h) };
    });
  }
}

/** The output network: 389,040 parameters, input 48×48. */
export class ONet extends Stage<ONetOutput> {
  readonly conv1 = this.conv('conv1', 3, 32, 3);
  readonly prelu1 = this.prelu('prelu1', 32);
  readonly pool1 = this.pool('pool1', 3);
  readonly conv2 = this.conv('conv2', 32, 64, 3);
  readonly prelu2 = this.prelu('prelu2', 64);
  readonly pool2 = this.pool('pool2', 3);
  readonly conv3 = this.conv('conv3', 64, 64, 3);
  readonly prelu3 = this.prelu('prelu3', 64);
  readonly pool3 = this.pool('pool3', 2);
  readonly conv4 = this.conv('conv4', 64, 128, 2);
  readonly prelu4 = this.prelu('prelu4', 128);
  readonly dense5 = this.registerModule('dense5', new Linear(1152, 256));
  readonly prelu5 = this.prelu('prelu5', 256);
  readonly dense6_1 = this.registerModule('dense6_1', new Linear(256, 2));
  readonly dense6_2 = this.registerModule('dense6_2', new Linear(256, 4));
  readonly dense6_3 = this.registerModule('dense6_3', new Linear(256, 10));

  forward(x: Tensor): ONetOutput {
    return scope(() => {
      let h = this.pool1.forward(this.prelu1.forward(this.conv1.forward(x)));
      h = this.pool2.forward(this.prelu2.forward(this.conv2.forward(h)));
      h = this.pool3.forward(this.prelu3.forward(this.conv3.forward(h)));
      h = this.prelu4.forward(this.conv4.forward(h)).flatten(1);
      h = this.prelu5.forward(this.dense5.forward(h));
      const logits = this.dense6_1.forward(h);
      return { prob: F.softmax(logits, 1).select(1, 1), reg: this.dense6_2.forward(h), landmarks: this.dense6_3.forward(h) };
    });
  }
}
