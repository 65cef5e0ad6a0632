// The two pieces of MTCNN detection that libtorch lacks (1.13 has no NMS and no crop-and-resize
// without torchvision); the networks and the cascade are TypeScript (lib/detect/).
//
// Exported:
//   detectResample(pixels: Uint8Array RGB HWC, width, height, boxes: Float64Array [N·4], outH, outW)
//       -> Tensor float32 [N, 3, outH, outW], (v − 127.5)/128
//     Each box (x1, y1, x2, y2) is a region in continuous pixel coordinates (pixel k covers [k, k+1)),
//     resampled to outH×outW with a separable triangle filter whose support widens with the
//     downscale factor (antialiased, as PIL's BILINEAR; plain bilinear when upscaling). Pixels
//     outside the image count as 0 (black), as the original MTCNN pads crops. Boxes run in parallel.
//   detectNms(boxes: Tensor [N, 4], scores: Tensor [N], groups: Tensor int64 [N] | null,
//             threshold, minMode: bool) -> Tensor int64 [K]
//     Greedy non-maximum suppression within each group (e.g. photo, or photo × scale), the original
//     MTCNN's: areas (x2 − x1 + 1)(y2 − y1 + 1), overlap / union (or / min area with minMode), a box
//     is dropped when its overlap with a kept higher-scoring box is > threshold. Returns the kept
//     indices, group by group (ascending group id), each by descending score (ties: lower index).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/args.h"
#include "core/errors.h"
#include "core/tensor_handle.h"

namespace ecf {
namespace {

// Taps of one output coordinate: source indices [first, first + weights.size()) and their weights.
struct Taps {
  int64_t first = 0;
  std::vector<float> weights;
};

// Filter taps for `n` output samples covering [lo, hi) of the source axis.
std::vector<Taps> AxisTaps(double lo, double hi, int64_t n) {
  std::vector<Taps> taps(static_cast<size_t>(n));
  const double step = (hi - lo) / double(n);
  const double support = std::max(step, 1.0);
  for (int64_t j = 0; j < n; ++j) {
    const double centre = lo + (double(j) + 0.5) * step;  // continuous coordinate of the sample
    const double c = centre - 0.5;                          // in source pixel-index units
    const int64_t a = int64_t(std::floor(c - support)) + 1;
    const int64_t b = int64_t(std::ceil(c + support)) - 1;
    Taps& t = taps[size_t(j)];
    t.first = a;
    double sum = 0;
    for (int64_t k = a; k <= b; ++k) {
      const double w = std::max(0.0, 1.0 - std::abs(double(k) - c) / support);
      t.weights.push_back(float(w));
      sum += w;
    }
    if (sum <= 0) {  // (degenerate: cannot happen for support ≥ 1, kept for safety)
      t.first = int64_t(std::floor(c + 0.5));
      t.weights.assign(1, 1.0f);
      sum = 1;
    }
    for (float& w : t.weights) w = float(w / sum);
  }
  return taps;
}

void ResampleOne(const uint8_t* img, int64_t W, int64_t H, const double* box, int64_t oh, int64_t ow, float* out) {
  const std::vector<Taps> tx = AxisTaps(box[0], box[2], ow);
  const std::vector<Taps> ty = AxisTaps(box[1], box[3], oh);
  // horizontal pass over the image rows the vertical taps reach: rows × ow × 3
  const int64_t y0 = std::max<int64_t>(ty.front().first, 0);
  const int64_t y1 = std::min<int64_t>(ty.back().first + int64_t(ty.back().weights.size()), H);  // exclusive
  std::vector<float> tmp(size_t(std::max<int64_t>(y1 - y0, 0) * ow * 3), 0.0f);
  for (int64_t y = y0; y < y1; ++y) {
    const uint8_t* row = img + y * W * 3;
    float* dst = tmp.data() + (y - y0) * ow * 3;
    for (int64_t j = 0; j < ow; ++j) {
      const Taps& t = tx[size_t(j)];
      float r = 0, g = 0, b = 0;
      for (size_t k = 0; k < t.weights.size(); ++k) {
        const int64_t x = t.first + int64_t(k);
        if (x < 0 || x >= W) continue;
        const uint8_t* p = row + x * 3;
        const float w = t.weights[k];
        r += w * p[0];
        g += w * p[1];
        b += w * p[2];
      }
      dst[j * 3] = r;
      dst[j * 3 + 1] = g;
      dst[j * 3 + 2] = b;
    }
  }
  const int64_t plane = oh * ow;
  for (int64_t i = 0; i < oh; ++i) {
    const Taps& t = ty[size_t(i)];
    for (int64_t j = 0; j < ow; ++j) {
      float acc[3] = {0, 0, 0};
      for (size_t k = 0; k < t.weights.size(); ++k) {
        const int64_t y = t.first + int64_t(k);
        if (y < y0 || y >= y1) continue;  // outside the image: black
        const float* s = tmp.data() + ((y - y0) * ow + j) * 3;
        const float w = t.weights[k];
        acc[0] += w * s[0];
        acc[1] += w * s[1];
        acc[2] += w * s[2];
      }
      for (int c = 0; c < 3; ++c) out[c * plane + i * ow + j] = (acc[c] - 127.5f) * 0.0078125f;
    }
  }
}

Napi::Value DetectResample(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "detectResample";
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowArgType(info.Env(), kFn, "pixels", "a Uint8Array (RGB HWC)");
  }
  auto px = info[0].As<Napi::Uint8Array>();
  const int64_t W = IntArg(info, 1, kFn, "width"), H = IntArg(info, 2, kFn, "height");
  if (W < 1 || H < 1 || size_t(W) * size_t(H) * 3 != px.ByteLength()) {
    throw std::invalid_argument(std::string(kFn) + ": pixels hold " + std::to_string(px.ByteLength()) + " bytes, expected width·height·3 for " +
                                std::to_string(W) + "×" + std::to_string(H));
  }
  if (info.Length() < 4 || !info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    ThrowArgType(info.Env(), kFn, "boxes", "a Float64Array of x1, y1, x2, y2 per box");
  }
  auto bx = info[3].As<Napi::Float64Array>();
  const int64_t oh = IntArg(info, 4, kFn, "outH"), ow = IntArg(info, 5, kFn, "outW");
  if (oh < 1 || ow < 1 || oh > 16384 || ow > 16384) throw std::invalid_argument(std::string(kFn) + ": output size must be in 1..16384");
  if (bx.ElementLength() % 4 != 0) throw std::invalid_argument(std::string(kFn) + ": boxes must hold 4 numbers per box");
  const int64_t n = int64_t(bx.ElementLength() / 4);
  const double* boxes = bx.Data();
  for (int64_t i = 0; i < n; ++i) {
    const double* b = boxes + i * 4;
    if (!(std::isfinite(b[0]) && std::isfinite(b[1]) && std::isfinite(b[2]) && std::isfinite(b[3])) || !(b[2] > b[0]) || !(b[3] > b[1]) ||
        std::abs(b[0]) > 1e6 || std::abs(b[1]) > 1e6 || std::abs(b[2]) > 1e6 || std::abs(b[3]) > 1e6) {
      throw std::invalid_argument(std::string(kFn) + ": box " + std::to_string(i) + " is empty or not finite");
    }
  }
  at::Tensor out = at::empty({n, 3, oh, ow}, at::kFloat);
  float* dst = out.data_ptr<float>();
  const uint8_t* img = px.Data();
  const int64_t per = 3 * oh * ow;
  at::parallel_for(0, n, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) ResampleOne(img, W, H, boxes + i * 4, oh, ow, dst + i * per);
  });
  return Wrap(info.Env(), out);
}

