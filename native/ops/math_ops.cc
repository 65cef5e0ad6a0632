// Elementwise, comparison, reduction and matrix ops.
#include "ops/common.h"

namespace ecf {
namespace {

// Binary ops come in two exports: `name(a, b)` with a Tensor b and `nameScalar(a, s)` with a JS
// number (handles are numbers too, so one export cannot tell them apart).
#define ECF_BINARY(Name, js, expr_t, expr_s)                          \
  Napi::Value Name(const Napi::CallbackInfo& info) {                  \
    constexpr const char* kFn = js;                                   \
    const at::Tensor& a = ECF_T(0, "input");                          \
    const at::Tensor& b = ECF_T(1, "other");                          \
    ECF_RET(expr_t);                                                  \
  }                                                                   \
  Napi::Value Name##Scalar(const Napi::CallbackInfo& info) {          \
    constexpr const char* kFn = js "Scalar";                          \
    const at::Tensor& a = ECF_T(0, "input");                          \
    c10::Scalar s = ECF_SCALAR(1, "other");                           \
    ECF_RET(expr_s);                                                  \
  }

ECF_BINARY(Add, "add", at::add(a, b), at::add(a, s))
ECF_BINARY(Sub, "sub", at::sub(a, b), at::sub(a, s))
ECF_BINARY(Mul, "mul", at::mul(a, b), at::mul(a, s))
ECF_BINARY(Div, "div", at::div(a, b), at::div(a, s))
ECF_BINARY(Pow, "pow", at::pow(a, b), at::pow(a, s))
ECF_BINARY(Remainder, "remainder", at::remainder(a, b), at::remainder(a, s))
ECF_BINARY(Eq, "eq", at::eq(a, b), at::eq(a, s))
ECF_BINARY(Ne, "ne", at::ne(a, b), at::ne(a, s))
ECF_BINARY(Gt, "gt", at::gt(a, b), at::gt(a, s))
ECF_BINARY(Ge, "ge", at::ge(a, b), at::ge(a, s))
ECF_BINARY(Lt, "lt", at::lt(a, b), at::lt(a, s))
ECF_BINARY(Le, "le", at::le(a, b), at::le(a, s))
ECF_BINARY(Maximum, "maximum", at::maximum(a, b), at::clamp_min(a, s))
ECF_BINARY(Minimum, "minimum", at::minimum(a, b), at::clamp_max(a, s))
#undef ECF_BINARY

// The logical ops take tensors only (masks combine with masks).
Napi::Value LogicalAnd(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "logicalAnd";
  ECF_RET(at::logical_and(ECF_T(0, "input"), ECF_T(1, "other")));
}
Napi::Value LogicalOr(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "logicalOr";
  ECF_RET(at::logical_or(ECF_T(0, "input"), ECF_T(1, "other")));
}

// rsub(t, scalar) = scalar - t
Napi::Value Rsub(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "rsub";
  ECF_RET(at::rsub(ECF_T(0, "input"), ECF_SCALAR(1, "other")));
}
Napi::Value AddScaled(const Napi::CallbackInfo& info) {  // a + alpha * b
  constexpr const char* kFn = "addScaled";
  ECF_RET(at::add(ECF_T(0, "input"), ECF_T(1, "other"), ECF_SCALAR(2, "alpha")));
}

#define ECF_UNARY(Name, js, expr)                       \
  Napi::Value Name(const Napi::CallbackInfo& info) {    \
    constexpr const char* kFn = js;                     \
    const at::Tensor& a = ECF_T(0, "input");            \
    ECF_RET(expr);                                      \
  }

ECF_UNARY(Neg, "neg", at::neg(a))
ECF_UNARY(Abs, "abs", at::abs(a))
ECF_UNARY(Sqrt, "sqrt", at::sqrt(a))
ECF_UNARY(Rsqrt, "rsqrt", at::rsqrt(a))
ECF_UNARY(Square, "square", at::square(a))
ECF_UNARY(Exp, "exp", at::exp(a))
ECF_UNARY(Log, "log", at::log(a))
ECF_UNARY(Log1p, "log1p", at::log1p(a))
ECF_UNARY(Sigmoid, "sigmoid", at::sigmoid(a))
ECF_UNARY(Tanh, "tanh", at::tanh(a))
ECF_UNARY(Relu, "relu", at::relu(a))
ECF_UNARY(Cos, "cos", at::cos(a))
ECF_UNARY(Sin, "sin", at::sin(a))
ECF_UNARY(Acos, "acos", at::acos(a))
ECF_UNARY(Asin, "asin", at::asin(a))
ECF_UNARY(Sign, "sign", at::sign(a))
ECF_UNARY(Floor, "floor", at::floor(a))
ECF_UNARY(Ceil, "ceil", at::ceil(a))
ECF_UNARY(Round, "round", at::round(a))
ECF_UNARY(Reciprocal, "reciprocal", at::reciprocal(a))
ECF_UNARY(LogicalNot, "logicalNot", at::logical_not(a))
ECF_UNARY(IsNan, "isnan", at::isnan(a))
ECF_UNARY(IsFinite, "isfinite", at::isfinite(a))
#undef ECF_UNARY

Napi::Value Clamp(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "clamp";
  c10::optional<c10::Scalar> lo, hi;
  if (!IsAbsent(info, 1)) lo = ECF_SCALAR(1, "min");
  if (!IsAbsent(info, 2)) hi = ECF_SCALAR(2, "max");
  ECF_RET(at::clamp(ECF_T(0, "input"), lo, hi));
}

// ---- reductions: (t, dims?, keepdim?) ; dims absent = all ----
#define ECF_REDUCE(Name, js, all_expr, dim_expr)                      \
  Napi::Value Name(const Napi::CallbackInfo& info) {                  \
    constexpr const char* kFn = js;                                   \
    const at::Tensor& a = ECF_T(0, "input");                          \
    if (IsAbsent(info, 1)) ECF_RET(all_expr);                         \
    std::vector<int64_t> dims = ECF_INTS(1, "dims");                  \
    bool keep = OptBool(info, 2, false);                              \
    ECF_RET(dim_expr);                                                \
  }

ECF_REDUCE(Sum, "sum", at::sum(a), at::sum(a, dims, keep))
ECF_REDUCE(Mean, "mean", at::mean(a), at::mean(a, dims, keep))
ECF_REDUCE(Amax, "amax", at::amax(a, c10::IntArrayRef{}), at::amax(a, dims, keep))
ECF_REDUCE(Amin, "amin", at::amin(a, c10::IntArrayRef{}), at::amin(a, dims, keep))
ECF_REDUCE(Prod, "prod", at::prod(a), at::prod(a, dims.at(0), keep))
ECF_REDUCE(Logsumexp, "logsumexp", at::logsumexp(a.flatten(), {0}), at::logsumexp(a, dims, keep))
ECF_REDUCE(All, "all", at::all(a), at::all(a, dims.at(0), keep))
ECF_REDUCE(Any, "any", at::any(a), at::any(a, dims.at(0), keep))
#undef ECF_REDUCE

// var/std(t, dims?, unbiased, keepdim)
Napi::Value Var(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "var";
  const at::Tensor& a = ECF_T(0, "input");
  bool unbiased = OptBool(info, 2, true), keep = OptBool(info, 3, false);
  if (IsAbsent(info, 1)) ECF_RET(at::var(a, unbiased));
  ECF_RET(at::var(a, ECF_INTS(1, "dims"), unbiased, keep));
}
Napi::Value Std(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "std";
  const at::Tensor& a = ECF_T(0, "input");
  bool unbiased = OptBool(info, 2, true), keep = OptBool(info, 3, false);
  if (IsAbsent(info, 1)) ECF_RET(at::std(a, unbiased));
  ECF_RET(at::std(a, ECF_INTS(1, "dims"), unbiased, keep));
}
// norm(t, p, dims?, keepdim)
Napi::Value Norm(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "norm";
  const at::Tensor& a = ECF_T(0, "input");
  c10::Scalar p = ECF_SCALAR(1, "p");
  if (IsAbsent(info, 2)) ECF_RET(at::norm(a, p));
  ECF_RET(at::norm(a, p, ECF_INTS(2, "dims"), OptBool(info, 3, false)));
}
// max/min along a dim -> [values, indices]
Napi::Value MaxDim(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "maxDim";
  auto r = at::max(ECF_T(0, "input"), ECF_INT(1, "dim"), OptBool(info, 2, false));
  return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}
Napi::Value MinDim(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "minDim";
  auto r = at::min(ECF_T(0, "input"), ECF_INT(1, "dim"), OptBool(info, 2, false));
  return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}
Napi::Value Argmax(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "argmax";
  ECF_RET(at::argmax(ECF_T(0, "input"), OptIntArg(info, 1, kFn, "dim"), OptBool(info, 2, false)));
}
Napi::Value Argmin(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "argmin";
  ECF_RET(at::argmin(ECF_T(0, "input"), OptIntArg(info, 1, kFn, "dim"), OptBool(info, 2, false)));
}
Napi::Value Cumsum(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "cumsum";
  ECF_RET(at::cumsum(ECF_T(0, "input"), ECF_INT(1, "dim")));
}
// sort(t, dim, descending) -> [values, indices]
Napi::Value Sort(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "sort";
  auto r = at::sort(ECF_T(0, "input"), ECF_INT(1, "dim"), OptBool(info, 2, false));
  return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}
// topk(t, k, dim, largest, sorted) -> [values, indices]
Napi::Value Topk(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "topk";
  auto r = at::topk(ECF_T(0, "input"), ECF_INT(1, "k"), ECF_INT(2, "dim"), OptBool(info, 3, true), OptBool(info, 4, true));
  return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}

// ---- matrix products ----
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "matmul";
  ECF_RET(at::matmul(ECF_T(0, "input"), ECF_T(1, "other")));
}
Napi::Value Mm(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "mm";
  ECF_RET(at::mm(ECF_T(0, "input"), ECF_T(1, "other")));
}
Napi::Value Bmm(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "bmm";
  ECF_RET(at::bmm(ECF_T(0, "input"), ECF_T(1, "other")));
}

}  // namespace

