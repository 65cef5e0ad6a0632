// Host emulation of the channels_last ESCA / ECA CUDA kernels (native/kernels/esca_nhwc.cu), for
// machines without a GPU. It runs the kernels' own per-thread code (kernels/esca_nhwc_threads.cuh,
// __host__ __device__) over the grids the launcher uses, block by block and thread by thread:
// each phase of a kernel runs for every thread of the block before the next phase (what the
// __syncthreads between them guarantees); shared memory is a buffer filled with NaN before each
// block; a warp-shuffle group sum is replayed lane by lane with the same xor pattern. The launch
// sequence below mirrors Forward / Backward in esca_nhwc.cu (keep the two in step).
//
// Checked against two references on the same (rounded) inputs, in float64:
//   - a direct transcription of ECA/ESCA's formulas (lib/nn/attention/esca.ts) (forward: g, a, sw, out);
//   - the CPU NHWC kernels in float64 (kernels/esca_cpu_nhwc.h; forward and backward), whose
//     gradients are themselves checked here by central finite differences of the direct forward.
// For float32, float16 and bfloat16, with 16-byte packs and with one channel per thread, over
// shapes with odd H/W, C not a multiple of the pack width, C above one shared-memory chunk and
// more samples than the weight-gradient sum's slices.
// Built with -fsanitize=address,undefined by test/ops/esca-nhwc-emulation.test.ts, so any read
// or write outside a buffer fails; every output starts as NaN, so any element not written shows.
//
//   g++ -std=c++17 -O1 -Inative -I<CUDA>/include test/cuda/esca_nhwc_emulate.cc -o emu && ./emu
// Prints one line per case and "esca_nhwc_emulate: N cases passed"; exits 1 on any failure.
#define ECF_ESCA_ISA ref
#define ECF_ESCA_LANES 4
#include "kernels/esca_cpu_nhwc.h"
#include "kernels/esca_nhwc_threads.cuh"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace ecf {
namespace esca_cpu {
// The CPU reference runs serially here (esca_cpu.cc implements this with at::parallel_for).
void ParallelFor(int64_t b, int64_t e, int64_t, RangeFn fn, const void* ctx) {
  if (b < e) fn(ctx, b, e);
}
}  // namespace esca_cpu
}  // namespace ecf

