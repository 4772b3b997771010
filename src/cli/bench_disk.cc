#include "cli/bench_disk.h"

#include <chrono>
#include <memory>

#include "cli/bench_stats.h"
#include "env/env.h"

namespace nobus::cli::bench {
namespace {

constexpr uint64_t kFileBytes = 64ull << 20;  // like a WAL segment

}  // namespace

absl::StatusOr<DiskFigures> MeasureWriteSync(const std::string& dir, int64_t chunk_bytes,
                                             double seconds) {
  env::FileSystem* fs = env::PosixFileSystem();
  NOBUS_RETURN_IF_ERROR(fs->CreateDirs(dir));
  const uint64_t chunk = static_cast<uint64_t>(chunk_bytes);
  const std::string data(chunk, 'r');
  std::unique_ptr<env::File> file;
  uint64_t offset = kFileBytes;  // forces the first open
  int file_no = 0;
  LatencyHistogram sync_us;
  DiskFigures out;
  out.chunk_bytes = chunk_bytes;
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  const Clock::time_point end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  absl::Status st;
  for (Clock::time_point now = start; st.ok() && now < end;) {
    if (offset + chunk > kFileBytes) {
      if (file) NOBUS_RETURN_IF_ERROR(file->Close());
      const std::string path = env::JoinPath(dir, Cat("baseline-", file_no++, ".dat"));
      NOBUS_ASSIGN_OR_RETURN(file, fs->Open(path, env::OpenMode::kTruncate));
      NOBUS_RETURN_IF_ERROR(file->Preallocate(kFileBytes));
      offset = 0;
    }
    st = file->WriteAt(offset, data);
    if (st.ok()) st = file->Sync();
    const Clock::time_point done = Clock::now();
    sync_us.Add(std::chrono::duration_cast<std::chrono::microseconds>(done - now).count());
    offset += chunk;
    ++out.syncs;
    now = done;
  }
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (file) (void)file->Close();
  for (int i = 0; i < file_no; ++i)
    (void)fs->Delete(env::JoinPath(dir, Cat("baseline-", i, ".dat")));
  NOBUS_RETURN_IF_ERROR(st);
  out.mb_per_s = static_cast<double>(out.syncs) * static_cast<double>(chunk) / out.seconds / 1e6;
  out.sync_p50_ms = sync_us.Percentile(0.5) / 1000;
  out.sync_p99_ms = sync_us.Percentile(0.99) / 1000;
  return out;
}

}  // namespace nobus::cli::bench
