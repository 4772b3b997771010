#include "cli/bench_stream.h"

#include <thread>

#include "common/status.h"

namespace nobus::cli::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kSampleEvery = std::chrono::milliseconds(10);
constexpr auto kPacingSlack = std::chrono::milliseconds(1);

}  // namespace

void LoadTotals::Add(const StreamResult& r) {
  records += r.records;
  bytes += r.bytes;
  requests += r.requests;
  reconnects += r.reconnects;
  end = std::max(end, r.closed);
  ack_us.Merge(r.ack_us);
  samples.insert(samples.end(), r.samples.begin(), r.samples.end());
  if (!r.status.ok() && failed_streams++ == 0) first_error = std::string(r.status.message());
}

StreamRunner::StreamRunner(const Client* client, StreamConfig config)
    : client_(client),
      config_(std::move(config)),
      maker_(config_.format, config_.record_bytes, config_.stream, config_.probe) {}

StreamRunner::~StreamRunner() { stream_.reset(); }

absl::Status StreamRunner::Open() {
  StreamOptions options;
  if (!config_.token.empty())
    options.headers_provider = BearerTokenHeaders(config_.token, config_.table);
  options.ack_callback = [this](const AckEvent& ack) { OnAck(ack); };
  TableProperties table = BenchTableProperties(config_.table, config_.format);
  if (config_.persistent) {
    NOBUS_ASSIGN_OR_RETURN(stream_, client_->CreatePersistentStream(table, options));
  } else {
    NOBUS_ASSIGN_OR_RETURN(stream_, client_->CreateStream(table, options));
  }
  return absl::OkStatus();
}

void StreamRunner::OnAck(const AckEvent& ack) {
  const double wall_ms = WallMsNow();
  std::lock_guard<std::mutex> lock(mu_);
  while (!inflight_.empty() && next_acked_ <= ack.durable_offset) {
    const Inflight& f = inflight_.front();
    result_.ack_us.Add(
        std::chrono::duration_cast<std::chrono::microseconds>(ack.time - f.sent).count());
    if (f.sample_probe >= 0) result_.samples.push_back({config_.table_index, f.sample_probe, wall_ms});
    inflight_.pop_front();
    ++next_acked_;
  }
}

bool StreamRunner::SendOne(int64_t seq, int64_t n, bool sample) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    inflight_.push_back({Clock::now(), sample ? seq + n - 1 : -1});
  }
  absl::StatusOr<int64_t> offset;
  int64_t bytes = 0;
  if (n == 1) {
    std::string_view record = maker_.Make(seq);
    bytes = static_cast<int64_t>(record.size());
    offset = stream_->Ingest(record);
  } else {
    batch_.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      batch_[static_cast<size_t>(i)] = maker_.Make(seq + i);
      bytes += static_cast<int64_t>(batch_[static_cast<size_t>(i)].size());
    }
    offset = stream_->IngestBatch(std::span<const std::string>(batch_));
  }
  if (offset.ok()) {
    bytes_sent_ += bytes;
    return true;
  }
  result_.status = offset.status();
  return false;
}

void StreamRunner::Run(Clock::time_point start, Clock::time_point deadline) {
  std::this_thread::sleep_until(start);
  Clock::time_point last_sample = start - kSampleEvery;
  int64_t seq = 0;
  bool ok = true;
  for (Clock::time_point now = Clock::now(); ok && now < deadline; now = Clock::now()) {
    if (config_.rate > 0) {
      // Sleep only when more than kPacingSlack ahead: bursts of up to 1 ms of records instead of
      // one wake-up per record (which would cost the client more CPU than the records do).
      const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(double(seq) / config_.rate));
      if (due > now + kPacingSlack) {
        std::this_thread::sleep_until(std::min(due, deadline));
        continue;
      }
    }
    const bool sample = config_.probe && now - last_sample >= kSampleEvery;
    if (sample) last_sample = now;
    ok = SendOne(seq, config_.batch_size, sample);
    seq += config_.batch_size;
  }
  absl::Status closed = stream_->Close();
  result_.closed = Clock::now();
  if (result_.status.ok()) result_.status = closed;
  const StreamStats stats = stream_->Stats();
  stream_.reset();  // no more ack callbacks after this
  std::lock_guard<std::mutex> lock(mu_);
  result_.records = stats.records_durable;
  // Bytes of the durable records (StreamStats counts bytes ingested, not bytes durable).
  result_.bytes = stats.records_ingested > 0
                      ? bytes_sent_ * stats.records_durable / stats.records_ingested
                      : 0;
  result_.requests = stats.requests_durable;
  result_.reconnects = stats.reconnects;
}

}  // namespace nobus::cli::bench
