// The ESCA CPU kernels compiled for AVX2+FMA (8-wide float vectors); kernels/esca_cpu.cc calls
// them when the CPU has both. Empty on other architectures.
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"  // vector-typed helpers are inlined; no ABI crosses this file
#endif

// Library headers first, outside the target region: their inline functions stay portable.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx2,fma")
#endif

#define ECF_ESCA_ISA avx2
#define ECF_ESCA_LANES 8
#include "kernels/esca_cpu_build.h"

#if defined(__clang__)
#pragma clang attribute pop
#endif

#endif