namespace {

using namespace ecf::kernels;
using namespace ecf::kernels::nhwc;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Shape {
  int64_t N, C, H, W;
};

int64_t KOf(int64_t c) {  // ECA's kernel size (lib/nn/attention/eca.ts): t if odd else t + 1, t = int(|log2(C)/2 + 1/2|)
  const int64_t t = static_cast<int64_t>(std::fabs(std::log2(static_cast<double>(c)) / 2 + 0.5));
  return t % 2 == 1 ? t : t + 1;
}

// ---- emulated launches (mirror esca_nhwc.cu) ---------------------------------------------------

// Replays GroupSum: within each warp, lane l adds lane (l xor o)'s value for o = G/2 … 1.
template <int NV>
void EmuGroupSum(std::vector<std::array<float, NV>>& v, int G) {
  for (int o = G >> 1; o > 0; o >>= 1) {
    const std::vector<std::array<float, NV>> before = v;
    for (int t = 0; t < kThreads; ++t) {
      const int partner = (t & ~31) | ((t & 31) ^ o);
      for (int i = 0; i < NV; ++i) v[t][i] = before[t][i] + before[partner][i];
    }
  }
}

template <typename T, int V, bool kDot>
void EmuPixelSum(const SumGeom& s, const T* x, const T* go, float scale, float* out) {
  std::vector<float> sh(kThreads * V);
  for (int64_t b = 0; b < s.Blocks(); ++b) {
    std::fill(sh.begin(), sh.end(), kNaN);
    for (int t = 0; t < kThreads; ++t) PixelSumRow<T, V, kDot>(s, x, go, b, t, sh.data());
    for (int t = 0; t < kThreads; ++t) PixelSumStore<V>(s, b, t, sh.data(), scale, out);
  }
}

template <typename T, int V>
void EmuScale(const Shape& d, const T* src, const float* a, const float* sw, const float* add, float addScale, T* out) {
  // ScaleKernel's grid-stride loop covers every pack index exactly once, whatever the grid.
  const int64_t packs = d.N * d.H * d.W * (d.C / V);
  for (int64_t i = 0; i < packs; ++i) ScalePack<T, V>(i, d.H * d.W, d.C, src, a, sw, add, addScale, out);
}

void EmuGate(const Shape& d, int64_t k, const float* g, const float* w, float* a) {
  for (int64_t i = 0; i < d.N * d.C; ++i) a[i] = GateAt(g, w, d.C, k, i);
}

void EmuGateBackward(const Shape& d, int64_t k, const float* da, const float* a, const float* g, const float* w,
                     float* dg, float* dw) {
  for (int64_t i = 0; i < d.N * d.C; ++i) dg[i] = GateDgAt(da, a, w, d.C, k, i);
  for (int64_t j = 0; j < k; ++j) {
    float s = 0.f;
    for (int64_t i = 0; i < d.N * d.C; ++i) s += GateDwTerm(da, a, g, d.C, k, j, i);
    dw[j] = s;
  }
}

template <typename T, int V>
void EmuForward(const Shape& d, int64_t k, const T* x, const float* wca, const float* wsa, T* out, float* g, float* a,
                float* sw, std::vector<float>& ws) {
  const int64_t HW = d.H * d.W;
  EmuPixelSum<T, V, false>(SumGeom::Make(d.N, d.C, HW, V), x, nullptr, 1.f / static_cast<float>(HW), g);
  EmuGate(d, k, g, wca, a);
  if (!wsa) {
    EmuScale<T, V>(d, x, a, nullptr, nullptr, 0.f, out);
    return;
  }
  const TapGeom tg = TapGeom::Make(d.N, d.C, d.H, d.W, V);
  ws.assign(tg.WorkspaceFloats(), kNaN);
  std::vector<float> wsm(tg.SmemFloats());
  std::vector<std::array<float, 9>> acc(kThreads);
  for (int64_t b = 0; b < tg.Blocks(); ++b) {
    const TapBlock blk = TapBlockOf(tg, b);
    std::fill(wsm.begin(), wsm.end(), kNaN);
    for (int t = 0; t < kThreads; ++t)
      for (int64_t i = t; i < 18 * blk.Cc; i += kThreads) StageTapWeight(tg, blk, a, wsa, i, wsm.data());
    for (int64_t tile = blk.t0; tile < blk.t1; ++tile) {
      for (int t = 0; t < kThreads; ++t) {
        float v[9];
        TapPartial<T, V>(tg, blk, x, wsm.data(), TapPixel(tg, tile, t), t % tg.G, v);
        std::copy(v, v + 9, acc[t].begin());
      }
      EmuGroupSum<9>(acc, tg.G);
      for (int t = 0; t < kThreads; ++t) {
        if (t % tg.G != 0) continue;
        float v[9];
        std::copy(acc[t].begin(), acc[t].end(), v);
        StoreTaps(tg, blk, TapPixel(tg, tile, t), v, ws.data());
      }
    }
  }
  for (int64_t i = 0; i < d.N * HW; ++i) sw[i] = SpatialGateAt(tg, ws.data(), i);
  EmuScale<T, V>(d, x, a, sw, nullptr, 0.f, out);
}

template <typename T, int V>
void EmuBackward(const Shape& d, int64_t k, const T* go, const T* x, const float* wca, const float* wsa, const float* g,
                 const float* a, const float* sw, T* dx, float* dwca, float* dwsa) {
  const int64_t HW = d.H * d.W;
  const float invHW = 1.f / static_cast<float>(HW);
  const BackwardSpace bs = BackwardSpace::Make(d.N, d.C, d.H, d.W, wsa != nullptr);
  std::vector<float> ws(bs.total, kNaN);
  float* da = ws.data() + bs.da;
  float* dg = ws.data() + bs.dg;
  if (!wsa) {
    EmuPixelSum<T, V, true>(SumGeom::Make(d.N, d.C, HW, V), x, go, 1.f, da);
    EmuGateBackward(d, k, da, a, g, wca, dg, dwca);
    EmuScale<T, V>(d, go, a, nullptr, dg, invHW, dx);
    return;
  }
  float* ds = ws.data() + bs.ds;
  float* part = ws.data() + bs.part;
  const DsGeom dsg = DsGeom::Make(d.N, d.C, HW, V);
  std::vector<std::array<float, 1>> acc1(kThreads);
  for (int64_t b = 0; b < dsg.Blocks(); ++b) {
    for (int t = 0; t < kThreads; ++t) acc1[t][0] = DsPartial<T, V>(dsg, go, x, a, dsg.Pixel(b, t), t % dsg.G);
    EmuGroupSum<1>(acc1, dsg.G);
    for (int t = 0; t < kThreads; ++t)
      if (t % dsg.G == 0) StoreDs(dsg, sw, dsg.Pixel(b, t), acc1[t][0], ds);
  }
  const PoolGeom pg = PoolGeom::Make(d.N, d.C, d.H, d.W);
  std::vector<float> sh(kParts * kThreads);
  for (int64_t b = 0; b < pg.Blocks(); ++b) {
    std::fill(sh.begin(), sh.end(), kNaN);
    for (int t = 0; t < kThreads; ++t) {
      float acc[kParts];
      PoolBackwardThread<T>(pg, PoolThreadOf(pg, b, t), go, x, a, sw, ds, wsa, dx, acc);
      PoolPartsShare(t, acc, sh.data());
    }
    for (int t = 0; t < kThreads; ++t) PoolPartsStore(pg, PoolThreadOf(pg, b, t), sh.data(), part);
  }
  std::vector<float> shd(kThreads);
  for (int64_t b = 0; b < DwsaBlocks(pg); ++b) {
    std::fill(shd.begin(), shd.end(), kNaN);
    for (int t = 0; t < kThreads; ++t) DwsaSlice(pg, a, part, b, t, shd.data());
    for (int t = 0; t < kThreads; ++t) DwsaStore(pg, b, t, shd.data(), dwsa);
  }
  for (int64_t i = 0; i < d.N * d.C; ++i) da[i] = DaAt(pg, part, i);
  EmuGateBackward(d, k, da, a, g, wca, dg, dwca);
  EmuScale<T, V>(d, dx, nullptr, nullptr, dg, invHW, dx);
}

// ---- references in float64 ----------------------------------------------------------------------

struct Inputs {
  Shape d;
  int64_t k;
  std::vector<double> x, go, wca, wsa;  // x, go NHWC; already rounded to the tested dtype
};

// The spec's formulas, NHWC, plainly: returns out; fills g, a, sw.
std::vector<double> DirectForward(const Inputs& in, bool spatial, std::vector<double>* g_out = nullptr,
                                  std::vector<double>* a_out = nullptr, std::vector<double>* sw_out = nullptr) {
  const Shape& d = in.d;
  const int64_t N = d.N, C = d.C, H = d.H, W = d.W, HW = H * W, pad = (in.k - 1) / 2;
  auto X = [&](int64_t n, int64_t h, int64_t w, int64_t c) { return in.x[((n * H + h) * W + w) * C + c]; };
  std::vector<double> g(N * C, 0.0), a(N * C), y(N * HW * C), out(N * HW * C), sw(N * HW, 1.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t p = 0; p < HW; ++p)
      for (int64_t c = 0; c < C; ++c) g[n * C + c] += in.x[(n * HW + p) * C + c] / static_cast<double>(HW);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      double z = 0;
      for (int64_t j = 0; j < in.k; ++j) {
        const int64_t cc = c + j - pad;
        if (cc >= 0 && cc < C) z += in.wca[j] * g[n * C + cc];
      }
      a[n * C + c] = 1 / (1 + std::exp(-z));
    }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w)
        for (int64_t c = 0; c < C; ++c) y[((n * H + h) * W + w) * C + c] = a[n * C + c] * X(n, h, w, c);
  if (spatial) {
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          double s = 0;
          for (int64_t i = 0; i < 3; ++i)
            for (int64_t j = 0; j < 3; ++j) {
              const int64_t qh = h + i - 1, qw = w + j - 1;
              if (qh < 0 || qh >= H || qw < 0 || qw >= W) continue;  // conv zero padding
              for (int64_t c = 0; c < C; ++c) {
                double avg = 0, mx = -std::numeric_limits<double>::infinity();
                for (int64_t u = -1; u <= 1; ++u)
                  for (int64_t v = -1; v <= 1; ++v) {
                    const int64_t rh = qh + u, rw = qw + v;
                    if (rh < 0 || rh >= H || rw < 0 || rw >= W) continue;
                    const double val = y[((n * H + rh) * W + rw) * C + c];
                    avg += val / 9;  // count_include_pad
                    mx = std::max(mx, val);
                  }
                s += in.wsa[c * 9 + i * 3 + j] * avg + in.wsa[(C + c) * 9 + i * 3 + j] * mx;
              }
            }
          sw[n * HW + h * W + w] = 1 / (1 + std::exp(-s));
        }
  }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t p = 0; p < HW; ++p)
      for (int64_t c = 0; c < C; ++c) out[(n * HW + p) * C + c] = y[(n * HW + p) * C + c] * sw[n * HW + p];
  if (g_out) *g_out = g;
  if (a_out) *a_out = a;
  if (sw_out) *sw_out = sw;
  return out;
}

