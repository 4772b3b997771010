// Test helpers shared by the src/table unit tests: temporary directories on the real file system
// (Catalog::Drop renames directories, which env::MemFileSystem does not model), the test schema,
// row blobs made with schema::RowBlobWriter, and reading a table's ids back from its Parquet files.
// Test-only; not part of nobus_table.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "delta/table.h"
#include "env/forwarding_file_system.h"
#include "parquet/reader.h"
#include "schema/ddl.h"
#include "schema/row_codec.h"
#include "table/ingest_service.h"

namespace nobus::table::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern = Cat(base != nullptr ? base : "/tmp", "/nobus-table-test-XXXXXX");
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(std::string_view name) const { return env::JoinPath(path_, name); }

 private:
  std::string path_;
};

// Forwards to the POSIX file system; when armed, fails what the tests need to fail.
class FlakyFileSystem final : public env::ForwardingFileSystem {
 public:
  // Opening files for writing under `<data dir>/tables` fails (commits cannot write data files).
  std::atomic<bool> fail_table_writes{false};
  // The next SyncDir of a `_delta_log` fails after it happened, and so does the next read of a
  // commit file: the commit landed, but its writer cannot tell.
  std::atomic<bool> hide_next_commit{false};

  absl::StatusOr<std::unique_ptr<env::File>> Open(std::string_view p, env::OpenMode m) override {
    if (m != env::OpenMode::kRead && fail_table_writes && p.find("/tables/") != p.npos)
      return absl::UnavailableError(Cat("injected: cannot create ", p));
    if (m == env::OpenMode::kRead && fail_next_commit_read_.exchange(false) && p.ends_with(".json"))
      return absl::UnavailableError(Cat("injected: cannot read ", p));
    return base()->Open(p, m);
  }
  // While stalled, a SyncDir of a path that starts with `prefix` blocks (a table on a slow disk)
  // until ReleaseDirSyncs; WaitForStalledSyncs(k) returns once k are blocked.
  void StallDirSyncs(std::string prefix) {
    std::lock_guard<std::mutex> l(stall_mu_);
    stall_prefix_ = std::move(prefix);
  }
  void ReleaseDirSyncs() {
    std::lock_guard<std::mutex> l(stall_mu_);
    stall_prefix_.clear();
    stall_cv_.notify_all();
  }
  void WaitForStalledSyncs(int k) {
    std::unique_lock<std::mutex> l(stall_mu_);
    stall_cv_.wait(l, [&] { return stalled_ >= k; });
  }

  absl::Status SyncDir(std::string_view p) override {
    {
      std::unique_lock<std::mutex> l(stall_mu_);
      if (!stall_prefix_.empty() && p.starts_with(stall_prefix_)) {
        ++stalled_;
        stall_cv_.notify_all();
        stall_cv_.wait(l, [&] { return stall_prefix_.empty(); });
        --stalled_;
      }
    }
    NOBUS_RETURN_IF_ERROR(base()->SyncDir(p));
    if (!p.ends_with("_delta_log") || !hide_next_commit.exchange(false)) return absl::OkStatus();
    fail_next_commit_read_ = true;
    return absl::UnavailableError("injected: directory sync timed out");
  }

 private:
  std::atomic<bool> fail_next_commit_read_{false};
  std::mutex stall_mu_;
  std::condition_variable stall_cv_;
  std::string stall_prefix_;  // guarded by stall_mu_
  int stalled_ = 0;           // guarded by stall_mu_
};

