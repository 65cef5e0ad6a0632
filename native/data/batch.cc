// The batch path of the data loader: read RecordIO records (or whole image files, or in-memory
// buffers), decode JPEG/PNG on N threads straight into a preallocated float batch, flip, and
// normalise; one promise per batch on the addon's AsyncRunner.
#include "data/batch.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <atomic>
#include <condition_variable>
#include <functional>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/args.h"
#include "core/async_runner.h"
#include "core/env_state.h"
#include "core/errors.h"
#include "core/tensor_handle.h"
#include "data/codec.h"

namespace ecf {

namespace {

constexpr uint32_t kMagic = 0xCED7230Au;
constexpr uint32_t kLenMask = (1u << 29) - 1;

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

bool PreadAll(int fd, uint8_t* dst, std::size_t n, int64_t off) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, dst + got, n - got, static_cast<off_t>(off + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

uint32_t Le32(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24); }

// Strict RecordIO logical-record reader (same checks as lib/data/recordio-format.ts).
bool ReadRecord(int fd, int64_t fileSize, int64_t offset, std::vector<uint8_t>& out, std::string& err) {
  out.clear();
  int64_t pos = offset;
  for (int part = 0;; ++part) {
    uint8_t head[8];
    if (pos + 8 > fileSize || !PreadAll(fd, head, 8, pos)) {
      err = "truncated record header at byte " + std::to_string(pos);
      return false;
    }
    uint32_t magic = Le32(head), lrec = Le32(head + 4);
    if (magic != kMagic) {
      err = "bad magic at byte " + std::to_string(pos);
      return false;
    }
    uint32_t cflag = lrec >> 29, length = lrec & kLenMask;
    if (cflag > 3 || (part == 0 && cflag > 1) || (part > 0 && cflag < 2)) {
      err = "bad continuation flag " + std::to_string(cflag) + " at byte " + std::to_string(pos);
      return false;
    }
    int64_t padded = (int64_t(length) + 3) & ~int64_t(3);
    if (padded > fileSize - pos - 8) {
      err = "truncated record at byte " + std::to_string(pos) + " (length " + std::to_string(length) + ")";
      return false;
    }
    std::size_t at = out.size();
    if (part > 0) {
      out.insert(out.end(), head, head + 4);
      at += 4;
    }
    out.resize(at + length);
    if (length && !PreadAll(fd, out.data() + at, length, pos + 8)) {
      err = "short read at byte " + std::to_string(pos + 8);
      return false;
    }
    pos += 8 + padded;
    if (cflag == 0 || cflag == 3) return true;
  }
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Recycles the float output buffers of a loader's batches: a batch tensor's storage returns
// here when JS disposes it, so steady-state batches reuse warm pages instead of faulting in
// ~20 MB of fresh memory each. Owned by a JS External (one per loader) and by every live tensor.
class BufferPool {
 public:
  explicit BufferPool(std::size_t keep) : keep_(keep) {}
  ~BufferPool() {
    for (void* p : free_) std::free(p);
  }
  void* Get(std::size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (bytes == bytes_ && !free_.empty()) {
        void* p = free_.back();
        free_.pop_back();
        return p;
      }
    }
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void Put(void* p, std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    if (bytes != bytes_) {  // batch shape changed: drop the old size
      for (void* q : free_) std::free(q);
      free_.clear();
      bytes_ = bytes;
    }
    if (free_.size() < keep_) {
      free_.push_back(p);
      return;
    }
    std::free(p);
  }

 private:
  std::mutex mu_;
  std::vector<void*> free_;
  std::size_t bytes_ = 0;
  std::size_t keep_;
};

// Persistent decode threads of one loader, so that a batch does not pay for starting threads.
// RunParallel(fn, n) runs fn on up to n − 1 workers and on the calling thread, and returns when
// every copy has returned (fn pulls work items from a shared atomic counter).
class WorkerPool {
 public:
  // Threads start with the first batch and after Stop() again with the next one.
  explicit WorkerPool(int extra) : extra_(extra) {}
  ~WorkerPool() { Stop(); }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Ends the threads (after the batch in flight, if any); idempotent.
  void Stop() {
    std::lock_guard<std::mutex> serial(run_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
  }

  void RunParallel(const std::function<void()>& fn, int n) {
    std::lock_guard<std::mutex> serial(run_mu_);
    if (threads_.empty()) {
      for (int i = 0; i < extra_; ++i) threads_.emplace_back([this] { Loop(); });
    }
    const int use = std::max(0, std::min<int>(n - 1, static_cast<int>(threads_.size())));
    {
      std::lock_guard<std::mutex> lock(mu_);
      task_ = &fn;
      slots_ = use;
      remaining_ = use;
      ++gen_;
    }
    if (use > 0) cv_.notify_all();
    fn();
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return remaining_ == 0; });
    task_ = nullptr;
  }

 private:
  void Loop() {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void()>* task = nullptr;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || (gen_ != seen && slots_ > 0); });
        if (stop_) return;
        seen = gen_;
        --slots_;
        task = task_;
      }
      (*task)();
      std::lock_guard<std::mutex> lock(mu_);
      if (--remaining_ == 0) done_.notify_one();
    }
  }

  const int extra_;
  std::mutex run_mu_;
  std::mutex mu_;
  std::condition_variable cv_, done_;
  std::vector<std::thread> threads_;
  const std::function<void()>* task_ = nullptr;
  int slots_ = 0, remaining_ = 0;
  uint64_t gen_ = 0;
  bool stop_ = false;
};