struct Reference {
  std::vector<double> out, g, a, sw, dx, dwca, dwsa;
};

// The CPU NHWC kernels in float64.
Reference CpuReference(const Inputs& in, bool spatial) {
  const Shape& d = in.d;
  const ecf::esca_cpu::Dims dims{d.N, d.C, d.H, d.W, in.k};
  const int64_t NHWC = d.N * d.H * d.W * d.C;
  Reference r;
  r.out.resize(NHWC), r.g.resize(d.N * d.C), r.a.resize(d.N * d.C), r.sw.resize(d.N * d.H * d.W);
  r.dx.resize(NHWC), r.dwca.resize(in.k), r.dwsa.resize(spatial ? 18 * d.C : 0);
  namespace cpu = ecf::esca_cpu::ref::nhwc;
  if (spatial) {
    cpu::EscaForward<double>(in.x.data(), in.wca.data(), in.wsa.data(), dims, r.out.data(), r.g.data(), r.a.data(),
                             r.sw.data());
    cpu::EscaBackward<double>(in.go.data(), in.x.data(), in.wca.data(), in.wsa.data(), r.g.data(), r.a.data(),
                              r.sw.data(), dims, r.dx.data(), r.dwca.data(), r.dwsa.data());
  } else {
    cpu::EcaForward<double>(in.x.data(), in.wca.data(), dims, r.out.data(), r.g.data(), r.a.data());
    cpu::EcaBackward<double>(in.go.data(), in.x.data(), in.wca.data(), r.g.data(), r.a.data(), dims, r.dx.data(),
                             r.dwca.data());
  }
  return r;
}

