// What the ESCA CPU kernels use instead of libtorch and std::vector: ParFor (a lambda over
// ParallelFor of kernels/esca_cpu.h) and Buf (an owned, zero-initialised array). The kernels are
// compiled once per instruction set inside the namespace ECF_ESCA_ISA; keeping them free of
// library templates means no inline function is emitted in both builds under one name (the linker
// could otherwise pick the AVX2 copy for the portable build).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "kernels/esca_cpu.h"

namespace ecf {
namespace esca_cpu {
namespace ECF_ESCA_ISA {

template <typename F>
inline void ParFor(int64_t b, int64_t e, int64_t grain, const F& f) {
  ParallelFor(
      b, e, grain, [](const void* ctx, int64_t s, int64_t t) { (*static_cast<const F*>(ctx))(s, t); }, &f);
}

// An owned array of n elements, each initialised to v (a trivially copyable T).
template <typename T>
class Buf {
 public:
  Buf() = default;
  explicit Buf(size_t n, T v = T()) { assign(n, v); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  ~Buf() { std::free(p_); }
  void assign(size_t n, T v) {
    if (n != n_) {
      std::free(p_);
      p_ = nullptr;
      n_ = 0;
      if (n > 0) {
        p_ = static_cast<T*>(std::malloc(n * sizeof(T)));
        if (!p_) throw std::bad_alloc();
        n_ = n;
      }
    }
    for (size_t i = 0; i < n_; ++i) p_[i] = v;
  }
  T* data() { return p_; }
  const T* data() const { return p_; }
  size_t size() const { return n_; }
  T& operator[](size_t i) { return p_[i]; }
  const T& operator[](size_t i) const { return p_[i]; }
  T* begin() { return p_; }
  T* end() { return p_ + n_; }
  const T* begin() const { return p_; }
  const T* end() const { return p_ + n_; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace ECF_ESCA_ISA
}  // namespace esca_cpu
}  // namespace ecf
