// ESCA and ECA attention as native ops with their own backward (lib/nn/attention/esca.ts states the math).
//
//   eca(x, caWeight)            = x · σ(conv1d_k(GAP(x)))                    caWeight [1,1,k], k odd
//   esca(x, caWeight, saWeight) = y · σ(conv3x3([avgpool3(y), maxpool3(y)])), y = eca(x)
//                                                                            saWeight [1,2C,3,3]
//
// Each op is a torch::autograd::Function whose forward and backward call hand-written kernels:
// kernels/esca_cpu.h on CPU (float32, float64; float16/bfloat16 are computed in float32 and cast back)
// and kernels/esca.h on CUDA (float32, float16, bfloat16 with float32 accumulation). The pass
// structure of each direction is documented in kernels/esca_cpu_nchw.h, kernels/esca_cpu_nhwc.h,
// kernels/esca.cu and kernels/esca_nhwc.cu.
//
// Memory layout, on CPU and CUDA alike: a channels_last input runs the NHWC kernels on its own
// memory (no conversion in or out; the output gradient is made channels_last if it is not);
// every other layout is made contiguous NCHW. The output and the input gradient have the
// input's suggested memory format, so a channels_last network stays channels_last.
//
// Double backward is not supported: the backward is not itself differentiable.
#include <ATen/core/grad_mode.h>
#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cstdlib>
#include <initializer_list>
#include <limits>

#include "core/registry.h"
#include "ops/common.h"
#include "kernels/esca_cpu.h"

#ifdef ECF_WITH_CUDA
#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAGuard.h>

#include "kernels/esca.h"
#endif

namespace ecf {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Validates the arguments with messages that name the argument and show the shapes.
void CheckArgs(const char* fn, const at::Tensor& x, const at::Tensor& wca, const at::Tensor* wsa) {
  TORCH_CHECK(x.dim() == 4, fn, ": input must be [N, C, H, W], got shape ", x.sizes());
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), fn, ": input must be a floating-point tensor, got ",
              x.scalar_type());
  const int64_t C = x.size(1);
  TORCH_CHECK(C > 0 && x.size(2) > 0 && x.size(3) > 0, fn, ": input must have C, H, W > 0, got shape ", x.sizes());
  TORCH_CHECK(wca.dim() == 3 && wca.size(0) == 1 && wca.size(1) == 1 && wca.size(2) % 2 == 1, fn,
              ": channel-attention weight must be [1, 1, k] with odd k, got shape ", wca.sizes());
  TORCH_CHECK(wca.scalar_type() == x.scalar_type(), fn, ": channel-attention weight dtype ", wca.scalar_type(),
              " differs from the input dtype ", x.scalar_type());
  TORCH_CHECK(wca.device() == x.device(), fn, ": channel-attention weight is on ", wca.device(),
              " but the input is on ", x.device());
  if (wsa) {
    TORCH_CHECK(wsa->dim() == 4 && wsa->size(0) == 1 && wsa->size(1) == 2 * C && wsa->size(2) == 3 &&
                    wsa->size(3) == 3,
                fn, ": spatial-attention weight must be [1, ", 2 * C, ", 3, 3] for C = ", C, ", got shape ",
                wsa->sizes());
    TORCH_CHECK(wsa->scalar_type() == x.scalar_type(), fn, ": spatial-attention weight dtype ", wsa->scalar_type(),
                " differs from the input dtype ", x.scalar_type());
    TORCH_CHECK(wsa->device() == x.device(), fn, ": spatial-attention weight is on ", wsa->device(),
                " but the input is on ", x.device());
  }
}

esca_cpu::Dims DimsOf(const at::Tensor& x, const at::Tensor& wca) {
  return {x.size(0), x.size(1), x.size(2), x.size(3), wca.size(2)};
}

bool IsChannelsLast(const at::Tensor& x) {
  return x.suggest_memory_format() == at::MemoryFormat::ChannelsLast && !x.is_contiguous();
}

// A channels_last input runs the NHWC kernels as it is; everything else runs NCHW.
at::MemoryFormat LayoutFormat(bool channels_last) {
  return channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}
esca_cpu::Layout CpuLayout(bool channels_last) {
  return channels_last ? esca_cpu::Layout::kNHWC : esca_cpu::Layout::kNCHW;
}

