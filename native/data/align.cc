// Five-point face alignment: the least-squares similarity transform (Umeyama, no reflection) that
// maps the detected landmarks onto a template, and a bilinear warp of the image through it.
// This is insightface's `norm_crop` (skimage SimilarityTransform.estimate + cv2.warpAffine with
// INTER_LINEAR and BORDER_CONSTANT 0) in plain C++: no ATen, no OpenCV.
//
// Exported:
//   similarityTransform(src: number[2N], dst: number[2N]) -> number[6]   row-major 2×3 [a -b tx; b a ty]
//   alignWarp(data: Uint8Array HWC, width, height, channels, landmarks: number[10],
//             template: number[10], outWidth, outHeight) -> { data: Buffer, matrix: number[6] }
#include <napi.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/args.h"
#include "core/errors.h"
#include "core/registry.h"

namespace ecf {
namespace {

using Affine = std::array<double, 6>;  // x' = m0 x + m1 y + m2;  y' = m3 x + m4 y + m5

std::vector<double> PointsArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (info.Length() <= i || !info[i].IsArray()) ThrowArgType(info.Env(), fn, arg, "an array of numbers (x0, y0, x1, y1, …)");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<double> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value v = a.Get(k);
    if (!v.IsNumber()) ThrowArgType(info.Env(), fn, arg, "an array of numbers (x0, y0, x1, y1, …)");
    out[k] = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(out[k])) {
      throw std::invalid_argument(std::string(fn) + ": " + arg + "[" + std::to_string(k) + "] is not a finite number");
    }
  }
  if (out.size() < 4 || out.size() % 2 != 0) {
    throw std::invalid_argument(std::string(fn) + ": " + arg + " must hold x, y pairs of at least 2 points, got " +
                                std::to_string(out.size()) + " numbers");
  }
  return out;
}