Napi::Value DetectNms(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "detectNms";
  at::Tensor boxes = TensorArg(info, 0, kFn, "boxes").to(at::kCPU, at::kDouble).contiguous();
  at::Tensor scores = TensorArg(info, 1, kFn, "scores").to(at::kCPU, at::kDouble).contiguous();
  at::Tensor groups = OptTensorArg(info, 2, kFn, "groups");
  const double thr = DoubleArg(info, 3, kFn, "threshold");
  const bool minMode = BoolArg(info, 4, kFn, "minMode");
  if (boxes.dim() != 2 || boxes.size(1) != 4) throw std::invalid_argument(std::string(kFn) + ": boxes must be [N, 4]");
  const int64_t n = boxes.size(0);
  if (scores.dim() != 1 || scores.size(0) != n) throw std::invalid_argument(std::string(kFn) + ": scores must be [N] for " + std::to_string(n) + " boxes");
  std::vector<int64_t> g(static_cast<size_t>(n), 0);
  if (groups.defined()) {
    at::Tensor gg = groups.to(at::kCPU, at::kLong).contiguous();
    if (gg.dim() != 1 || gg.size(0) != n) throw std::invalid_argument(std::string(kFn) + ": groups must be [N]");
    std::copy(gg.data_ptr<int64_t>(), gg.data_ptr<int64_t>() + n, g.begin());
  }
  const double* bp = boxes.data_ptr<double>();
  const double* sp = scores.data_ptr<double>();
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (g[size_t(a)] != g[size_t(b)]) return g[size_t(a)] < g[size_t(b)];
    return sp[a] > sp[b];
  });
  std::vector<double> area(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) area[size_t(i)] = (bp[i * 4 + 2] - bp[i * 4] + 1) * (bp[i * 4 + 3] - bp[i * 4 + 1] + 1);
  std::vector<char> dead(static_cast<size_t>(n), 0);
  std::vector<int64_t> keep;
  size_t start = 0;
  while (start < order.size()) {
    size_t end = start;
    while (end < order.size() && g[size_t(order[end])] == g[size_t(order[start])]) ++end;
    for (size_t a = start; a < end; ++a) {
      const int64_t i = order[a];
      if (dead[size_t(i)]) continue;
      keep.push_back(i);
      const double* bi = bp + i * 4;
      for (size_t c = a + 1; c < end; ++c) {
        const int64_t j = order[c];
        if (dead[size_t(j)]) continue;
        const double* bj = bp + j * 4;
        const double w = std::max(0.0, std::min(bi[2], bj[2]) - std::max(bi[0], bj[0]) + 1);
        const double h = std::max(0.0, std::min(bi[3], bj[3]) - std::max(bi[1], bj[1]) + 1);
        const double inter = w * h;
        const double denom = minMode ? std::min(area[size_t(i)], area[size_t(j)]) : area[size_t(i)] + area[size_t(j)] - inter;
        if (inter / denom > thr) dead[size_t(j)] = 1;
      }
    }
    start = end;
  }
  at::Tensor out = at::empty({int64_t(keep.size())}, at::kLong);
  std::copy(keep.begin(), keep.end(), out.data_ptr<int64_t>());
  return Wrap(info.Env(), out);
}

}  // namespace

void RegisterDetectOps(Napi::Env env, Napi::Object exports) {
  Export<DetectResample>(env, exports, "detectResample");
  Export<DetectNms>(env, exports, "detectNms");
}

}  // namespace ecf
