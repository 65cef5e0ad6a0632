// nn.functional: the layers and losses the models are composed of. Autograd is libtorch's.
#include "ops/common.h"

namespace ecf {
namespace {

Napi::Value Conv1d(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "conv1d";
  ECF_RET(at::conv1d(ECF_T(0, "input"), ECF_T(1, "weight"), ECF_OPT_T(2, "bias"), ECF_INTS(3, "stride"),
                     ECF_INTS(4, "padding"), ECF_INTS(5, "dilation"), ECF_INT(6, "groups")));
}
// conv2d(x, w, b?, stride[2], padding[2], dilation[2], groups)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "conv2d";
  ECF_RET(at::conv2d(ECF_T(0, "input"), ECF_T(1, "weight"), ECF_OPT_T(2, "bias"), ECF_INTS(3, "stride"),
                     ECF_INTS(4, "padding"), ECF_INTS(5, "dilation"), ECF_INT(6, "groups")));
}
Napi::Value Linear(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "linear";
  ECF_RET(at::linear(ECF_T(0, "input"), ECF_T(1, "weight"), ECF_OPT_T(2, "bias")));
}
// batchNorm(x, weight?, bias?, runningMean?, runningVar?, training, momentum, eps); updates the
// running statistics in place when training.
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "batchNorm";
  ECF_RET(at::batch_norm(ECF_T(0, "input"), ECF_OPT_T(1, "weight"), ECF_OPT_T(2, "bias"), ECF_OPT_T(3, "runningMean"),
                         ECF_OPT_T(4, "runningVar"), ECF_BOOL(5, "training"), ECF_DBL(6, "momentum"), ECF_DBL(7, "eps"),
                         /*cudnn_enabled=*/true));
}
Napi::Value Prelu(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "prelu";
  ECF_RET(at::prelu(ECF_T(0, "input"), ECF_T(1, "weight")));
}
Napi::Value LeakyRelu(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "leakyRelu";
  ECF_RET(at::leaky_relu(ECF_T(0, "input"), ECF_SCALAR(1, "negativeSlope")));
}
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "dropout";
  ECF_RET(at::dropout(ECF_T(0, "input"), ECF_DBL(1, "p"), ECF_BOOL(2, "training")));
}
// avgPool2d(x, kernel[2], stride[2], padding[2], ceilMode, countIncludePad)
Napi::Value AvgPool2d(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "avgPool2d";
  ECF_RET(at::avg_pool2d(ECF_T(0, "input"), ECF_INTS(1, "kernel"), ECF_INTS(2, "stride"), ECF_INTS(3, "padding"),
                         ECF_BOOL(4, "ceilMode"), ECF_BOOL(5, "countIncludePad")));
}
// maxPool2d(x, kernel[2], stride[2], padding[2], dilation[2], ceilMode)
Napi::Value MaxPool2d(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "maxPool2d";
  ECF_RET(at::max_pool2d(ECF_T(0, "input"), ECF_INTS(1, "kernel"), ECF_INTS(2, "stride"), ECF_INTS(3, "padding"),
                         ECF_INTS(4, "dilation"), ECF_BOOL(5, "ceilMode")));
}
Napi::Value AdaptiveAvgPool2d(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "adaptiveAvgPool2d";
  ECF_RET(at::adaptive_avg_pool2d(ECF_T(0, "input"), ECF_INTS(1, "outputSize")));
}
Napi::Value AdaptiveMaxPool2d(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "adaptiveMaxPool2d";
  ECF_RET(std::get<0>(at::adaptive_max_pool2d(ECF_T(0, "input"), ECF_INTS(1, "outputSize"))));
}
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "softmax";
  ECF_RET(at::softmax(ECF_T(0, "input"), ECF_INT(1, "dim")));
}
Napi::Value LogSoftmax(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "logSoftmax";
  ECF_RET(at::log_softmax(ECF_T(0, "input"), ECF_INT(1, "dim")));
}

int64_t Reduction(const Napi::CallbackInfo& info, size_t i, const char* kFn) {
  if (IsAbsent(info, i)) return at::Reduction::Mean;
  std::string r = StringArg(info, i, kFn, "reduction");
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  if (r == "none") return at::Reduction::None;
  throw Napi::TypeError::New(info.Env(), std::string(kFn) + ": reduction must be 'mean', 'sum' or 'none', got '" + r + "'");
}

// crossEntropy(logits, target, reduction?, labelSmoothing?)
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "crossEntropy";
  double ls = OptDoubleArg(info, 3, kFn, "labelSmoothing").value_or(0.0);
  ECF_RET(at::cross_entropy_loss(ECF_T(0, "input"), ECF_T(1, "target"), {}, Reduction(info, 2, kFn), -100, ls));
}
Napi::Value NllLoss(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "nllLoss";
  ECF_RET(at::nll_loss(ECF_T(0, "input"), ECF_T(1, "target"), {}, Reduction(info, 2, kFn)));
}
Napi::Value MseLoss(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "mseLoss";
  ECF_RET(at::mse_loss(ECF_T(0, "input"), ECF_T(1, "target"), Reduction(info, 2, kFn)));
}
// normalize(x, p, dim, eps) = x / max(||x||_p, eps), as torch.nn.functional.normalize
Napi::Value Normalize(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "normalize";
  const at::Tensor& x = ECF_T(0, "input");
  at::Tensor n = at::norm(x, ECF_SCALAR(1, "p"), {ECF_INT(2, "dim")}, true).clamp_min(ECF_DBL(3, "eps"));
  ECF_RET(x / n.expand_as(x));
}
// pad(x, pads[], value): constant padding, pads in F.pad order (last dim first)
Napi::Value Pad(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "pad";
  ECF_RET(at::constant_pad_nd(ECF_T(0, "input"), ECF_INTS(1, "pad"), ECF_SCALAR(2, "value")));
}

}  // namespace

void RegisterNnOps(Napi::Env env, Napi::Object e) {
  Export<Conv1d>(env, e, "conv1d");
  Export<Conv2d>(env, e, "conv2d");
  Export<Linear>(env, e, "linear");
  Export<BatchNorm>(env, e, "batchNorm");
  Export<Prelu>(env, e, "prelu");
  Export<LeakyRelu>(env, e, "leakyRelu");
  Export<Dropout>(env, e, "dropout");
  Export<AvgPool2d>(env, e, "avgPool2d");
  Export<MaxPool2d>(env, e, "maxPool2d");
  Export<AdaptiveAvgPool2d>(env, e, "adaptiveAvgPool2d");
  Export<AdaptiveMaxPool2d>(env, e, "adaptiveMaxPool2d");
  Export<Softmax>(env, e, "softmax");
  Export<LogSoftmax>(env, e, "logSoftmax");
  Export<CrossEntropy>(env, e, "crossEntropy");
  Export<NllLoss>(env, e, "nllLoss");
  Export<MseLoss>(env, e, "mseLoss");
  Export<Normalize>(env, e, "normalize");
  Export<Pad>(env, e, "pad");
}

}  // namespace ecf
