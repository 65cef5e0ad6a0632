// ESCA / ECA CUDA kernels (plain CUDA: device pointers, sizes, a stream; no libtorch).
// Semantics: lib/nn/attention/esca.ts, identical to the CPU kernels in kernels/esca_cpu.h.
// Two layouts: x / out / grad buffers are contiguous NCHW (kernels/esca.cu) or dense channels_last,
// i.e. [N, H, W, C] in memory (the *Nhwc functions, kernels/esca_nhwc.cu), in `dtype` (float32,
// float16 or bfloat16; float64 is refused with cudaErrorInvalidValue); weights,
// saved statistics, weight gradients and the workspace are float32; all sums are in float32.
// wsa == nullptr selects ECA (channel attention only; sw and the SA workspace are then unused).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/dtype.h"

namespace ecf {
namespace kernels {

struct EscaShape {
  int64_t N, C, H, W, k;
};

// Number of float32 elements of workspace the forward / backward need.
size_t EscaForwardWorkspace(const EscaShape& s, bool spatial);
size_t EscaBackwardWorkspace(const EscaShape& s, bool spatial);

// out = ESCA(x) (or ECA(x) when wsa is null). Writes g = GAP(x) [N·C], a = σ(conv1d(g)) [N·C]
// and, for ESCA, sw = σ(SA logits) [N·H·W]; these are what the backward needs.
cudaError_t EscaForwardCuda(Dtype dtype, const void* x, const float* wca, const float* wsa, EscaShape s,
                            void* out, float* g, float* a, float* sw, float* workspace, cudaStream_t stream);

// dx, dwca [k] and (ESCA) dwsa [2C·9] from the output gradient go and the saved g, a, sw.
cudaError_t EscaBackwardCuda(Dtype dtype, const void* go, const void* x, const float* wca, const float* wsa,
                             const float* g, const float* a, const float* sw, EscaShape s, void* dx, float* dwca,
                             float* dwsa, float* workspace, cudaStream_t stream);

// The same for channels_last buffers (x, out, go, dx [N, H, W, C] in memory); g, a, sw, the weights
// and their gradients as above. Workspaces differ from the NCHW ones.
size_t EscaForwardWorkspaceNhwc(const EscaShape& s, bool spatial);
size_t EscaBackwardWorkspaceNhwc(const EscaShape& s, bool spatial);
cudaError_t EscaForwardCudaNhwc(Dtype dtype, const void* x, const float* wca, const float* wsa, EscaShape s,
                                void* out, float* g, float* a, float* sw, float* workspace, cudaStream_t stream);
cudaError_t EscaBackwardCudaNhwc(Dtype dtype, const void* go, const void* x, const float* wca, const float* wsa,
                                 const float* g, const float* a, const float* sw, EscaShape s, void* dx,
                                 float* dwca, float* dwsa, float* workspace, cudaStream_t stream);

}  // namespace kernels
}  // namespace ecf
