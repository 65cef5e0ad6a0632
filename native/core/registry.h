// The Register* function of every area outside core/ and the generic ops: addon.cc calls each.
#pragma once

#include <napi.h>

namespace ecf {

void RegisterEscaOps(Napi::Env env, Napi::Object exports);    // ops/esca.cc: ESCA and ECA
void RegisterMarginOps(Napi::Env env, Napi::Object exports);  // ops/margin.cc: fused margin + CE
void RegisterDataOps(Napi::Env env, Napi::Object exports);    // data/: RecordIO, decoding, batches
void RegisterImageOps(Napi::Env env, Napi::Object exports);   // data/align.cc: five-point alignment
void RegisterOptimOps(Napi::Env env, Napi::Object exports);   // train/sgd.cc: fused SGD step
void RegisterDistributedOps(Napi::Env env, Napi::Object exports);  // distributed/: c10d groups
void RegisterDetectOps(Napi::Env env, Napi::Object exports);  // detect/mtcnn_ops.cc: crop resampling, NMS
void RegisterCudaGraphOps(Napi::Env env, Napi::Object exports);  // ops/cuda_graph.cc: CUDA graphs, allocator stats

}  // namespace ecf