// CPU compute dtype: float16/bfloat16 are computed in float32.
at::ScalarType CpuComputeType(at::ScalarType t) {
  return (t == at::kHalf || t == at::kBFloat16) ? at::kFloat : t;
}

// Test hook (docs/decisions/esca.md): with ECF_ESCA_NO_COPY set, a call that would copy its input
// or output gradient (to another layout or dtype) fails instead, naming what was copied, so that
// a test can show that a channels_last network runs ESCA on its own activations. (On CPU,
// float16/bfloat16 are computed in float32 by design: those copies are not checked.)
void CheckNoCopy(const char* fn, const char* what, const at::Tensor& given, const at::Tensor& used) {
  const char* v = std::getenv("ECF_ESCA_NO_COPY");
  if (v == nullptr || *v == '\0' || *v == '0' || given.data_ptr() == used.data_ptr()) return;
  TORCH_CHECK(false, fn, ": the ", what, " (", given.scalar_type(), ", sizes ", given.sizes(), ", strides ",
              given.strides(), ") was copied to run the ", used.is_contiguous() ? "NCHW" : "NHWC", " ",
              used.is_cuda() ? "CUDA" : "CPU", " kernels, and ECF_ESCA_NO_COPY is set");
}

#ifdef ECF_WITH_CUDA

kernels::Dtype CudaDtype(const char* fn, at::ScalarType t) {
  TORCH_CHECK(t == at::kFloat || t == at::kHalf || t == at::kBFloat16, fn,
              ": CUDA kernels take float32, float16 or bfloat16 input, got ", t);
  return KernelDtype(fn, t);
}
#endif

struct Forward {
  at::Tensor out, g, a, sw;  // sw undefined for ECA
};

// Runs the forward kernel. wsa undefined → ECA.
Forward ForwardImpl(const char* fn, const at::Tensor& x_in, const at::Tensor& wca, const at::Tensor& wsa) {
  const bool spatial = wsa.defined();
  const bool cl = IsChannelsLast(x_in);
  const at::MemoryFormat mf = LayoutFormat(cl);
  const int64_t N = x_in.size(0), C = x_in.size(1), H = x_in.size(2), W = x_in.size(3);
  Forward r;
  if (x_in.is_cuda()) {
#ifdef ECF_WITH_CUDA
    const at::Tensor x = x_in.contiguous(mf);
    CheckNoCopy(fn, "input", x_in, x);
    c10::cuda::CUDAGuard guard(x.device());
    const auto dt = CudaDtype(fn, x.scalar_type());
    const auto fopt = x.options().dtype(at::kFloat);
    const at::Tensor wcaf = wca.to(at::kFloat).contiguous();
    const at::Tensor wsaf = spatial ? wsa.to(at::kFloat).contiguous() : at::Tensor();
    const kernels::EscaShape s{N, C, H, W, wca.size(2)};
    r.out = at::empty_like(x, mf);
    r.g = at::empty({N, C}, fopt);
    r.a = at::empty({N, C}, fopt);
    if (spatial) r.sw = at::empty({N, H, W}, fopt);
    const size_t wsn = cl ? kernels::EscaForwardWorkspaceNhwc(s, spatial) : kernels::EscaForwardWorkspace(s, spatial);
    at::Tensor ws = at::empty({static_cast<int64_t>(wsn) + 1}, fopt);
    Poison({&r.out, &r.g, &r.a, &r.sw, &ws});
    const auto launch = cl ? kernels::EscaForwardCudaNhwc : kernels::EscaForwardCuda;
    CheckCuda(fn, launch(dt, x.data_ptr(), wcaf.data_ptr<float>(), spatial ? wsaf.data_ptr<float>() : nullptr, s,
                         r.out.data_ptr(), r.g.data_ptr<float>(), r.a.data_ptr<float>(),
                         spatial ? r.sw.data_ptr<float>() : nullptr, ws.data_ptr<float>(),
                         c10::cuda::getCurrentCUDAStream().stream()));
    return r;
#else
    TORCH_CHECK(false, fn, ": this build of ecacface-torch has no CUDA support");
#endif
  }
  const at::Tensor& x = x_in;
  TORCH_CHECK(x.device().is_cpu(), fn, ": unsupported device ", x.device());
  const at::ScalarType ct = CpuComputeType(x.scalar_type());
  const at::Tensor xc = x.to(ct).contiguous(mf);
  if (ct == x.scalar_type()) CheckNoCopy(fn, "input", x, xc);
  const at::Tensor wcac = wca.to(ct).contiguous();
  const at::Tensor wsac = spatial ? wsa.to(ct).contiguous() : at::Tensor();
  const esca_cpu::Dims d = DimsOf(x, wca);
  at::Tensor out = at::empty_like(xc, mf);
  r.g = at::empty({N, C}, xc.options());
  r.a = at::empty({N, C}, xc.options());
  if (spatial) r.sw = at::empty({N, H, W}, xc.options());
  Poison({&out, &r.g, &r.a, &r.sw});
  AT_DISPATCH_FLOATING_TYPES(ct, "esca_forward_cpu", [&] {
    if (spatial) {
      esca_cpu::EscaForward(CpuLayout(cl), xc.data_ptr<scalar_t>(), wcac.data_ptr<scalar_t>(),
                            wsac.data_ptr<scalar_t>(), d, out.data_ptr<scalar_t>(), r.g.data_ptr<scalar_t>(),
                            r.a.data_ptr<scalar_t>(), r.sw.data_ptr<scalar_t>());
    } else {
      esca_cpu::EcaForward(CpuLayout(cl), xc.data_ptr<scalar_t>(), wcac.data_ptr<scalar_t>(), d,
                           out.data_ptr<scalar_t>(), r.g.data_ptr<scalar_t>(), r.a.data_ptr<scalar_t>());
    }
  });
  r.out = out.to(x.scalar_type());  // keeps the memory format
  return r;
}