// ---- comparison ---------------------------------------------------------------------------------

int failures = 0;

template <typename A>
double ToD(A v) {
  return static_cast<double>(ToAcc(v));
}
double ToD(double v) { return v; }

// max |got − ref| / max |ref|; NaN if any element of got is not finite (e.g. never written).
template <typename A>
double RelErr(const A* got, const std::vector<double>& ref) {
  double num = 0, den = 1e-300;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double v = ToD(got[i]);
    if (!std::isfinite(v)) return kNaN;
    num = std::max(num, std::fabs(v - ref[i]));
    den = std::max(den, std::fabs(ref[i]));
  }
  return num / den;
}

void Expect(const std::string& what, double err, double tol) {
  if (!(err <= tol)) {
    std::printf("FAIL %s: relative error %g > %g\n", what.c_str(), err, tol);
    ++failures;
  }
}

// The references agree with each other, and their gradients with finite differences of the
// direct forward (loss Σ go·out), at a few elements.
void CheckReferences(const Inputs& in, bool spatial, const Reference& r, const std::string& name) {
  std::vector<double> g, a, sw;
  const std::vector<double> out = DirectForward(in, spatial, &g, &a, &sw);
  Expect(name + " reference out (direct vs CPU kernel)", RelErr(r.out.data(), out), 1e-12);
  Expect(name + " reference a", RelErr(r.a.data(), a), 1e-12);
  if (spatial) Expect(name + " reference sw", RelErr(r.sw.data(), sw), 1e-12);
  auto loss = [&](const Inputs& v) {
    const std::vector<double> o = DirectForward(v, spatial);
    double s = 0;
    for (size_t i = 0; i < o.size(); ++i) s += v.go[i] * o[i];
    return s;
  };
  auto fd = [&](std::vector<double> Inputs::*field, size_t i) {
    const double h = 1e-6;
    Inputs p = in, m = in;
    (p.*field)[i] += h;
    (m.*field)[i] -= h;
    return (loss(p) - loss(m)) / (2 * h);
  };
  std::mt19937 rng(7);
  double worst = 0, scale = 1e-300;
  for (double v : r.dx) scale = std::max(scale, std::fabs(v));
  for (int t = 0; t < 4; ++t) {
    const size_t i = rng() % r.dx.size();
    worst = std::max(worst, std::fabs(fd(&Inputs::x, i) - r.dx[i]) / scale);
  }
  for (size_t j = 0; j < r.dwca.size(); ++j)
    worst = std::max(worst, std::fabs(fd(&Inputs::wca, j) - r.dwca[j]) / std::max(1e-3, std::fabs(r.dwca[j])));
  if (spatial) {
    for (int t = 0; t < 4; ++t) {
      const size_t i = rng() % r.dwsa.size();
      worst = std::max(worst, std::fabs(fd(&Inputs::wsa, i) - r.dwsa[i]) / std::max(1e-3, std::fabs(r.dwsa[i])));
    }
  }
  Expect(name + " reference gradients vs finite differences", worst, 1e-5);
}