void RegisterMathOps(Napi::Env env, Napi::Object e) {
  Export<Add>(env, e, "add");
  Export<Sub>(env, e, "sub");
  Export<Mul>(env, e, "mul");
  Export<Div>(env, e, "div");
  Export<Pow>(env, e, "pow");
  Export<Remainder>(env, e, "remainder");
  Export<Eq>(env, e, "eq");
  Export<Ne>(env, e, "ne");
  Export<Gt>(env, e, "gt");
  Export<Ge>(env, e, "ge");
  Export<Lt>(env, e, "lt");
  Export<Le>(env, e, "le");
  Export<Maximum>(env, e, "maximum");
  Export<Minimum>(env, e, "minimum");
  Export<LogicalAnd>(env, e, "logicalAnd");
  Export<LogicalOr>(env, e, "logicalOr");
  Export<AddScalar>(env, e, "addScalar");
  Export<SubScalar>(env, e, "subScalar");
  Export<MulScalar>(env, e, "mulScalar");
  Export<DivScalar>(env, e, "divScalar");
  Export<PowScalar>(env, e, "powScalar");
  Export<RemainderScalar>(env, e, "remainderScalar");
  Export<EqScalar>(env, e, "eqScalar");
  Export<NeScalar>(env, e, "neScalar");
  Export<GtScalar>(env, e, "gtScalar");
  Export<GeScalar>(env, e, "geScalar");
  Export<LtScalar>(env, e, "ltScalar");
  Export<LeScalar>(env, e, "leScalar");
  Export<MaximumScalar>(env, e, "maximumScalar");
  Export<MinimumScalar>(env, e, "minimumScalar");
  Export<Rsub>(env, e, "rsub");
  Export<AddScaled>(env, e, "addScaled");
  Export<Neg>(env, e, "neg");
  Export<Abs>(env, e, "abs");
  Export<Sqrt>(env, e, "sqrt");
  Export<Rsqrt>(env, e, "rsqrt");
  Export<Square>(env, e, "square");
  Export<Exp>(env, e, "exp");
  Export<Log>(env, e, "log");
  Export<Log1p>(env, e, "log1p");
  Export<Sigmoid>(env, e, "sigmoid");
  Export<Tanh>(env, e, "tanh");
  Export<Relu>(env, e, "relu");
  Export<Cos>(env, e, "cos");
  Export<Sin>(env, e, "sin");
  Export<Acos>(env, e, "acos");
  Export<Asin>(env, e, "asin");
  Export<Sign>(env, e, "sign");
  Export<Floor>(env, e, "floor");
  Export<Ceil>(env, e, "ceil");
  Export<Round>(env, e, "round");
  Export<Reciprocal>(env, e, "reciprocal");
  Export<LogicalNot>(env, e, "logicalNot");
  Export<IsNan>(env, e, "isnan");
  Export<IsFinite>(env, e, "isfinite");
  Export<Clamp>(env, e, "clamp");
  Export<Sum>(env, e, "sum");
  Export<Mean>(env, e, "mean");
  Export<Amax>(env, e, "amax");
  Export<Amin>(env, e, "amin");
  Export<Prod>(env, e, "prod");
  Export<Logsumexp>(env, e, "logsumexp");
  Export<All>(env, e, "all");
  Export<Any>(env, e, "any");
  Export<Var>(env, e, "var");
  Export<Std>(env, e, "std");
  Export<Norm>(env, e, "norm");
  Export<MaxDim>(env, e, "maxDim");
  Export<MinDim>(env, e, "minDim");
  Export<Argmax>(env, e, "argmax");
  Export<Argmin>(env, e, "argmin");
  Export<Cumsum>(env, e, "cumsum");
  Export<Sort>(env, e, "sort");
  Export<Topk>(env, e, "topk");
  Export<Matmul>(env, e, "matmul");
  Export<Mm>(env, e, "mm");
  Export<Bmm>(env, e, "bmm");
}

}  // namespace ecf
