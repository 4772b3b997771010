#include "cli/bench_fleet.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <queue>
#include <thread>
#include <utility>

#include "cli/bench_records.h"
#include "databricks/zerobus/zerobus.grpc.pb.h"

namespace nobus::cli::bench {

namespace zb = ::databricks::zerobus;
using Clock = Fleet::Clock;

namespace {

constexpr auto kSampleEvery = std::chrono::milliseconds(10);
constexpr auto kPacingSlack = std::chrono::milliseconds(1);
constexpr auto kOpenTimeout = std::chrono::seconds(120);
constexpr size_t kHistogramShards = 16;

}  // namespace

// Ack latencies of many streams (a LatencyHistogram per stream would cost 15 KB each).
struct HistogramShard {
  std::mutex mu;
  LatencyHistogram ack_us;
};

// The fleet's connections: one stub per channel, each channel its own HTTP/2 connection.
struct FleetChannels {
  std::vector<std::unique_ptr<zb::Zerobus::Stub>> stubs;
};

// One stream of the fleet: one EphemeralStream call. Its reactions run on gRPC threads; Due and
// Close run on the pacer. Operations started outside a reaction (by the pacer) are covered by a
// hold, released once no more will be started; write_mu_ is held around every StartWrite and
// taken first by every reaction, so ThreadSanitizer sees the order gRPC guarantees (libgrpc is
// not instrumented).
class FleetStream final
    : public grpc::ClientBidiReactor<zb::EphemeralStreamRequest, zb::EphemeralStreamResponse> {
 public:
  FleetStream(StreamConfig config, Fleet* fleet, HistogramShard* shard)
      : config_(std::move(config)),
        fleet_(fleet),
        shard_(shard),
        maker_(config_.format, config_.record_bytes, config_.stream, config_.probe) {}

  void Start(zb::Zerobus::Stub* stub) {
    std::lock_guard<std::mutex> start(write_mu_);
    context_.AddMetadata("x-databricks-zerobus-table-name", config_.table);
    if (!config_.token.empty()) context_.AddMetadata("authorization", "Bearer " + config_.token);
    stub->async()->EphemeralStream(&context_, this);
    const TableProperties table = BenchTableProperties(config_.table, config_.format);
    zb::CreateIngestStreamRequest* create = request_.mutable_create_stream();
    create->set_table_name(table.table_name);
    create->set_record_type(config_.format == Format::kJson ? zb::JSON : zb::PROTO);
    if (config_.format == Format::kProto) create->set_descriptor_proto(table.descriptor_proto);
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = true;
    }
    AddHold();
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }

