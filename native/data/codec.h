// Image codecs for the data pipeline: JPEG through libjpeg-turbo's tj* API, PNG through
// libpng's simplified API. Plain C++ (no Node-API, no libtorch), safe to call from any thread:
// every call owns its codec state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ecf {
namespace data {

// The most pixels any decode allocates unless the caller asks for fewer (a header can claim
// 65535²; the header is checked before anything is allocated).
constexpr int64_t kMaxDecodePixels = int64_t(1) << 28;

// Decodes a JPEG or PNG into 8-bit RGB, HWC, rows packed. Returns false with `err` set on
// failure (never throws for bad data). JPEG warnings (extraneous bytes, a truncated file whose
// missing rows are filled grey) are accepted, as OpenCV/mxnet do, and given in `warning` when it
// is not null. CMYK/YCCK JPEGs are converted to RGB (naively, Adobe's inverted convention
// recognised, as PIL does).
bool DecodeImage(const uint8_t* data, std::size_t size, std::vector<uint8_t>& rgb, int& width,
                 int& height, std::string& err, int64_t maxPixels = kMaxDecodePixels,
                 std::string* warning = nullptr);

// A reusable decoder (keeps its JPEG decompressor between images); one per thread.
class Decoder {
 public:
  Decoder() = default;
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;
  // fast: libjpeg-turbo's fast IDCT and fast chroma upsampling (JPEG only; values then differ
  // from PIL/OpenCV by a few levels at chroma edges). maxPixels: images whose header declares
  // more pixels are refused before any allocation.
  bool Decode(const uint8_t* data, std::size_t size, std::vector<uint8_t>& rgb, int& width, int& height,
              std::string& err, bool fast = false, int64_t maxPixels = kMaxDecodePixels,
              std::string* warning = nullptr);

 private:
  void* tj_ = nullptr;
};

// Reads the dimensions only (false if the format is unknown or the header is bad).
bool ImageSize(const uint8_t* data, std::size_t size, int& width, int& height, std::string& err);

// Encoders of packed RGB HWC; throw std::runtime_error on failure.
std::vector<uint8_t> EncodeJpeg(const uint8_t* rgb, int width, int height, int quality);
std::vector<uint8_t> EncodePng(const uint8_t* rgb, int width, int height);

bool HasJpeg();
bool HasPng();

}  // namespace data
}  // namespace ecf