// Returns {dx, dwca, dwsa (undefined for ECA)}.
variable_list BackwardImpl(const char* fn, const at::Tensor& go_in, const at::Tensor& x_in, const at::Tensor& wca,
                           const at::Tensor& wsa, const at::Tensor& g, const at::Tensor& a, const at::Tensor& sw) {
  const bool spatial = wsa.defined();
  const bool cl = IsChannelsLast(x_in);
  const at::MemoryFormat mf = LayoutFormat(cl);
  const int64_t C = x_in.size(1);
  if (x_in.is_cuda()) {
#ifdef ECF_WITH_CUDA
    const at::Tensor x = x_in.contiguous(mf);
    const at::Tensor go = go_in.to(x.scalar_type()).contiguous(mf);
    CheckNoCopy(fn, "input", x_in, x);
    CheckNoCopy(fn, "output gradient", go_in, go);
    c10::cuda::CUDAGuard guard(x.device());
    const int64_t H = x.size(2), W = x.size(3);
    const auto dt = CudaDtype(fn, x.scalar_type());
    const auto fopt = x.options().dtype(at::kFloat);
    const at::Tensor wcaf = wca.to(at::kFloat).contiguous();
    const at::Tensor wsaf = spatial ? wsa.to(at::kFloat).contiguous() : at::Tensor();
    const kernels::EscaShape s{x.size(0), C, H, W, wca.size(2)};
    at::Tensor dx = at::empty_like(x, mf);
    at::Tensor dwca = at::empty({1, 1, wca.size(2)}, fopt);
    at::Tensor dwsa = spatial ? at::empty({1, 2 * C, 3, 3}, fopt) : at::Tensor();
    const size_t wsn =
        cl ? kernels::EscaBackwardWorkspaceNhwc(s, spatial) : kernels::EscaBackwardWorkspace(s, spatial);
    at::Tensor ws = at::empty({static_cast<int64_t>(wsn) + 1}, fopt);
    Poison({&dx, &dwca, &dwsa, &ws});
    const auto launch = cl ? kernels::EscaBackwardCudaNhwc : kernels::EscaBackwardCuda;
    CheckCuda(fn, launch(dt, go.data_ptr(), x.data_ptr(), wcaf.data_ptr<float>(),
                         spatial ? wsaf.data_ptr<float>() : nullptr, g.data_ptr<float>(), a.data_ptr<float>(),
                         spatial ? sw.data_ptr<float>() : nullptr, s, dx.data_ptr(), dwca.data_ptr<float>(),
                         spatial ? dwsa.data_ptr<float>() : nullptr, ws.data_ptr<float>(),
                         c10::cuda::getCurrentCUDAStream().stream()));
    return {dx, dwca.to(wca.scalar_type()), spatial ? dwsa.to(wsa.scalar_type()) : at::Tensor()};
#else
    TORCH_CHECK(false, fn, ": this build of ecacface-torch has no CUDA support");
#endif
  }
  const at::Tensor& x = x_in;
  const at::ScalarType ct = CpuComputeType(x.scalar_type());
  const at::Tensor xc = x.to(ct).contiguous(mf);
  const at::Tensor go = go_in.to(ct).contiguous(mf);
  if (ct == x.scalar_type()) {
    CheckNoCopy(fn, "input", x, xc);
    CheckNoCopy(fn, "output gradient", go_in, go);
  }
  const at::Tensor wcac = wca.to(ct).contiguous();
  const at::Tensor wsac = spatial ? wsa.to(ct).contiguous() : at::Tensor();
  const esca_cpu::Dims d = DimsOf(x, wca);
  at::Tensor dx = at::empty_like(xc, mf);
  at::Tensor dwca = at::empty({1, 1, wca.size(2)}, xc.options());
  at::Tensor dwsa = spatial ? at::empty({1, 2 * C, 3, 3}, xc.options()) : at::Tensor();
  Poison({&dx, &dwca, &dwsa});
  AT_DISPATCH_FLOATING_TYPES(ct, "esca_backward_cpu", [&] {
    if (spatial) {
      esca_cpu::EscaBackward(CpuLayout(cl), go.data_ptr<scalar_t>(), xc.data_ptr<scalar_t>(),
                             wcac.data_ptr<scalar_t>(), wsac.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(),
                             a.data_ptr<scalar_t>(), sw.data_ptr<scalar_t>(), d, dx.data_ptr<scalar_t>(),
                             dwca.data_ptr<scalar_t>(), dwsa.data_ptr<scalar_t>());
    } else {
      esca_cpu::EcaBackward(CpuLayout(cl), go.data_ptr<scalar_t>(), xc.data_ptr<scalar_t>(),
                            wcac.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(), a.data_ptr<scalar_t>(), d,
                            dx.data_ptr<scalar_t>(), dwca.data_ptr<scalar_t>());
    }
  });
  return {dx.to(x.scalar_type()), dwca.to(wca.scalar_type()), spatial ? dwsa.to(wsa.scalar_type()) : at::Tensor()};
}