  // The pacer: one more request is due at `due`.
  void Due(Clock::time_point due) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (broken_ || closing_) return;
      pending_.push_back(due);
    }
    Pump();
  }

  // No more requests will be due: half-close once the pending ones are written.
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_ = true;
    }
    Pump();
  }

  void Cancel() { context_.TryCancel(); }

  bool opened() const {
    std::lock_guard<std::mutex> lock(mu_);
    return opened_;
  }

  // How the call ended; nullopt while it has not.
  std::optional<grpc::Status> ended() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ended_) return std::nullopt;
    return final_;
  }

  // Adds this stream's figures (after its call ended).
  void AddTo(LoadTotals& totals) const {
    std::lock_guard<std::mutex> lock(mu_);
    totals.records += records_;
    totals.bytes += bytes_;
    totals.requests += requests_;
    totals.end = std::max(totals.end, ended_at_);
    totals.samples.insert(totals.samples.end(), samples_.begin(), samples_.end());
    if (!final_.ok() && totals.failed_streams++ == 0)
      totals.first_error = Cat("stream ", config_.stream, " (", config_.table, "): ",
                               final_.error_message(), " (gRPC status ",
                               static_cast<int>(final_.error_code()), ")");
  }

  void OnReadDone(bool ok) override {
    { std::lock_guard<std::mutex> edge(write_mu_); }
    if (!ok) {
      MarkBroken();
      return;
    }
    const Clock::time_point now = Clock::now();
    bool opened_now = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (response_.has_create_stream_response() && !opened_) {
        opened_ = opened_now = true;
      } else if (response_.has_ingest_record_response() &&
                 response_.ingest_record_response().has_durability_ack_up_to_offset()) {
        AckLocked(response_.ingest_record_response().durability_ack_up_to_offset(), now);
      }
    }
    if (opened_now) fleet_->StreamOpened();
    StartRead(&response_);
    Pump();
  }

  void OnWriteDone(bool ok) override {
    { std::lock_guard<std::mutex> edge(write_mu_); }
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = false;
      if (!ok) broken_ = true;
    }
    Pump();
  }

  void OnDone(const grpc::Status& status) override {
    { std::lock_guard<std::mutex> edge(write_mu_); }
    {
      std::lock_guard<std::mutex> lock(mu_);
      final_ = status;
      ended_ = true;
      ended_at_ = Clock::now();
    }
    fleet_->StreamEnded();  // the last use of this object by gRPC
  }

 private:
  struct Inflight {
    Clock::time_point due;
    int64_t sample_probe = -1;  // >= 0: a time-to-table sample
    int64_t records = 0;
    int64_t bytes = 0;
  };
  enum class Op { kNone, kWrite, kWritesDone, kReleaseHold };

  void MarkBroken() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      broken_ = true;
    }
    Pump();
  }

  // Every request up to `offset` is durable.
  void AckLocked(int64_t offset, Clock::time_point now) {
    const double wall_ms = WallMsNow();
    std::lock_guard<std::mutex> shard(shard_->mu);
    while (!inflight_.empty() && next_acked_ <= offset) {
      const Inflight& f = inflight_.front();
      shard_->ack_us.Add(std::chrono::duration_cast<std::chrono::microseconds>(now - f.due).count());
      if (f.sample_probe >= 0) samples_.push_back({config_.table_index, f.sample_probe, wall_ms});
      records_ += f.records;
      bytes_ += f.bytes;
      ++requests_;
      inflight_.pop_front();
      ++next_acked_;
    }
  }

  // Builds the next ingest request into request_ (not being written: writing_ is false).
  void FillRequestLocked(Clock::time_point due) {
    const int64_t n = config_.batch_size;
    const bool sample = config_.probe && due - last_sample_ >= kSampleEvery;
    if (sample) last_sample_ = due;
    Inflight f{due, sample ? seq_ + n - 1 : -1, n, 0};
    request_.Clear();
    const bool json = config_.format == Format::kJson;
    if (n == 1) {
      zb::IngestRecordRequest* r = request_.mutable_ingest_record();
      r->set_offset_id(next_offset_);
      std::string_view record = maker_.Make(seq_);
      f.bytes = static_cast<int64_t>(record.size());
      if (json) {
        r->set_json_record(std::string(record));
      } else {
        r->set_proto_encoded_record(std::string(record));
      }
    } else {
      zb::IngestRecordBatchRequest* b = request_.mutable_ingest_record_batch();
      b->set_offset_id(next_offset_);
      for (int64_t i = 0; i < n; ++i) {
        std::string_view record = maker_.Make(seq_ + i);
        f.bytes += static_cast<int64_t>(record.size());
        if (json) {
          b->mutable_json_batch()->add_records(std::string(record));
        } else {
          b->mutable_proto_encoded_batch()->add_records(std::string(record));
        }
      }
    }
    seq_ += n;
    ++next_offset_;
    inflight_.push_back(f);
  }

  Op DecideLocked() {
    if (hold_released_) return Op::kNone;
    if (broken_) {
      if (ops_starting_ > 0) return Op::kNone;
      hold_released_ = true;
      return Op::kReleaseHold;
    }
    if (!opened_ || writing_) return Op::kNone;
    if (!pending_.empty()) {
      FillRequestLocked(pending_.front());
      pending_.pop_front();
      writing_ = true;
      ++ops_starting_;
      return Op::kWrite;
    }
    if (closing_) {
      hold_released_ = true;  // WritesDone is the last operation started outside a reaction
      ++ops_starting_;
      return Op::kWritesDone;
    }
    return Op::kNone;
  }

  // Starts whatever is due now (never with mu_ held).
  void Pump() {
    for (;;) {
      Op op;
      {
        std::lock_guard<std::mutex> lock(mu_);
        op = DecideLocked();
      }
      switch (op) {
        case Op::kNone:
          return;
        case Op::kReleaseHold:
          RemoveHold();
          return;
        case Op::kWrite: {
          std::lock_guard<std::mutex> edge(write_mu_);
          StartWrite(&request_);
          break;
        }
        case Op::kWritesDone: {
          {
            std::lock_guard<std::mutex> edge(write_mu_);
            StartWritesDone();
          }
          {
            std::lock_guard<std::mutex> lock(mu_);
            --ops_starting_;
          }
          // After the hold is gone gRPC may end the call at any time: no more operations.
          RemoveHold();
          return;
        }
      }
      std::lock_guard<std::mutex> lock(mu_);
      --ops_starting_;
    }
  }

  const StreamConfig config_;
  Fleet* const fleet_;
  HistogramShard* const shard_;
  grpc::ClientContext context_;
  zb::EphemeralStreamResponse response_;  // written by gRPC between StartRead and OnReadDone
  std::mutex write_mu_;

  mutable std::mutex mu_;  // guards everything below
  zb::EphemeralStreamRequest request_;  // the outstanding write's message while writing_
  RecordMaker maker_;
  std::deque<Clock::time_point> pending_;  // due times of requests not written yet
  std::deque<Inflight> inflight_;          // written, not acknowledged; front = next_acked_
  std::vector<TttSample> samples_;
  Clock::time_point last_sample_{};
  int64_t seq_ = 0;
  int64_t next_offset_ = 0;
  int64_t next_acked_ = 0;
  int64_t records_ = 0, bytes_ = 0, requests_ = 0;
  int ops_starting_ = 0;
  bool opened_ = false;
  bool writing_ = false;
  bool broken_ = false;  // the call is ending: no new operations
  bool closing_ = false;
  bool hold_released_ = false;
  bool ended_ = false;  // OnDone ran
  grpc::Status final_;
  Clock::time_point ended_at_{};
};