// Per-loader native state: recycled output buffers and persistent decode threads.
struct LoaderContext {
  LoaderContext(std::size_t keep, int threads) : buffers(keep), workers(std::max(0, threads - 1)) {}
  BufferPool buffers;
  WorkerPool workers;
};

using PoolRef = std::shared_ptr<LoaderContext>;

// dataBatchPool(keep, threads) → an opaque per-loader handle for dataDecodeBatch's options.pool
Napi::Value BatchPoolJs(const Napi::CallbackInfo& info) {
  int64_t keep = IntArg(info, 0, "dataBatchPool", "keep");
  int64_t threads = IntArg(info, 1, "dataBatchPool", "threads");
  if (keep < 0 || keep > 64) throw std::invalid_argument("dataBatchPool: keep must be in 0..64");
  if (threads < 1 || threads > 1024) throw std::invalid_argument("dataBatchPool: threads must be in 1..1024");
  return Napi::External<PoolRef>::New(info.Env(), new PoolRef(std::make_shared<LoaderContext>(std::size_t(keep), int(threads))),
                                      [](Napi::Env, PoolRef* p) { delete p; });
}

// dataBatchPoolStop(pool): ends the pool's decode threads now (a later batch starts them again).
// Blocks until a batch in flight on them is done.
Napi::Value BatchPoolStopJs(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsExternal()) ThrowArgType(info.Env(), "dataBatchPoolStop", "pool", "a dataBatchPool handle");
  PoolRef ref = *info[0].As<Napi::External<PoolRef>>().Data();
  if (ref) ref->workers.Stop();
  return info.Env().Undefined();
}

// Copies one row of floats to `dst`. The batch is written once and read later by another
// consumer (a device copy, the first conv), so on x86 aligned rows use non-temporal stores,
// which skip the read-for-ownership of ~20 MB of output per batch.
inline void StoreRow(float* dst, const float* src, int64_t n) {
#if defined(__SSE2__)
  if ((reinterpret_cast<uintptr_t>(dst) & 15) == 0 && (reinterpret_cast<uintptr_t>(src) & 15) == 0) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) _mm_stream_ps(dst + i, _mm_load_ps(src + i));
    for (; i < n; ++i) dst[i] = src[i];
    return;
  }
#endif
  std::memcpy(dst, src, std::size_t(n) * sizeof(float));
}

inline void StoreFence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

