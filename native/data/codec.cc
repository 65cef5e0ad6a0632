#include "data/codec.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>

#ifdef ECF_WITH_TURBOJPEG
#include <turbojpeg.h>
#endif
#ifdef ECF_WITH_PNG
#include <png.h>
#endif

namespace ecf {
namespace data {

namespace {

bool IsJpeg(const uint8_t* d, std::size_t n) { return n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF; }
bool IsPng(const uint8_t* d, std::size_t n) {
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  return n >= 8 && std::memcmp(d, sig, 8) == 0;
}

#ifdef ECF_WITH_TURBOJPEG
struct TjDeleter {
  void operator()(void* h) const {
    if (h) tjDestroy(h);
  }
};
using TjHandle = std::unique_ptr<void, TjDeleter>;
#endif

// Refuses a header's dimensions that are not positive or exceed maxPixels (before allocating).
bool CheckDimensions(const char* fmt, int width, int height, int64_t maxPixels, std::string& err) {
  if (width <= 0 || height <= 0) {
    err = std::string(fmt) + " dimensions " + std::to_string(width) + "x" + std::to_string(height) + " out of range";
    return false;
  }
  const int64_t px = int64_t(width) * height;
  if (px > std::min(maxPixels, kMaxDecodePixels)) {
    err = std::string(fmt) + " header declares " + std::to_string(width) + "x" + std::to_string(height) + " (" + std::to_string(px) +
          " pixels), more than the " + std::to_string(std::min(maxPixels, kMaxDecodePixels)) + " allowed here";
    return false;
  }
  return true;
}

#ifdef ECF_WITH_TURBOJPEG
// Whether a JPEG carries an Adobe APP14 marker (before its first scan): Photoshop and PIL store
// CMYK inverted (0 = full ink) in such files, and libjpeg leaves the values as stored.
bool HasAdobeMarker(const uint8_t* d, std::size_t n) {
  std::size_t p = 2;
  while (p + 4 <= n && d[p] == 0xFF) {
    const uint8_t m = d[p + 1];
    if (m == 0xDA || m == 0xD9) break;  // start of scan, end of image
    const std::size_t len = (std::size_t(d[p + 2]) << 8) | d[p + 3];
    if (m == 0xEE && len >= 7 && p + 9 <= n && std::memcmp(d + p + 4, "Adobe", 5) == 0) return true;
    p += 2 + len;
  }
  return false;
}

// CMYK (4 bytes per pixel) to RGB in place of `rgb` (its first 3/4): R = (255 − C)(255 − K)/255,
// … as PIL's CMYK→RGB; `inverted` for Adobe's convention.
void CmykToRgb(const std::vector<uint8_t>& cmyk, std::vector<uint8_t>& rgb, std::size_t pixels, bool inverted) {
  rgb.resize(pixels * 3);
  for (std::size_t i = 0; i < pixels; ++i) {
    const uint8_t* s = &cmyk[i * 4];
    const int k = inverted ? s[3] : 255 - s[3];
    for (int c = 0; c < 3; ++c) {
      const int v = inverted ? s[c] : 255 - s[c];
      rgb[i * 3 + c] = static_cast<uint8_t>((v * k + 127) / 255);
    }
  }
}
#endif

}  // namespace

bool HasJpeg() {
#ifdef ECF_WITH_TURBOJPEG
  return true;
#else
  return false;
#endif
}

bool HasPng() {
#ifdef ECF_WITH_PNG
  return true;
#else
  return false;
#endif
}

bool ImageSize(const uint8_t* data, std::size_t size, int& width, int& height, std::string& err) {
  if (IsJpeg(data, size)) {
#ifdef ECF_WITH_TURBOJPEG
    TjHandle h(tjInitDecompress());
    if (!h) {
      err = "cannot create a JPEG decompressor";
      return false;
    }
    int subsamp = 0, colorspace = 0;
    if (tjDecompressHeader3(h.get(), data, static_cast<unsigned long>(size), &width, &height, &subsamp, &colorspace) != 0) {
      err = std::string("JPEG header: ") + tjGetErrorStr2(h.get());
      return false;
    }
    return true;
#else
    err = "JPEG support is not built in (libturbojpeg was not found at build time)";
    return false;
#endif
  }
  if (IsPng(data, size)) {
    if (size < 24) {
      err = "PNG header truncated";
      return false;
    }
    width = static_cast<int>((uint32_t(data[16]) << 24) | (uint32_t(data[17]) << 16) | (uint32_t(data[18]) << 8) | data[19]);
    height = static_cast<int>((uint32_t(data[20]) << 24) | (uint32_t(data[21]) << 16) | (uint32_t(data[22]) << 8) | data[23]);
    return true;
  }
  err = size == 0 ? "empty image data" : "not a JPEG or PNG (unknown signature)";
  return false;
}

Decoder::~Decoder() {
#ifdef ECF_WITH_TURBOJPEG
  if (tj_) tjDestroy(tj_);
#endif
}

bool DecodeImage(const uint8_t* data, std::size_t size, std::vector<uint8_t>& rgb, int& width,
                 int& height, std::string& err, int64_t maxPixels, std::string* warning) {
  Decoder d;
  return d.Decode(data, size, rgb, width, height, err, false, maxPixels, warning);
}

bool Decoder::Decode(const uint8_t* data, std::size_t size, std::vector<uint8_t>& rgb, int& width,
                     int& height, std::string& err, bool fast, int64_t maxPixels, std::string* warning) {
  if (IsJpeg(data, size)) {
#ifdef ECF_WITH_TURBOJPEG
    if (!tj_) tj_ = tjInitDecompress();
    if (!tj_) {
      err = "cannot create a JPEG decompressor";
      return false;
    }
    void* h = tj_;
    int subsamp = 0, colorspace = 0;
    if (tjDecompressHeader3(h, data, static_cast<unsigned long>(size), &width, &height, &subsamp, &colorspace) != 0) {
      err = std::string("JPEG header: ") + tjGetErrorStr2(h);
      return false;
    }
    if (!CheckDimensions("JPEG", width, height, maxPixels, err)) return false;
    const std::size_t pixels = std::size_t(width) * height;
    const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;  // libjpeg-turbo decodes these only to CMYK
    std::vector<uint8_t> cmykBuf;
    std::vector<uint8_t>& out = cmyk ? cmykBuf : rgb;
    out.resize(pixels * (cmyk ? 4 : 3));
    if (tjDecompress2(h, data, static_cast<unsigned long>(size), out.data(), width, 0, height, cmyk ? TJPF_CMYK : TJPF_RGB,
                      fast ? (TJFLAG_FASTDCT | TJFLAG_FASTUPSAMPLE) : 0) != 0) {
      if (tjGetErrorCode(h) != TJERR_WARNING) {
        err = std::string("JPEG: ") + tjGetErrorStr2(h);
        return false;
      }
      if (warning) *warning = std::string("JPEG: ") + tjGetErrorStr2(h);
    }
    if (cmyk) CmykToRgb(cmykBuf, rgb, pixels, HasAdobeMarker(data, size));
    return true;
#else
    err = "JPEG support is not built in (libturbojpeg was not found at build time)";
    return false;
#endif
  }
  if (IsPng(data, size)) {
#ifdef ECF_WITH_PNG
    png_image img;
    std::memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, data, size)) {
      err = std::string("PNG: ") + img.message;
      png_image_free(&img);
      return false;
    }
    img.format = PNG_FORMAT_RGB;
    width = static_cast<int>(img.width);
    height = static_cast<int>(img.height);
    if (!CheckDimensions("PNG", width, height, maxPixels, err)) {
      png_image_free(&img);
      return false;
    }
    rgb.resize(PNG_IMAGE_SIZE(img));
    // Alpha, if any, is composited onto black (background = null).
    if (!png_image_finish_read(&img, nullptr, rgb.data(), 0, nullptr)) {
      err = std::string("PNG: ") + img.message;
      png_image_free(&img);
      return false;
    }
    if (warning && (img.warning_or_error & PNG_IMAGE_WARNING) != 0) *warning = std::string("PNG: ") + img.message;
    return true;
#else
    err = "PNG support is not built in (libpng was not found at build time)";
    return false;
#endif
  }
  err = size == 0 ? "empty image data" : "not a JPEG or PNG (unknown signature)";
  return false;
}