template <typename T>
std::vector<T> Round(std::vector<double>& v) {
  std::vector<T> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    r[i] = FromAcc<T>(static_cast<float>(v[i]));
    v[i] = ToD(r[i]);  // the references see exactly what the kernels read
  }
  return r;
}

template <typename T, int V>
void RunCase(const Shape& d, bool spatial, const char* dtype, double tol, std::mt19937& rng, int& cases) {
  Inputs in;
  in.d = d;
  in.k = KOf(d.C);
  const int64_t NHWC = d.N * d.H * d.W * d.C;
  std::normal_distribution<double> normal(0.0, 1.0);
  in.x.resize(NHWC), in.go.resize(NHWC), in.wca.resize(in.k), in.wsa.resize(18 * d.C);
  for (double& v : in.x) v = normal(rng);
  for (double& v : in.go) v = normal(rng);
  for (double& v : in.wca) v = normal(rng);
  for (double& v : in.wsa) v = normal(rng) / std::sqrt(2.0 * static_cast<double>(d.C));
  // the CUDA kernels read x/go in T and the weights in float32 (ops/esca.cc casts them)
  const std::vector<T> x = Round<T>(in.x), go = Round<T>(in.go);
  const std::vector<float> wca = Round<float>(in.wca), wsa = Round<float>(in.wsa);

  std::vector<T> out(NHWC, FromAcc<T>(kNaN)), dx(NHWC, FromAcc<T>(kNaN));
  std::vector<float> g(d.N * d.C, kNaN), a(d.N * d.C, kNaN), sw(d.N * d.H * d.W, kNaN), ws;
  std::vector<float> dwca(in.k, kNaN), dwsa(18 * d.C, kNaN);
  const float* wsap = spatial ? wsa.data() : nullptr;
  EmuForward<T, V>(d, in.k, x.data(), wca.data(), wsap, out.data(), g.data(), a.data(), sw.data(), ws);
  EmuBackward<T, V>(d, in.k, go.data(), x.data(), wca.data(), wsap, g.data(), a.data(), sw.data(), dx.data(),
                    dwca.data(), spatial ? dwsa.data() : nullptr);

  const Reference r = CpuReference(in, spatial);
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s %s V=%d [%lld,%lld,%lld,%lld]", spatial ? "esca" : "eca", dtype, V,
                static_cast<long long>(d.N), static_cast<long long>(d.C), static_cast<long long>(d.H),
                static_cast<long long>(d.W));
  const std::string name = buf;
  // float64 statistics and weight gradients are compared in float32 terms
  const double ftol = std::max(tol, 2e-5);
  const double eo = RelErr(out.data(), r.out), eg = RelErr(g.data(), r.g), ea = RelErr(a.data(), r.a);
  const double edx = RelErr(dx.data(), r.dx), ewc = RelErr(dwca.data(), r.dwca);
  double esw = 0, ews = 0;
  Expect(name + " out", eo, tol);
  Expect(name + " g", eg, ftol);
  Expect(name + " a", ea, ftol);
  Expect(name + " dx", edx, tol);
  Expect(name + " dcaWeight", ewc, ftol);
  if (spatial) {
    esw = RelErr(sw.data(), r.sw), ews = RelErr(dwsa.data(), r.dwsa);
    Expect(name + " sw", esw, ftol);
    Expect(name + " dsaWeight", ews, ftol);
  }
  // (float32 only: inputs rounded to a half type tie often, where a difference quotient is one-sided)
  if (std::string(dtype) == "float32") CheckReferences(in, spatial, r, name);
  std::printf("case %-40s out %.1e dx %.1e dca %.1e dsa %.1e sw %.1e\n", name.c_str(), eo, edx, ewc, ews, esw);
  ++cases;
}

