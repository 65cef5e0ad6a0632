// Data natives (issue 5): image decode/encode for JS; the batch path lives in data/batch.cc.
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/args.h"
#include "core/errors.h"
#include "core/registry.h"
#include "data/batch.h"
#include "data/codec.h"

namespace ecf {

namespace {

Napi::Value MakeImageObject(Napi::Env env, const std::vector<uint8_t>& rgb, int w, int h) {
  Napi::Object o = Napi::Object::New(env);
  auto buf = Napi::ArrayBuffer::New(env, rgb.size());
  std::memcpy(buf.Data(), rgb.data(), rgb.size());
  o.Set("data", Napi::Uint8Array::New(env, rgb.size(), buf, 0));
  o.Set("width", Napi::Number::New(env, w));
  o.Set("height", Napi::Number::New(env, h));
  return o;
}

std::pair<const uint8_t*, std::size_t> BytesArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (info.Length() <= i || !info[i].IsTypedArray()) ThrowArgType(info.Env(), fn, arg, "a Uint8Array or Buffer");
  auto ta = info[i].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) ThrowArgType(info.Env(), fn, arg, "a Uint8Array or Buffer");
  auto u = info[i].As<Napi::Uint8Array>();
  return {u.Data(), u.ByteLength()};
}

// decodeImage(bytes, maxPixels?) → { data: Uint8Array (RGB HWC), width, height, warning? }; an image whose
// header declares more than maxPixels pixels is refused before anything is allocated.
Napi::Value DecodeImageJs(const Napi::CallbackInfo& info) {
  auto [p, n] = BytesArg(info, 0, "decode", "buffer");
  int64_t maxPixels = data::kMaxDecodePixels;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    maxPixels = IntArg(info, 1, "decode", "maxPixels");
    if (maxPixels < 1) throw std::invalid_argument("decode: maxPixels must be positive");
  }
  std::vector<uint8_t> rgb;
  int w = 0, h = 0;
  std::string err, warning;
  if (!data::DecodeImage(p, n, rgb, w, h, err, maxPixels, &warning)) throw std::runtime_error("decode: " + err);
  Napi::Value o = MakeImageObject(info.Env(), rgb, w, h);
  if (!warning.empty()) o.As<Napi::Object>().Set("warning", Napi::String::New(info.Env(), warning));
  return o;
}

void CheckRgb(const Napi::CallbackInfo& info, const char* fn, std::size_t n, int64_t w, int64_t h) {
  if (w <= 0 || h <= 0 || w > 65535 || h > 65535) throw std::invalid_argument(std::string(fn) + ": width and height must be in 1..65535");
  if (n != std::size_t(w * h * 3)) {
    throw std::invalid_argument(std::string(fn) + ": rgb has " + std::to_string(n) + " bytes, expected width·height·3 = " + std::to_string(w * h * 3));
  }
}

Napi::Value ToBuffer(Napi::Env env, const std::vector<uint8_t>& v) { return Napi::Buffer<uint8_t>::Copy(env, v.data(), v.size()); }

// encodeJpeg(rgb, width, height, quality) → Buffer
Napi::Value EncodeJpegJs(const Napi::CallbackInfo& info) {
  auto [p, n] = BytesArg(info, 0, "encodeJpeg", "rgb");
  int64_t w = IntArg(info, 1, "encodeJpeg", "width"), h = IntArg(info, 2, "encodeJpeg", "height");
  int64_t q = IntArg(info, 3, "encodeJpeg", "quality");
  CheckRgb(info, "encodeJpeg", n, w, h);
  if (q < 1 || q > 100) throw std::invalid_argument("encodeJpeg: quality must be in 1..100, got " + std::to_string(q));
  return ToBuffer(info.Env(), data::EncodeJpeg(p, int(w), int(h), int(q)));
}

// encodePng(rgb, width, height) → Buffer
Napi::Value EncodePngJs(const Napi::CallbackInfo& info) {
  auto [p, n] = BytesArg(info, 0, "encodePng", "rgb");
  int64_t w = IntArg(info, 1, "encodePng", "width"), h = IntArg(info, 2, "encodePng", "height");
  CheckRgb(info, "encodePng", n, w, h);
  return ToBuffer(info.Env(), data::EncodePng(p, int(w), int(h)));
}

Napi::Value CodecInfoJs(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("jpeg", Napi::Boolean::New(info.Env(), data::HasJpeg()));
  o.Set("png", Napi::Boolean::New(info.Env(), data::HasPng()));
  return o;
}

}  // namespace

void RegisterDataOps(Napi::Env env, Napi::Object exports) {
  Export<DecodeImageJs>(env, exports, "dataDecode");
  Export<EncodeJpegJs>(env, exports, "dataEncodeJpeg");
  Export<EncodePngJs>(env, exports, "dataEncodePng");
  Export<CodecInfoJs>(env, exports, "dataCodecs");
  RegisterDataBatchOps(env, exports);
}

}  // namespace ecf