// Least squares over x' = a x − b y + tx, y' = b x + a y + ty (rotation + uniform scale + shift):
// with centred points p (source) and q (destination),
//   a = Σ p·q / Σ|p|²,  b = Σ (p_x q_y − p_y q_x) / Σ|p|².
// This is the minimiser of Σ|q − sRp|² over s ≥ 0 and proper rotations R, i.e. Umeyama's
// estimate with the reflection correction (skimage's `_umeyama(estimate_scale=True)`).
Affine Similarity(const std::vector<double>& src, const std::vector<double>& dst, const char* fn) {
  if (src.size() != dst.size()) {
    throw std::invalid_argument(std::string(fn) + ": landmarks have " + std::to_string(src.size() / 2) +
                                " points but the template has " + std::to_string(dst.size() / 2));
  }
  const size_t n = src.size() / 2;
  double sx = 0, sy = 0, dx = 0, dy = 0;
  for (size_t i = 0; i < n; ++i) {
    sx += src[2 * i];
    sy += src[2 * i + 1];
    dx += dst[2 * i];
    dy += dst[2 * i + 1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  double pp = 0, dot = 0, cross = 0;
  for (size_t i = 0; i < n; ++i) {
    const double px = src[2 * i] - sx, py = src[2 * i + 1] - sy;
    const double qx = dst[2 * i] - dx, qy = dst[2 * i + 1] - dy;
    pp += px * px + py * py;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
  }
  if (!(pp > 1e-12)) {
    throw std::invalid_argument(std::string(fn) + ": the landmarks all lie on one point; no similarity transform exists");
  }
  const double a = dot / pp, b = cross / pp;
  return {a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy)};
}

Napi::Array ToJs(Napi::Env env, const Affine& m) {
  Napi::Array out = Napi::Array::New(env, 6);
  for (uint32_t i = 0; i < 6; ++i) out.Set(i, Napi::Number::New(env, m[i]));
  return out;
}

// Bilinear sampling with pixel centres at integer coordinates (as cv2) and constant-0 border: a
// neighbour outside the image contributes 0, so edges fade into black as in cv2.warpAffine with
// BORDER_CONSTANT and borderValue 0. The result is rounded to nearest and saturated to 0..255.
void Warp(const uint8_t* src, int64_t w, int64_t h, int64_t c, const Affine& m, uint8_t* out, int64_t ow, int64_t oh) {
  // inverse of the 2×2 part: output → source
  const double det = m[0] * m[4] - m[1] * m[3];
  const double i0 = m[4] / det, i1 = -m[1] / det, i3 = -m[3] / det, i4 = m[0] / det;
  const double i2 = -(i0 * m[2] + i1 * m[5]), i5 = -(i3 * m[2] + i4 * m[5]);
  std::vector<double> acc(static_cast<size_t>(c));
  for (int64_t y = 0; y < oh; ++y) {
    for (int64_t x = 0; x < ow; ++x) {
      const double fx = i0 * x + i1 * y + i2;
      const double fy = i3 * x + i4 * y + i5;
      uint8_t* o = out + (y * ow + x) * c;
      const double x0f = std::floor(fx), y0f = std::floor(fy);
      if (!(x0f >= -1 && x0f < w && y0f >= -1 && y0f < h)) {
        for (int64_t k = 0; k < c; ++k) o[k] = 0;
        continue;
      }
      const int64_t x0 = static_cast<int64_t>(x0f), y0 = static_cast<int64_t>(y0f);
      const double ax = fx - x0f, ay = fy - y0f;
      const double wts[4] = {(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay};
      const int64_t xs[4] = {x0, x0 + 1, x0, x0 + 1};
      const int64_t ys[4] = {y0, y0, y0 + 1, y0 + 1};
      for (int64_t k = 0; k < c; ++k) acc[k] = 0;
      for (int j = 0; j < 4; ++j) {
        if (xs[j] < 0 || xs[j] >= w || ys[j] < 0 || ys[j] >= h || wts[j] == 0) continue;
        const uint8_t* p = src + (ys[j] * w + xs[j]) * c;
        for (int64_t k = 0; k < c; ++k) acc[k] += wts[j] * p[k];
      }
      for (int64_t k = 0; k < c; ++k) {
        const double v = std::floor(acc[k] + 0.5);
        o[k] = static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
      }
    }
  }
}

Napi::Value SimilarityTransform(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "similarityTransform";
  std::vector<double> src = PointsArg(info, 0, kFn, "src");
  std::vector<double> dst = PointsArg(info, 1, kFn, "dst");
  return ToJs(info.Env(), Similarity(src, dst, kFn));
}

Napi::Value AlignWarp(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "alignWarp";
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) ThrowArgType(env, kFn, "data", "a Uint8Array of HWC pixels");
  Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array && ta.TypedArrayType() != napi_uint8_clamped_array) {
    ThrowArgType(env, kFn, "data", "a Uint8Array of HWC pixels");
  }
  const int64_t w = IntArg(info, 1, kFn, "width");
  const int64_t h = IntArg(info, 2, kFn, "height");
  const int64_t c = IntArg(info, 3, kFn, "channels");
  if (w < 1 || h < 1 || c < 1 || c > 4) {
    throw std::out_of_range(std::string(kFn) + ": image size " + std::to_string(w) + "×" + std::to_string(h) + "×" +
                            std::to_string(c) + " is invalid (width, height ≥ 1; 1 to 4 channels)");
  }
  const size_t need = static_cast<size_t>(w) * static_cast<size_t>(h) * static_cast<size_t>(c);
  if (ta.ByteLength() != need) {
    throw std::invalid_argument(std::string(kFn) + ": data has " + std::to_string(ta.ByteLength()) + " bytes but a " +
                                std::to_string(w) + "×" + std::to_string(h) + "×" + std::to_string(c) +
                                " image needs " + std::to_string(need));
  }
  std::vector<double> lm = PointsArg(info, 4, kFn, "landmarks");
  std::vector<double> tpl = PointsArg(info, 5, kFn, "template");
  const int64_t ow = IntArg(info, 6, kFn, "outWidth");
  const int64_t oh = IntArg(info, 7, kFn, "outHeight");
  if (ow < 1 || oh < 1 || ow > 4096 || oh > 4096) {
    throw std::out_of_range(std::string(kFn) + ": output size " + std::to_string(ow) + "×" + std::to_string(oh) +
                            " is out of range (1 to 4096)");
  }
  const Affine m = Similarity(lm, tpl, kFn);
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(ow * oh * c));
  const uint8_t* src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  Warp(src, w, h, c, m, out.Data(), ow, oh);
  Napi::Object res = Napi::Object::New(env);
  res.Set("data", out);
  res.Set("matrix", ToJs(env, m));
  return res;
}

}  // namespace

void RegisterImageOps(Napi::Env env, Napi::Object exports) {
  Export<SimilarityTransform>(env, exports, "similarityTransform");
  Export<AlignWarp>(env, exports, "alignWarp");
}

}  // namespace ecf