template <typename T>
void RunDtype(const char* dtype, double tol, const std::vector<Shape>& shapes, std::mt19937& rng, int& cases) {
  for (const Shape& d : shapes) {
    for (bool spatial : {true, false}) {
      if (d.C % kVec<T> == 0) RunCase<T, kVec<T>>(d, spatial, dtype, tol, rng, cases);
      RunCase<T, 1>(d, spatial, dtype, tol, rng, cases);
    }
  }
}

// The launcher's rule for packs: C a multiple of kVec<T> and every buffer 16-byte aligned.
void CheckPackRule() {
  alignas(16) static unsigned char buf[64];
  const bool ok = PacksFit<float>(8, {buf, buf + 16}) && !PacksFit<float>(6, {buf}) &&
                  !PacksFit<float>(8, {buf, buf + 4}) && PacksFit<__half>(16, {buf}) && !PacksFit<__half>(12, {buf}) &&
                  !PacksFit<__nv_bfloat16>(8, {buf + 2});
  if (!ok) {
    std::printf("FAIL PacksFit: the pack rule\n");
    ++failures;
  }
}

}  // namespace

int main() {
  const std::vector<Shape> shapes = {
      {1, 12, 7, 7},  {3, 20, 5, 9},   {2, 33, 3, 17}, {1, 100, 1, 1}, {5, 3, 2, 9},   {2, 64, 9, 9},
      {2, 128, 6, 5}, {1, 520, 3, 4},  {2, 513, 2, 3}, {1, 1, 1, 1},   {1, 8, 1, 13},  {2, 16, 13, 1},
      {3, 24, 11, 6}, {2, 256, 4, 4},  {1, 40, 17, 15}, {2, 2, 33, 7}, {1, 48, 56, 3}, {11, 6, 3, 4},
      {9, 16, 5, 5},  // more samples than the weight-gradient sum's 8 slices
  };
  std::mt19937 rng(2024);
  int cases = 0;
  CheckPackRule();
  RunDtype<float>("float32", 1e-5, shapes, rng, cases);
  RunDtype<__half>("float16", 1e-2, shapes, rng, cases);
  RunDtype<__nv_bfloat16>("bfloat16", 1e-2, shapes, rng, cases);
  if (failures) {
    std::printf("esca_nhwc_emulate: %d failure(s) in %d cases\n", failures, cases);
    return 1;
  }
  std::printf("esca_nhwc_emulate: %d cases passed\n", cases);
  return 0;
}
