// The group's collectives thread (group.h, GroupCore::Submit): collectives start in the order they
// are submitted, each after the ranks have compared what it is.
//
// Why: c10d matches collectives across ranks by their order alone. Ranks that disagree about one
// (another config, a code path one rank skips) meet in collectives of different sizes, and Gloo
// then fails an enforce in its transport thread (`op.preamble.length <= op.nbytes`), where nothing
// catches it: std::terminate, exit 134. A smaller message than the buffer posted for it passes
// silently, mixing up data. So before each collective every rank all-gathers a fixed-size header
// (sequence number, kind, dtype, device, element count, op or root), which cannot itself disagree
// in size, and starts the collective only if every rank's header is the same; otherwise every rank
// throws the same c10::Error, which reaches JS, and the ranks stay in step for what follows.
//
// The check costs one small all-gather per collective. A caller that waits for its collective
// anyway (allreduceSync, the autograd all-gather) runs it itself when nothing is queued; others
// only enqueue (a gradient bucket's allreduce is still launched while the backward goes on).
#include "distributed/group.h"

#if defined(ECF_WITH_C10D)

#include <c10/core/ScalarType.h>

#include <sstream>

namespace ecf {
namespace dist {
namespace {

constexpr int64_t kHeaderMagic = 0x45434631;  // "ECF1"
constexpr int64_t kHeaderLen = 8;

const char* KindName(int64_t k) {
  switch (k) {
    case CollectiveDesc::kAllreduce: return "allreduce";
    case CollectiveDesc::kAllgather: return "allgather";
    case CollectiveDesc::kBroadcast: return "broadcast";
    case CollectiveDesc::kBarrier: return "barrier";
    default: return "collective";
  }
}

const char* OpName(int64_t code) {
  static const char* names[] = {"sum", "max", "min", "product"};
  return code >= 0 && code < 4 ? names[code] : "?";
}

std::string DtypeName(int64_t t) {
  switch (static_cast<c10::ScalarType>(t)) {
    case c10::kFloat: return "float32";
    case c10::kDouble: return "float64";
    case c10::kHalf: return "float16";
    case c10::kBFloat16: return "bfloat16";
    case c10::kLong: return "int64";
    case c10::kInt: return "int32";
    case c10::kByte: return "uint8";
    default: return c10::toString(static_cast<c10::ScalarType>(t));
  }
}

// `#12 allreduce (sum) of 512 float32 values on cpu`, from a header row.
std::string Describe(const int64_t* h) {
  std::ostringstream s;
  s << "#" << h[1] << " " << KindName(h[2]);
  if (h[2] == CollectiveDesc::kBarrier) return s.str();
  if (h[2] == CollectiveDesc::kAllreduce) s << " (" << OpName(h[6]) << ")";
  if (h[2] == CollectiveDesc::kBroadcast) s << " from rank " << h[6];
  s << " of " << h[5] << " " << DtypeName(h[3]) << " values" << (h[2] == CollectiveDesc::kAllgather ? " per rank" : "")
    << " on " << c10::DeviceTypeName(static_cast<c10::DeviceType>(h[4]), /*lower_case=*/true);
  return s.str();
}

}  // namespace

CollectiveDesc CollectiveDesc::Of(Kind kind, const std::vector<at::Tensor>& ts, int64_t detail) {
  CollectiveDesc d;
  d.kind = kind;
  d.detail = detail;
  if (!ts.empty()) {
    d.dtype = static_cast<int64_t>(ts[0].scalar_type());
    d.device = ts[0].device();
  }
  for (const auto& t : ts) d.numel += t.numel();
  return d;
}

int64_t ReduceCode(const std::string& op) {
  if (op == "sum") return 0;
  if (op == "max") return 1;
  if (op == "min") return 2;
  if (op == "product") return 3;
  TORCH_CHECK(false, "distributed: unknown reduce op '", op, "' (expected sum, max, min or product)");
  return 0;
}

// Checks and issues `job` (on whichever thread holds the turn: the collectives thread, or Run's).
void GroupCore::Start(Job& job) {
  try {
    // After a failed wait (a rank died or stalled) nothing further can meet the other ranks.
    TORCH_CHECK(!failed.load() && !q_stop, "distributed: collective #", job.seq, " was not started on rank ", opt.rank, ": ",
                q_stop ? "the group was destroyed" : "an earlier collective of this group failed");
    CheckAgreement(job);
    job.done.set_value(job.issue(*pg));
  } catch (...) {
    job.done.set_exception(std::current_exception());
  }
  std::lock_guard<std::mutex> lock(q_mu);
  q_busy = false;
  q_cv.notify_all();
}

std::shared_future<WorkPtr> GroupCore::Submit(const CollectiveDesc& d, std::function<WorkPtr(PgBase&)> issue, bool inline_if_idle) {
  Job job;
  job.desc = d;
  job.issue = std::move(issue);
  std::shared_future<WorkPtr> f = job.done.get_future().share();
  bool now = false;
  {
    std::lock_guard<std::mutex> lock(q_mu);
    TORCH_CHECK(pg && !q_stop, "distributed: the group is not connected (or was destroyed)");
    job.seq = issued++;  // the heartbeat's count: collectives submitted by this rank
    // A caller that waits anyway starts its collective itself when nothing is queued before it
    // (one thread hop less); otherwise the collectives thread starts it in turn.
    now = inline_if_idle && !q_busy && q_jobs.empty();
    if (now) q_busy = true;
    else q_jobs.push_back(std::move(job));
  }
  if (now) Start(job);
  else q_cv.notify_all();
  return f;
}

void GroupCore::Run(const CollectiveDesc& d, std::function<WorkPtr(PgBase&)> issue, const char* what) {
  WaitWork(*this, Submit(d, std::move(issue), /*inline_if_idle=*/true).get(), what);
}

void GroupCore::CollectivesLoop() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(q_mu);
      q_cv.wait(lock, [this] { return (q_stop || !q_jobs.empty()) && !q_busy; });
      if (q_jobs.empty()) return;  // stopped, nothing left
      job = std::move(q_jobs.front());
      q_jobs.pop_front();
      q_busy = true;
    }
    Start(job);
  }
}