// RGB HWC uint8 → planar float (x/255 − 0.5)/0.5, optionally mirrored along x.
void NormalizeNchw(const uint8_t* rgb, float* dst, int64_t H, int64_t W, const float* lut, bool flip, std::vector<float>& tmp) {
  tmp.resize(std::size_t(3 * W) + 4);
  float* t0 = tmp.data() + ((4 - (reinterpret_cast<uintptr_t>(tmp.data()) / sizeof(float)) % 4) % 4);
  float* t1 = t0 + W;
  float* t2 = t1 + W;
  const int64_t plane = H * W;
  for (int64_t y = 0; y < H; ++y) {
    const uint8_t* row = rgb + y * W * 3;
    if (!flip) {
      for (int64_t x = 0; x < W; ++x) {
        t0[x] = lut[row[3 * x]];
        t1[x] = lut[row[3 * x + 1]];
        t2[x] = lut[row[3 * x + 2]];
      }
    } else {
      for (int64_t x = 0; x < W; ++x) {
        const uint8_t* px = row + 3 * (W - 1 - x);
        t0[x] = lut[px[0]];
        t1[x] = lut[px[1]];
        t2[x] = lut[px[2]];
      }
    }
    // W % 4 != 0 misaligns t1/t2; StoreRow then falls back to memcpy.
    StoreRow(dst + y * W, t0, W);
    StoreRow(dst + plane + y * W, t1, W);
    StoreRow(dst + 2 * plane + y * W, t2, W);
  }
  StoreFence();
}

// RGB HWC uint8 → interleaved float (channels_last memory), optionally mirrored along x.
void NormalizeNhwc(const uint8_t* rgb, float* dst, int64_t H, int64_t W, const float* lut, bool flip, std::vector<float>& tmp) {
  tmp.resize(std::size_t(3 * W) + 4);
  float* t = tmp.data() + ((4 - (reinterpret_cast<uintptr_t>(tmp.data()) / sizeof(float)) % 4) % 4);
  for (int64_t y = 0; y < H; ++y) {
    const uint8_t* row = rgb + y * W * 3;
    for (int64_t x = 0; x < W; ++x) {
      const uint8_t* px = row + 3 * (flip ? (W - 1 - x) : x);
      t[3 * x] = lut[px[0]];
      t[3 * x + 1] = lut[px[1]];
      t[3 * x + 2] = lut[px[2]];
    }
    StoreRow(dst + y * W * 3, t, 3 * W);
  }
  StoreFence();
}

struct BatchJob {
  std::vector<std::string> paths;
  std::vector<int32_t> pathIndex;
  std::vector<double> offsets;
  std::vector<double> labels;
  std::vector<std::vector<uint8_t>> buffers;  // item k uses buffers[k] when hasBuffer[k]
  std::vector<char> hasBuffer;
  int64_t height = 112, width = 112, numClasses = -1;
  int threads = 1;
  double flip = 0;  // probability of a horizontal flip, per sample
  bool channelsLast = false, pin = false, fastDecode = false;
  uint64_t seed = 0;
  c10::Device device = c10::Device(c10::kCPU);
  PoolRef pool;  // may be null
};

struct Failure {
  int64_t index;
  std::string reason;
};

