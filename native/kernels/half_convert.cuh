// Element conversions shared by the CUDA kernels: half types are read into float accumulators
// and written back rounded to nearest (float and double pass through). __host__ __device__: the
// host emulation of the NHWC ESCA kernels (test/cuda/esca_nhwc_emulate.cc) converts the same way.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace ecf {
namespace kernels {

__host__ __device__ __forceinline__ float ToAcc(float v) { return v; }
__host__ __device__ __forceinline__ double ToAcc(double v) { return v; }
__host__ __device__ __forceinline__ float ToAcc(__half v) { return __half2float(v); }
__host__ __device__ __forceinline__ float ToAcc(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename S>
__host__ __device__ __forceinline__ S FromAcc(float v);
template <>
__host__ __device__ __forceinline__ float FromAcc<float>(float v) { return v; }
template <>
__host__ __device__ __forceinline__ __half FromAcc<__half>(float v) { return __float2half_rn(v); }
template <>
__host__ __device__ __forceinline__ __nv_bfloat16 FromAcc<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

}  // namespace kernels
}  // namespace ecf