absl::StatusOr<std::unique_ptr<Fleet>> Fleet::Open(const std::string& endpoint,
                                                   const std::string& tls_roots_pem, int channels,
                                                   std::vector<StreamConfig> configs) {
  const bool tls = endpoint.starts_with("https://");
  std::string target = endpoint.substr(endpoint.find("://") == std::string::npos
                                           ? 0
                                           : endpoint.find("://") + 3);
  while (!target.empty() && target.back() == '/') target.pop_back();
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = tls_roots_pem;
    credentials = grpc::SslCredentials(ssl);
  }
  std::unique_ptr<Fleet> fleet(new Fleet());
  for (int c = 0; c < channels; ++c) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
    args.SetUserAgentPrefix("nobus-bench-async");
    fleet->channels_->stubs.push_back(
        zb::Zerobus::NewStub(grpc::CreateCustomChannel(target, credentials, args)));
  }
  for (size_t i = 0; i < configs.size(); ++i) {
    fleet->periods_.push_back(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(static_cast<double>(configs[i].batch_size) / configs[i].rate)));
    fleet->streams_.push_back(std::make_unique<FleetStream>(
        std::move(configs[i]), fleet.get(), fleet->shards_[i % kHistogramShards].get()));
  }
  const auto& stubs = fleet->channels_->stubs;
  for (size_t i = 0; i < fleet->streams_.size(); ++i)
    fleet->streams_[i]->Start(stubs[i % stubs.size()].get());
  // Until every stream opened, one ended (refused), or the time is up.
  {
    std::unique_lock<std::mutex> lock(fleet->mu_);
    fleet->cv_.wait_for(lock, kOpenTimeout, [&] {
      return fleet->opened_ == fleet->streams_.size() || fleet->ended_ > 0;
    });
  }
  for (const auto& s : fleet->streams_) {
    if (s->opened()) continue;
    std::optional<grpc::Status> st = s->ended();
    if (!st)
      return absl::DeadlineExceededError(
          Cat("not every stream opened within ", kOpenTimeout.count(), " s"));
    return absl::UnavailableError(
        Cat(st->error_message(), " (gRPC status ", static_cast<int>(st->error_code()), ")"));
  }
  return fleet;
}

Fleet::Fleet() : channels_(std::make_unique<FleetChannels>()) {
  for (size_t i = 0; i < kHistogramShards; ++i) shards_.push_back(std::make_unique<HistogramShard>());
}

Fleet::~Fleet() {
  for (const auto& s : streams_) s->Cancel();
  WaitEnded(Clock::now() + std::chrono::seconds(30));
}

void Fleet::StreamOpened() {
  std::lock_guard<std::mutex> lock(mu_);
  ++opened_;
  cv_.notify_all();
}

void Fleet::StreamEnded() {
  std::lock_guard<std::mutex> lock(mu_);
  ++ended_;
  cv_.notify_all();  // under the lock: the waiter may destroy this fleet once it has seen it
}

bool Fleet::WaitEnded(Clock::time_point until) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_until(lock, until, [&] { return ended_ == streams_.size(); });
}

void Fleet::Run(Clock::time_point start, Clock::time_point deadline,
                Clock::duration close_timeout) {
  // (due time, stream) of each stream's next request, earliest first. The streams' first
  // requests are spread evenly over one period.
  using Entry = std::pair<Clock::time_point, size_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> due;
  for (size_t i = 0; i < streams_.size(); ++i)
    due.emplace(start + periods_[i] * static_cast<int64_t>(i) / static_cast<int64_t>(streams_.size()),
                i);
  // Every request due before the deadline is sent, even when a sleep overshoots it.
  while (!due.empty() && due.top().first < deadline) {
    // Sleep only when more than kPacingSlack ahead: bursts of up to 1 ms of requests instead of
    // one wake-up per request.
    if (due.top().first > Clock::now() + kPacingSlack) {
      std::this_thread::sleep_until(due.top().first);
      continue;
    }
    auto [at, i] = due.top();
    due.pop();
    streams_[i]->Due(at);
    due.emplace(at + periods_[i], i);
  }
  std::this_thread::sleep_until(deadline);  // the run lasts its duration even when the last
                                            // request came earlier
  for (const auto& s : streams_) s->Close();
  if (!WaitEnded(Clock::now() + close_timeout)) {
    for (const auto& s : streams_) s->Cancel();
    WaitEnded(Clock::now() + std::chrono::seconds(30));
  }
}

LoadTotals Fleet::Totals() const {
  LoadTotals totals;
  for (const auto& s : streams_) s->AddTo(totals);
  for (const auto& shard : shards_) totals.ack_us.Merge(shard->ack_us);
  return totals;
}

}  // namespace nobus::cli::bench