// Decodes item k into slot k of `out` (float32, NCHW or NHWC memory). Returns "" or a reason;
// a decoder warning (e.g. a truncated JPEG) goes to `warning`.
std::string DecodeItem(const BatchJob& job, std::size_t k, const std::vector<std::shared_ptr<Fd>>& fds,
                       const std::vector<int64_t>& sizes, data::Decoder& dec, std::vector<uint8_t>& raw,
                       std::vector<uint8_t>& rgb, float* out, const float* lut, std::vector<float>& tmp, int64_t& label,
                       std::string& warning) {
  const uint8_t* img = nullptr;
  std::size_t imgSize = 0;
  std::string err;
  label = std::isfinite(job.labels[k]) ? static_cast<int64_t>(job.labels[k]) : -1;
  if (job.hasBuffer[k]) {
    img = job.buffers[k].data();
    imgSize = job.buffers[k].size();
  } else {
    int pi = job.pathIndex[k];
    const std::string& path = job.paths[pi];
    double off = job.offsets[k];
    if (off >= 0) {
      if (!fds[pi] || fds[pi]->fd < 0) return "cannot open " + path;
      if (!ReadRecord(fds[pi]->fd, sizes[pi], static_cast<int64_t>(off), raw, err)) return path + ": " + err;
      if (raw.size() < 24) return path + ": record at byte " + std::to_string(int64_t(off)) + " is shorter than the IRHeader";
      uint32_t flag = Le32(raw.data());
      std::size_t start = 24 + std::size_t(flag) * 4;
      if (flag > (raw.size() - 24) / 4) return path + ": IRHeader at byte " + std::to_string(int64_t(off)) + " declares too many labels";
      if (std::isnan(job.labels[k])) {
        float f;
        std::memcpy(&f, flag == 0 ? raw.data() + 4 : raw.data() + 24, 4);
        if (!std::isfinite(f)) return path + ": record at byte " + std::to_string(int64_t(off)) + " has a non-finite label";
        label = static_cast<int64_t>(f);
      }
      img = raw.data() + start;
      imgSize = raw.size() - start;
    } else {
      // O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are read.
      Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
      if (fd.fd < 0) return "cannot open " + path + ": " + std::strerror(errno);
      struct stat st;
      if (::fstat(fd.fd, &st) != 0) return "cannot stat " + path + ": " + std::strerror(errno);
      if (!S_ISREG(st.st_mode)) return path + " is not a regular file (" + (S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" : "a device or socket") + ")";
      off_t end = st.st_size;
      raw.resize(static_cast<std::size_t>(end));
      if (end > 0 && !PreadAll(fd.fd, raw.data(), raw.size(), 0)) return "short read of " + path;
      img = raw.data();
      imgSize = raw.size();
    }
  }
  if (job.numClasses >= 0 && (label < 0 || label >= job.numClasses)) {
    return "label " + std::to_string(label) + " outside [0, " + std::to_string(job.numClasses) + ")";
  }
  int w = 0, h = 0;
  // The header must not declare more pixels than the batch slot holds (checked before decoding).
  if (!dec.Decode(img, imgSize, rgb, w, h, err, job.fastDecode, job.height * job.width, &warning)) {
    return err + " (expected " + std::to_string(job.width) + "x" + std::to_string(job.height) + ")";
  }
  if (h != job.height || w != job.width) {
    return "decoded " + std::to_string(w) + "x" + std::to_string(h) + ", expected " + std::to_string(job.width) + "x" + std::to_string(job.height);
  }
  // Sample k flips when its uniform u in [0, 1) (the top 53 bits of its hash) is >= 1 - p: p = 0.5
  // flips the samples whose hash has the top bit set, as when the probability was fixed at 0.5.
  const uint64_t hash = SplitMix64(job.seed ^ (uint64_t(k) * 0xD1B54A32D192ED03ull));
  const bool flip = job.flip > 0 && static_cast<double>(hash >> 11) * 0x1.0p-53 >= 1.0 - job.flip;
  const int64_t H = job.height, W = job.width;
  float* dst = out + int64_t(k) * 3 * H * W;
  if (job.channelsLast) {
    NormalizeNhwc(rgb.data(), dst, H, W, lut, flip, tmp);
  } else {
    NormalizeNchw(rgb.data(), dst, H, W, lut, flip, tmp);
  }
  return "";
}

struct BatchResult {
  at::Tensor images, labels;
  std::vector<Failure> failures;
  std::vector<Failure> warnings;  // items decoded with a decoder warning (kept in the batch)
};