// Copies a whole data directory: what a crash leaves on disk, as long as everything acked is
// synced (it is, once the done callbacks ran) and no commit runs during the copy.
inline void CopyTree(const std::string& from, const std::string& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

inline schema::Schema TestSchema() {
  return *schema::ParseDdl("id BIGINT NOT NULL, name STRING, day STRING");
}

inline TableName Name(std::string_view full) { return *ParseTableName(full); }

// Rows (id, "name-<id>", day) for ids first..first+n-1.
inline std::string MakeBlob(int64_t first, int n, std::optional<std::string> day = "2025-01-01") {
  std::string out;
  schema::RowBlobWriter w(&out);
  for (int i = 0; i < n; ++i) {
    w.BeginRow();
    w.Int64(first + i);
    w.String(Cat("name-", first + i));
    if (day) {
      w.String(*day);
    } else {
      w.Null();
    }
    w.EndRow();
  }
  return out;
}

// Counts done callbacks; Wait blocks until `n` arrived and returns the first error, if any.
class Acks {
 public:
  DurableCallback Callback() {
    return [this](absl::Status st) {
      std::lock_guard<std::mutex> l(mu_);
      ++count_;
      if (first_error_.ok()) first_error_ = st;
      cv_.notify_all();
    };
  }
  absl::Status Wait(int n) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return count_ >= n; });
    return first_error_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
  absl::Status first_error_;
};

// Appends and waits for the durability ack.
inline absl::Status AppendDurably(IngestService* service, const LiveTable& table,
                                  std::string blob) {
  absl::StatusOr<int64_t> rows = schema::CountRows(blob);
  if (!rows.ok()) return rows.status();
  Acks acks;
  NOBUS_RETURN_IF_ERROR(service->Append(table, std::move(blob), *rows, acks.Callback()));
  return acks.Wait(1);
}

inline delta::Snapshot LoadSnapshot(const std::string& table_root,
                                    env::FileSystem* fs = env::PosixFileSystem()) {
  delta::FileLogStore store(fs, table_root);
  auto snapshot = delta::Snapshot::Load(&store);
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  return snapshot.ok() ? *snapshot : delta::Snapshot();
}

// Every `id` in the table's live files (sorted), read back from the Parquet data.
inline std::vector<int64_t> ReadIds(const std::string& table_root,
                                    env::FileSystem* fs = env::PosixFileSystem()) {
  std::vector<int64_t> ids;
  delta::Snapshot snapshot = LoadSnapshot(table_root, fs);
  for (const auto& [path, add] : snapshot.files()) {
    auto bytes = env::ReadFile(fs, env::JoinPath(table_root, path));
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    auto reader = parquet::FileReader::Open(*bytes);
    EXPECT_TRUE(reader.ok()) << reader.status();
    std::optional<int> column = reader->FindColumn({"id"});
    EXPECT_TRUE(column.has_value());
    auto values = reader->ReadColumn(*column);
    EXPECT_TRUE(values.ok()) << values.status();
    ids.insert(ids.end(), values->ints.begin(), values->ints.end());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Options for tests: a long flush interval (nothing is flushed unless a test asks, or advances
// the clock), small WAL segments so releases are visible.
inline IngestOptions TestOptions(MetricsRegistry* metrics = nullptr) {
  IngestOptions o;
  o.flush_interval_ms = 1000;
  o.wal.segment_size_bytes = 4096;
  o.metrics = metrics;
  o.background_flush = false;  // the tests call FlushDue/FlushAll on their ManualClock
  return o;
}

inline std::unique_ptr<IngestService> OpenService(env::FileSystem* fs, env::Clock* clock,
                                                  const std::string& data_dir,
                                                  IngestOptions options) {
  auto service = IngestService::Open(fs, clock, data_dir, std::move(options));
  EXPECT_TRUE(service.ok()) << service.status();
  return service.ok() ? std::move(*service) : nullptr;
}

inline std::shared_ptr<const LiveTable> CreateAndOpen(IngestService* service,
                                                      std::string_view name,
                                                      std::vector<std::string> partitions = {}) {
  auto info = service->catalog()->Create(Name(name), TestSchema(), partitions);
  EXPECT_TRUE(info.ok()) << info.status();
  auto table = service->OpenTable(Name(name));
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *table : nullptr;
}

// Segment files in a WAL directory.
inline size_t CountSegments(const std::string& wal_dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(wal_dir))
    if (e.path().extension() == ".wal") ++n;
  return n;
}

inline std::vector<int64_t> Range(int64_t first, int64_t n) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(first + i);
  return v;
}

}  // namespace nobus::table::testing
