#include "cli/bench_watch.h"

#include <nlohmann/json.hpp>

#include "delta/actions.h"
#include "delta/log_store.h"
#include "env/env.h"

namespace nobus::cli::bench {

struct CommitWatcher::Table {
  explicit Table(const std::string& root) : store(env::PosixFileSystem(), root) {}
  delta::FileLogStore store;
  int64_t next_version = 0;
  std::vector<Range> ranges;  // guarded by mu_
};

namespace {

// The probe range of one add action's stats; nullopt when the file holds no probe values.
std::optional<std::pair<int64_t, int64_t>> ProbeRange(const delta::AddFile& add) {
  if (!add.data_change || !add.stats) return std::nullopt;
  nlohmann::json stats = nlohmann::json::parse(*add.stats, nullptr, /*allow_exceptions=*/false);
  if (!stats.is_object()) return std::nullopt;
  auto value = [&](const char* key) -> std::optional<int64_t> {
    auto it = stats.find(key);
    if (it == stats.end() || !it->is_object()) return std::nullopt;
    auto p = it->find("probe");
    if (p == it->end() || !p->is_number_integer()) return std::nullopt;
    return p->get<int64_t>();
  };
  std::optional<int64_t> lo = value("minValues"), hi = value("maxValues");
  if (!lo || !hi) return std::nullopt;
  return std::make_pair(*lo, *hi);
}

}  // namespace

absl::StatusOr<std::unique_ptr<CommitWatcher>> CommitWatcher::Start(std::vector<std::string> roots,
                                                                   int64_t poll_ms) {
  std::unique_ptr<CommitWatcher> w(new CommitWatcher());
  for (const std::string& root : roots) {
    auto t = std::make_unique<Table>(root);
    NOBUS_ASSIGN_OR_RETURN(delta::LogListing listing, t->store.List());
    t->next_version = listing.commits.empty() ? 0 : listing.commits.back() + 1;
    w->tables_.push_back(std::move(t));
  }
  w->thread_ = std::thread([p = w.get(), poll_ms] { p->Loop(poll_ms); });
  return w;
}

CommitWatcher::~CommitWatcher() { Stop(); }

void CommitWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CommitWatcher::Loop(int64_t poll_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    for (auto& t : tables_) {
      absl::Status st = Poll(*t);
      if (!st.ok()) {
        std::lock_guard<std::mutex> error_lock(mu_);
        if (error_.ok()) error_ = st;
      }
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(poll_ms), [this] { return stop_; });
  }
}

absl::Status CommitWatcher::Poll(Table& t) {
  while (true) {
    const std::string name = delta::CommitFileName(t.next_version);
    absl::StatusOr<std::string> body = t.store.Read(name);
    if (absl::IsNotFound(body.status())) return absl::OkStatus();
    NOBUS_RETURN_IF_ERROR(body.status());
    NOBUS_ASSIGN_OR_RETURN(int64_t mtime_ms, t.store.ModificationTimeMs(name));
    NOBUS_ASSIGN_OR_RETURN(delta::CommitActions actions, delta::ParseCommit(*body, name));
    std::vector<Range> found;
    for (const delta::AddFile& add : actions.adds) {
      if (auto range = ProbeRange(add)) found.push_back({range->first, range->second, mtime_ms});
    }
    ++t.next_version;
    std::lock_guard<std::mutex> lock(mu_);
    if (!found.empty()) ++commits_seen_;
    t.ranges.insert(t.ranges.end(), found.begin(), found.end());
  }
}

std::optional<int64_t> CommitWatcher::CommitTimeMs(size_t table, int64_t probe) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (table >= tables_.size()) return std::nullopt;
  for (const Range& r : tables_[table]->ranges)
    if (r.min <= probe && probe <= r.max) return r.commit_ms;
  return std::nullopt;
}

int64_t CommitWatcher::commits_seen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return commits_seen_;
}

absl::Status CommitWatcher::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

}  // namespace nobus::cli::bench