BatchResult RunBatch(const BatchJob& job) {
  const std::size_t B = job.offsets.size();
  const int64_t H = job.height, W = job.width;
  // Open every record file once (pread is thread-safe on a shared descriptor).
  std::vector<std::shared_ptr<Fd>> fds(job.paths.size());
  std::vector<int64_t> sizes(job.paths.size(), 0);
  for (std::size_t k = 0; k < B; ++k) {
    if (job.hasBuffer[k] || job.offsets[k] < 0) continue;
    int pi = job.pathIndex[k];
    if (pi < 0 || std::size_t(pi) >= job.paths.size()) throw std::invalid_argument("decodeBatch: pathIndex out of range");
    if (fds[pi]) continue;
    fds[pi] = std::make_shared<Fd>(::open(job.paths[pi].c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (fds[pi]->fd < 0) throw std::runtime_error("decodeBatch: cannot open " + job.paths[pi] + ": " + std::strerror(errno));
    struct stat st;
    if (::fstat(fds[pi]->fd, &st) != 0 || !S_ISREG(st.st_mode)) throw std::runtime_error("decodeBatch: " + job.paths[pi] + " is not a regular file");
    sizes[pi] = int64_t(st.st_size);
  }
  auto opts = at::TensorOptions().dtype(at::kFloat);
  bool pinned = job.pin && job.device.is_cuda();
  if (pinned) opts = opts.pinned_memory(true);
  // NHWC storage for channels_last, viewed as [B,3,H,W] below.
  std::vector<int64_t> shape = job.channelsLast ? std::vector<int64_t>{int64_t(B), H, W, 3} : std::vector<int64_t>{int64_t(B), 3, H, W};
  at::Tensor storage;
  if (job.pool && !pinned) {
    const std::size_t bytes = std::size_t(B) * 3 * H * W * sizeof(float);
    PoolRef pool = job.pool;
    void* mem = pool->buffers.Get(bytes);
    storage = at::from_blob(mem, shape, [pool, bytes](void* p) { pool->buffers.Put(p, bytes); }, opts);
  } else {
    storage = at::empty(shape, opts);
  }
  float* out = storage.data_ptr<float>();
  float lut[256];
  for (int v = 0; v < 256; ++v) lut[v] = (static_cast<float>(v) / 255.0f - 0.5f) / 0.5f;
  std::vector<int64_t> labels(B, -1);
  std::vector<std::string> reasons(B), warnings(B);
  std::atomic<std::size_t> next{0};
  std::function<void()> worker = [&]() {
    data::Decoder dec;
    std::vector<uint8_t> raw, rgb;
    std::vector<float> tmp;
    for (;;) {
      std::size_t k = next.fetch_add(1);
      if (k >= B) return;
      try {
        reasons[k] = DecodeItem(job, k, fds, sizes, dec, raw, rgb, out, lut, tmp, labels[k], warnings[k]);
      } catch (const std::exception& e) {
        reasons[k] = std::string("error: ") + e.what();
      }
    }
  };
  int nt = std::max(1, std::min<int>(job.threads, static_cast<int>(B)));
  if (job.pool) {
    job.pool->workers.RunParallel(worker, nt);
  } else {
    std::vector<std::thread> pool;
    for (int t = 1; t < nt; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
  }
  BatchResult r;
  std::vector<int64_t> keep;
  for (std::size_t k = 0; k < B; ++k) {
    if (reasons[k].empty()) keep.push_back(int64_t(k));
    else r.failures.push_back({int64_t(k), reasons[k]});
    if (reasons[k].empty() && !warnings[k].empty()) r.warnings.push_back({int64_t(k), warnings[k]});
  }
  at::Tensor images = job.channelsLast ? storage.permute({0, 3, 1, 2}) : storage;
  at::Tensor lab = at::tensor(labels, at::TensorOptions().dtype(at::kLong));
  if (!r.failures.empty()) {
    at::Tensor idx = at::tensor(keep, at::TensorOptions().dtype(at::kLong));
    images = images.index_select(0, idx);
    if (job.channelsLast) images = images.contiguous(at::MemoryFormat::ChannelsLast);
    lab = lab.index_select(0, idx);
    if (pinned) images = images.pin_memory();
  }
  if (job.device.is_cuda()) {
    images = images.to(job.device, /*non_blocking=*/false);
    lab = lab.to(job.device, /*non_blocking=*/false);
  }
  r.images = images;
  r.labels = lab;
  return r;
}

template <typename TA>
TA TypedArg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* arg, const char* expected) {
  if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type) {
    ThrowArgType(info.Env(), "decodeBatch", arg, expected);
  }
  return info[i].As<TA>();
}

// decodeBatch(paths, pathIndex: Int32Array, offsets: Float64Array, labels: Float64Array,
//             buffers: (Uint8Array|null)[] | null, options) → Promise<{ images, labels, failed, warnings }>
Napi::Value DecodeBatchJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto job = std::make_shared<BatchJob>();
  if (info.Length() < 6 || !info[0].IsArray() || !info[5].IsObject()) {
    ThrowArgType(env, "decodeBatch", "arguments", "(paths, pathIndex, offsets, labels, buffers, options)");
  }
  Napi::Array paths = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < paths.Length(); ++i) job->paths.push_back(paths.Get(i).ToString().Utf8Value());
  auto pi = TypedArg<Napi::Int32Array>(info, 1, napi_int32_array, "pathIndex", "an Int32Array");
  auto off = TypedArg<Napi::Float64Array>(info, 2, napi_float64_array, "offsets", "a Float64Array");
  auto lab = TypedArg<Napi::Float64Array>(info, 3, napi_float64_array, "labels", "a Float64Array");
  const std::size_t B = off.ElementLength();
  if (pi.ElementLength() != B || lab.ElementLength() != B) throw std::invalid_argument("decodeBatch: pathIndex, offsets and labels must have the same length");
  if (B == 0) throw std::invalid_argument("decodeBatch: empty batch");
  job->pathIndex.assign(pi.Data(), pi.Data() + B);
  job->offsets.assign(off.Data(), off.Data() + B);
  job->labels.assign(lab.Data(), lab.Data() + B);
  job->hasBuffer.assign(B, 0);
  job->buffers.resize(B);
  if (!info[4].IsNull() && !info[4].IsUndefined()) {
    if (!info[4].IsArray()) ThrowArgType(env, "decodeBatch", "buffers", "an array of Uint8Array or null");
    Napi::Array bufs = info[4].As<Napi::Array>();
    if (bufs.Length() != B) throw std::invalid_argument("decodeBatch: buffers must have one entry per item");
    for (uint32_t k = 0; k < B; ++k) {
      Napi::Value v = bufs.Get(k);
      if (v.IsNull() || v.IsUndefined()) continue;
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) ThrowArgType(env, "decodeBatch", "buffers[k]", "a Uint8Array");
      auto u = v.As<Napi::Uint8Array>();
      job->buffers[k].assign(u.Data(), u.Data() + u.ByteLength());
      job->hasBuffer[k] = 1;
    }
  }
  Napi::Object o = info[5].As<Napi::Object>();
  auto num = [&](const char* key, double dflt) { Napi::Value v = o.Get(key); return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : dflt; };
  auto flag = [&](const char* key) { Napi::Value v = o.Get(key); return v.IsBoolean() && v.As<Napi::Boolean>().Value(); };
  job->height = static_cast<int64_t>(num("height", 112));
  job->width = static_cast<int64_t>(num("width", 112));
  if (job->height <= 0 || job->width <= 0) throw std::invalid_argument("decodeBatch: height and width must be positive");
  job->numClasses = static_cast<int64_t>(num("numClasses", -1));
  job->threads = static_cast<int>(num("threads", 1));
  job->flip = num("flip", 0);
  if (!(job->flip >= 0 && job->flip <= 1)) throw std::invalid_argument("decodeBatch: flip must be a probability in [0, 1], got " + std::to_string(job->flip));
  job->channelsLast = flag("channelsLast");
  job->pin = flag("pin");
  job->fastDecode = flag("fastDecode");
  job->seed = static_cast<uint64_t>(num("seed", 0));
  Napi::Value pool = o.Get("pool");
  if (pool.IsExternal()) job->pool = *pool.As<Napi::External<PoolRef>>().Data();
  Napi::Value dev = o.Get("device");
  if (dev.IsString()) {
    job->device = DeviceFromString(env, dev.As<Napi::String>().Utf8Value());
    CheckDeviceAvailable(job->device);
  }
  return State(env).runner->Submit(env, [job]() -> AsyncRunner::Finish {
    auto r = std::make_shared<BatchResult>(RunBatch(*job));
    return [r](Napi::Env env) -> Napi::Value {
      Napi::Object res = Napi::Object::New(env);
      res.Set("images", Wrap(env, r->images));
      res.Set("labels", Wrap(env, r->labels));
      auto list = [&](const std::vector<Failure>& items) {
        Napi::Array a = Napi::Array::New(env, items.size());
        for (std::size_t i = 0; i < items.size(); ++i) {
          Napi::Object f = Napi::Object::New(env);
          f.Set("index", Napi::Number::New(env, double(items[i].index)));
          f.Set("reason", Napi::String::New(env, items[i].reason));
          a.Set(uint32_t(i), f);
        }
        return a;
      };
      res.Set("failed", list(r->failures));
      res.Set("warnings", list(r->warnings));
      return res;
    };
  });
}

}  // namespace

void RegisterDataBatchOps(Napi::Env env, Napi::Object exports) {
  Export<DecodeBatchJs>(env, exports, "dataDecodeBatch");
  Export<BatchPoolStopJs>(env, exports, "dataBatchPoolStop");
  Export<BatchPoolJs>(env, exports, "dataBatchPool");
}

}  // namespace ecf
