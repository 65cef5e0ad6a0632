// The Register* function of every area: addon.cc calls each, in this order. Each defines the
// area's exported functions with Export<> (core/errors.h).
#pragma once

#include <napi.h>

namespace ecf {

void RegisterTensorHandle(Napi::Env env, Napi::Object exports);  // core/tensor_handle.cc: handle table
void RegisterAsyncOps(Napi::Env env, Napi::Object exports);      // core/async_runner.cc: async runner
void RegisterTensorOps(Napi::Env env, Napi::Object exports);     // ops/tensor_ops.cc: creation, views, indexing
void RegisterMathOps(Napi::Env env, Napi::Object exports);       // ops/math_ops.cc: elementwise, reductions, products
void RegisterNnOps(Napi::Env env, Napi::Object exports);         // ops/nn_ops.cc: convolutions, pooling, losses
void RegisterRuntimeOps(Napi::Env env, Napi::Object exports);    // ops/runtime_ops.cc: autograd, devices, RNG, threads
void RegisterEscaOps(Napi::Env env, Napi::Object exports);    // ops/esca.cc: ESCA and ECA
void RegisterMarginOps(Napi::Env env, Napi::Object exports);  // ops/margin.cc: fused margin + CE
void RegisterDataOps(Napi::Env env, Napi::Object exports);    // data/: RecordIO, decoding, batches
void RegisterImageOps(Napi::Env env, Napi::Object exports);   // data/align.cc: five-point alignment
void RegisterOptimOps(Napi::Env env, Napi::Object exports);   // train/sgd.cc: fused SGD step
void RegisterDistributedOps(Napi::Env env, Napi::Object exports);  // distributed/: c10d groups
void RegisterDetectOps(Napi::Env env, Napi::Object exports);  // detect/mtcnn_ops.cc: crop resampling, NMS
void RegisterCudaGraphOps(Napi::Env env, Napi::Object exports);  // ops/cuda_graph.cc: CUDA graphs, allocator stats

}  // namespace ecf
