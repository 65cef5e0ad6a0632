// The element type of the buffers a kernel works on: one enum for every kernel (ESCA/ECA and the
// fused margin op). Plain C++ (no libtorch, no CUDA headers); ops/common.h maps at::ScalarType
// onto it. A kernel that lacks a dtype returns an error for it (ESCA's CUDA kernels: no float64).
#pragma once

#include <cstdint>

namespace ecf {
namespace kernels {

enum class Dtype : int32_t { kFloat32 = 0, kFloat64 = 1, kFloat16 = 2, kBFloat16 = 3 };

}  // namespace kernels
}  // namespace ecf