void GroupCore::CheckAgreement(const Job& job) {
  if (!opt.check_collectives) return;
  const CollectiveDesc& d = job.desc;
  at::Tensor mine = at::zeros({kHeaderLen}, at::kLong);
  int64_t* h = mine.data_ptr<int64_t>();
  h[0] = kHeaderMagic;
  h[1] = job.seq;
  h[2] = d.kind;
  h[3] = d.dtype;
  h[4] = static_cast<int64_t>(d.device.type());
  h[5] = d.numel;
  h[6] = d.detail;
  const std::string what = "the check before collective " + Describe(h);
  if (!d.device.is_cpu()) mine = mine.to(d.device);
  std::vector<at::Tensor> in{mine};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < opt.size; ++r) out[0].push_back(at::empty_like(mine));
  WaitWork(*this, pg->allgather(out, in), what.c_str());
  std::vector<at::Tensor> rows;
  bool same = true;
  for (int r = 0; r < opt.size; ++r) {
    rows.push_back(out[0][r].cpu().contiguous());
    if (!at::equal(rows[r], rows[0])) same = false;
  }
  if (same) return;
  std::ostringstream s;
  for (int r = 0; r < opt.size; ++r) s << (r ? ", " : "") << "rank " << r << ": " << Describe(rows[r].data_ptr<int64_t>());
  TORCH_CHECK(false, "distributed: rank ", opt.rank, " of ", opt.size,
              ": the ranks are not at the same collective, so it was not started (their configs, models or code "
              "paths differ): ",
              s.str());
}

}  // namespace dist
}  // namespace ecf

#endif  // ECF_WITH_C10D