std::vector<uint8_t> EncodeJpeg(const uint8_t* rgb, int width, int height, int quality) {
#ifdef ECF_WITH_TURBOJPEG
  TjHandle h(tjInitCompress());
  if (!h) throw std::runtime_error("encodeJpeg: cannot create a JPEG compressor");
  unsigned char* out = nullptr;
  unsigned long outSize = 0;
  if (tjCompress2(h.get(), rgb, width, 0, height, TJPF_RGB, &out, &outSize, TJSAMP_420, quality, 0) != 0) {
    std::string msg = std::string("encodeJpeg: ") + tjGetErrorStr2(h.get());
    if (out) tjFree(out);
    throw std::runtime_error(msg);
  }
  std::vector<uint8_t> v(out, out + outSize);
  tjFree(out);
  return v;
#else
  throw std::runtime_error("encodeJpeg: JPEG support is not built in (libturbojpeg was not found at build time)");
#endif
}

std::vector<uint8_t> EncodePng(const uint8_t* rgb, int width, int height) {
#ifdef ECF_WITH_PNG
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = static_cast<png_uint_32>(width);
  img.height = static_cast<png_uint_32>(height);
  img.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&img, nullptr, &size, 0, rgb, 0, nullptr)) {
    std::string msg = std::string("encodePng: ") + img.message;
    png_image_free(&img);
    throw std::runtime_error(msg);
  }
  std::vector<uint8_t> v(size);
  if (!png_image_write_to_memory(&img, v.data(), &size, 0, rgb, 0, nullptr)) {
    std::string msg = std::string("encodePng: ") + img.message;
    png_image_free(&img);
    throw std::runtime_error(msg);
  }
  v.resize(size);
  return v;
#else
  throw std::runtime_error("encodePng: PNG support is not built in (libpng was not found at build time)");
#endif
}

}  // namespace data
}  // namespace ecf