class EcaFunction : public torch::autograd::Function<EcaFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& wca) {
    Forward f = ForwardImpl("eca", x, wca, at::Tensor());
    ctx->save_for_backward({x, wca, f.g, f.a});
    return f.out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    at::NoGradGuard no_grad;
    const auto s = ctx->get_saved_variables();
    auto r = BackwardImpl("eca", grads[0], s[0], s[1], at::Tensor(), s[2], s[3], at::Tensor());
    return {r[0], r[1]};
  }
};

class EscaFunction : public torch::autograd::Function<EscaFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& wca, const at::Tensor& wsa) {
    Forward f = ForwardImpl("esca", x, wca, wsa);
    ctx->save_for_backward({x, wca, wsa, f.g, f.a, f.sw});
    return f.out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    at::NoGradGuard no_grad;
    const auto s = ctx->get_saved_variables();
    return BackwardImpl("esca", grads[0], s[0], s[1], s[2], s[3], s[4], s[5]);
  }
};

// esca(x, caWeight, saWeight) → autograd-aware output
Napi::Value Esca(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "esca";
  const at::Tensor& x = ECF_T(0, "x");
  const at::Tensor& wca = ECF_T(1, "caWeight");
  const at::Tensor& wsa = ECF_T(2, "saWeight");
  CheckArgs(kFn, x, wca, &wsa);
  ECF_RET(EscaFunction::apply(x, wca, wsa));
}

// eca(x, caWeight) → autograd-aware output
Napi::Value Eca(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "eca";
  const at::Tensor& x = ECF_T(0, "x");
  const at::Tensor& wca = ECF_T(1, "caWeight");
  CheckArgs(kFn, x, wca, nullptr);
  ECF_RET(EcaFunction::apply(x, wca));
}

}  // namespace

void RegisterEscaOps(Napi::Env env, Napi::Object exports) {
  Export<Esca>(env, exports, "esca");
  Export<Eca>(env, exports, "eca");
}

}  // namespace ecf
