// Broker::Impl::Produce (spec 2.5 "Produce", 2.6, 2.7, 2.8): each partition's RecordBatch is
// checked, every record value decoded into the table's row blob, the producer's sequence checked,
// and the batch appended as one WAL record; the response goes out once every partition is
// durable (acks 1 / -1) or at once without a body (acks 0).
#include <memory>
#include <mutex>
#include <vector>

#include "common/logging.h"
#include "delta/config.h"
#include "kafka/broker_impl.h"
#include "kafka/record_batch.h"
#include "kafka/record_columns.h"
#include "schema/row_codec.h"
#include "table/catalog.h"
#include "table/streams.h"

namespace nobus::kafka {
namespace {

constexpr int kMaxRecordErrors = 10;

struct PartitionResult {
  int32_t index = 0;
  int16_t error = kNone;
  int64_t base_offset = -1;
  std::vector<std::pair<int32_t, std::string>> record_errors;
  std::string message;
};

struct TopicResult {
  std::string name;
  std::vector<PartitionResult> partitions;
};

// One Produce request in flight: answered when its last partition is done.
struct ProduceCall {
  Request req;
  Reply reply;
  int16_t acks = -1;
  std::mutex mu;
  std::vector<TopicResult> topics;
  int pending = 1;  // partitions not done, plus one for the parsing pass
  bool failed = false;  // acks=0: close the connection

  void Done(size_t topic, size_t partition, PartitionResult result);
  void Finish();  // the parsing pass is over
  void Respond();
};

std::string ResponseBody(const Request& req, const std::vector<TopicResult>& topics) {
  const int16_t v = req.header.api_version;
  const bool flexible = IsFlexible(kProduce, v);
  Writer w;
  WriteResponseHeader(w, req.header.correlation_id, flexible);
  w.ArrayLength(static_cast<int32_t>(topics.size()), flexible);
  for (const TopicResult& t : topics) {
    w.String(t.name, flexible);
    w.ArrayLength(static_cast<int32_t>(t.partitions.size()), flexible);
    for (const PartitionResult& p : t.partitions) {
      w.Int32(p.index), w.Int16(p.error), w.Int64(p.base_offset);
      if (v >= 2) w.Int64(-1);  // log_append_time_ms: CreateTime
      if (v >= 5) w.Int64(0);   // log_start_offset
      if (v >= 8) {
        w.ArrayLength(static_cast<int32_t>(p.record_errors.size()), flexible);
        for (const auto& [index, message] : p.record_errors) {
          w.Int32(index), w.NullableString(message, flexible);
          if (flexible) w.EmptyTags();
        }
        w.NullableString(
            p.message.empty() ? std::nullopt : std::optional<std::string_view>(p.message), flexible);
      }
      if (flexible) w.EmptyTags();
    }
    if (flexible) w.EmptyTags();
  }
  if (v >= 1) w.Int32(0);  // throttle_time_ms
  if (flexible) w.EmptyTags();
  return w.Take();
}

void ProduceCall::Done(size_t topic, size_t partition, PartitionResult result) {
  bool last;
  {
    std::lock_guard<std::mutex> l(mu);
    if (result.error != kNone) failed = true;
    result.index = topics[topic].partitions[partition].index;
    topics[topic].partitions[partition] = std::move(result);
    last = --pending == 0;
  }
  if (last) Respond();
}

void ProduceCall::Finish() {
  bool last;
  {
    std::lock_guard<std::mutex> l(mu);
    last = --pending == 0;
  }
  if (last) Respond();
}

void ProduceCall::Respond() {
  if (acks == 0) return reply(Answer{.response = std::nullopt, .close = failed});
  reply(Answer{ResponseBody(req, topics)});
}

// The Kafka code for an ingest error that is not the record's fault.
int16_t IngestErrorCode(const absl::Status& s) {
  if (absl::IsNotFound(s)) return kUnknownTopicOrPartition;
  if (absl::IsInvalidArgument(s)) return kMessageTooLarge;  // larger than the WAL takes
  return kKafkaStorageError;  // retriable: the WAL refused or failed, or the node is not serving
}

// The records' values as one row blob of `table`, with the opt-in record columns
// (record_columns.h); record errors name the record and column.
bool DecodeValues(const table::LiveTable& table, const RecordColumns& columns, int32_t partition,
                  const RecordBatch& batch, std::string* blob, PartitionResult* result) {
  schema::RowBlobWriter writer(blob);
  std::string with_columns;
  for (size_t i = 0; i < batch.records.size(); ++i) {
    const std::optional<std::string_view>& value = batch.records[i].value;
    absl::Status s =
        !value ? absl::InvalidArgumentError("the record has no value (a tombstone); nobus needs "
                                            "one JSON object per record")
        : !columns.any() ? table.json_decoder().Decode(*value, &writer)
                         : WithRecordColumns(columns, batch.records[i], partition, &with_columns);
    if (s.ok() && columns.any()) s = table.json_decoder().Decode(with_columns, &writer);
    if (s.ok()) continue;
    if (result->record_errors.size() < kMaxRecordErrors)
      result->record_errors.emplace_back(static_cast<int32_t>(i), std::string(s.message()));
    if (result->message.empty())
      result->message = Cat("record ", i, " of the batch: ", s.message(), " (table '",
                            table.info().name.ToString(), "'; nothing of the batch was written)");
  }
  if (result->record_errors.empty()) return true;
  result->error = kInvalidRecord;
  return false;
}

struct Work {
  size_t topic, partition;
  std::string_view records;
  bool has_records;
};

// Counts and logs a partition's failed produce and answers it. `counters`: null until the table
// is known to exist.
void Reject(Broker::Impl& impl, const TableCounters* counters, ProduceCall& call, const Work& w,
            int16_t error, std::string message) {
  if (impl.batches_rejected != nullptr) impl.batches_rejected->Add();
  if (counters != nullptr) counters->rejected->Add();
  NOBUS_LOG_WARN_LIMITED("kafka: produce to '{}' from {} failed: error {}: {}",
                         call.topics[w.topic].name, call.req.peer, error, message);
  call.Done(w.topic, w.partition, PartitionResult{.error = error, .message = std::move(message)});
}

// Checks, decodes and appends one partition's batch; ends with call->Done for it.
void ProducePartition(Broker::Impl& impl, const std::shared_ptr<ProduceCall>& call,
                      const Work& w) {
  const std::string& topic = call->topics[w.topic].name;
  const int16_t v = call->req.header.api_version;
  auto done = [call, w](PartitionResult result) { call->Done(w.topic, w.partition, std::move(result)); };
  PartitionResult result;
  const TableCounters* counters = nullptr;  // once the table is known to exist
  auto fail = [&](int16_t error, std::string message) {
    Reject(impl, counters, *call, w, error, std::move(message));
  };
  if (v < 3)
    return fail(kUnsupportedVersion, "Produce v0-2 (message sets before RecordBatch v2) are not "
                                     "served: use a client that sends Produce v3 or newer");
  if (call->acks != 0 && call->acks != 1 && call->acks != -1)
    return fail(kInvalidRequiredAcks, Cat("acks ", call->acks, " must be -1, 0 or 1"));
  absl::StatusOr<table::TableName> name = table::ParseTableName(topic);
  if (!name.ok())
    return fail(kInvalidTopicException, Cat("topic '", topic, "' is not a table name catalog.schema.table"));
  if (absl::Status allowed = impl.Authorize(*call->req.session, *name); !allowed.ok())
    return fail(kTopicAuthorizationFailed, std::string(allowed.message()));
  absl::StatusOr<table::IngestService*> ingest = impl.options.serving();
  if (!ingest.ok()) return fail(kNotLeaderOrFollower, std::string(ingest.status().message()));
  absl::StatusOr<std::shared_ptr<const table::LiveTable>> live = (*ingest)->OpenTable(*name);
  if (!live.ok())
    return fail(IngestErrorCode(live.status()), std::string(live.status().message()));
  counters = impl.CountersFor(*call->req.session, (*live)->info().name.ToString());
  const int32_t index = call->topics[w.topic].partitions[w.partition].index;
  if (const int32_t n = (*live)->kafka_partitions(); index < 0 || index >= n)
    return fail(kUnknownTopicOrPartition,
                Cat("topic '", topic, "' has ", n, n == 1 ? " partition, 0" : " partitions, 0-",
                    n == 1 ? "" : std::to_string(n - 1), " (table property ",
                    delta::kKafkaPartitionsKey, "); there is no partition ", index));
  if (!w.has_records || w.records.empty()) return fail(kInvalidRecord, "the partition carries no records");
  if (static_cast<int64_t>(w.records.size()) > impl.options.max_batch_bytes)
    return fail(kMessageTooLarge, Cat("a batch of ", w.records.size(), " bytes is over the limit of ",
                                      impl.options.max_batch_bytes, " (max_message_bytes)"));
  absl::StatusOr<RecordBatch> batch =
      DecodeRecordBatch(w.records, static_cast<size_t>(8 * impl.options.max_batch_bytes));
  if (!batch.ok()) return fail(BatchErrorCode(batch.status()), std::string(batch.status().message()));
  if (batch->header.compression() == Compression::kZstd && v < 7)
    return fail(kUnsupportedCompressionType, "zstd needs Produce v7 or newer");
  if (batch->header.is_transactional() || batch->header.is_control())
    return fail(kInvalidRecord, "transactional and control batches are not accepted (nobus offers "
                                "idempotent producers, not transactions)");
  absl::StatusOr<RecordColumns> columns = FindRecordColumns((*live)->info().schema);
  if (!columns.ok()) return fail(kInvalidRecord, std::string(columns.status().message()));
  std::string blob;
  if (!DecodeValues(**live, *columns, index, *batch, &blob, &result)) {
    if (impl.batches_rejected != nullptr) impl.batches_rejected->Add();
    if (counters != nullptr) counters->rejected->Add();
    NOBUS_LOG_WARN_LIMITED("kafka: produce to '{}' from {} rejected: {}", topic, call->req.peer,
                           result.message);
    return done(std::move(result));
  }
  const int64_t rows = static_cast<int64_t>(batch->records.size());
  if (rows == 0) return fail(kInvalidRecord, "the batch holds no records");
  const BatchHeader& h = batch->header;
  BatchSeq seq{h.producer_id, h.producer_epoch, h.base_sequence, h.LastSequence()};
  const bool idempotent = h.has_producer_id();
  const std::string producer_key = Cat(topic, "-", index);  // sequences are per partition
  table::StreamMark mark;
  if (idempotent) {
    mark = table::StreamMark{table::KafkaProducerId(name->ToString(), seq.producer_id, index),
                             Mark(seq.epoch, seq.last_seq)};
    auto durable = [&] { return (*ingest)->DurableMark(**live, mark.stream_id); };
    bool append = impl.producers.Admit(producer_key, seq, durable, [done, &impl, counters](BatchOutcome o) {
      // A duplicate: answered with its original offset, or DUPLICATE_SEQUENCE_NUMBER when only
      // the durable mark knows it (after a restart); either way not written again.
      const bool duplicate = o.error == kNone || o.error == kDuplicateSequenceNumber;
      if (duplicate && impl.duplicate_batches != nullptr) impl.duplicate_batches->Add();
      if (counters != nullptr) (duplicate ? counters->duplicate : counters->rejected)->Add();
      done(PartitionResult{.error = o.error, .base_offset = o.base_offset, .message = o.message});
    });
    if (!append) return;
  }
  Broker::Impl* self = &impl;
  // Refused now or, when it waited for room in the node's buffers (the event-loop thread does
  // not wait), later from the admission thread.
  auto refused = [self, call, w, counters, idempotent, producer_key, seq](absl::Status st) {
    if (st.ok()) return;
    if (idempotent) self->producers.Finish(producer_key, seq, st);
    Reject(*self, counters, *call, w, IngestErrorCode(st), std::string(st.message()));
  };
  absl::StatusOr<table::Admission> appended = (*ingest)->AppendOrQueue(
      **live, std::move(blob), rows,
      [self, done, seq, idempotent, producer_key, counters, rows](absl::StatusOr<wal::Lsn> lsn) {
        absl::StatusOr<int64_t> offset =
            lsn.ok() ? absl::StatusOr<int64_t>(Broker::OffsetOf(*lsn)) : lsn.status();
        if (idempotent) self->producers.Finish(producer_key, seq, offset);
        if (counters != nullptr) {
          if (offset.ok()) counters->ingest_records->Add(rows), counters->records->Add(rows);
          (offset.ok() ? counters->written : counters->rejected)->Add();
        }
        if (offset.ok()) return done(PartitionResult{.base_offset = *offset});
        done(PartitionResult{.error = kKafkaStorageError,
                             .message = std::string(offset.status().message())});
      },
      refused, std::move(mark));
  if (!appended.ok()) refused(appended.status());
}

}  // namespace

void Broker::Impl::Produce(Request request, Reply reply) {
  auto call = std::make_shared<ProduceCall>();
  call->reply = std::move(reply);
  call->req = std::move(request);  // the records below are views into its frame
  const Request& req = call->req;
  const int16_t v = req.header.api_version;
  const bool flexible = IsFlexible(kProduce, v);
  Reader r = BodyReader(req);
  absl::Status parsed = absl::OkStatus();
  if (v >= 3) parsed = r.NullableString(flexible).status();  // transactional_id
  absl::StatusOr<int16_t> acks = r.Int16();
  absl::StatusOr<int32_t> timeout_ms = r.Int32();
  if (!acks.ok() || !timeout_ms.ok()) parsed = absl::InvalidArgumentError("truncated header");
  call->acks = acks.value_or(-1);
  if (produce_requests != nullptr) produce_requests->Add();
  // Parse everything first: the response lists every topic and partition in request order.
  std::vector<Work> work;
  absl::StatusOr<int32_t> topics = parsed.ok() ? r.ArrayLength(flexible) : parsed;
  for (int32_t t = 0; topics.ok() && t < *topics && parsed.ok(); ++t) {
    absl::StatusOr<std::string_view> name = r.String(flexible);
    absl::StatusOr<int32_t> partitions = name.ok() ? r.ArrayLength(flexible) : name.status();
    if (!partitions.ok()) {
      parsed = partitions.status();
      break;
    }
    call->topics.push_back(TopicResult{std::string(*name), {}});
    for (int32_t p = 0; p < *partitions; ++p) {
      absl::StatusOr<int32_t> index = r.Int32();
      absl::StatusOr<std::optional<std::string_view>> records =
          index.ok() ? r.NullableBytes(flexible) : index.status();
      if (!records.ok()) {
        parsed = records.status();
        break;
      }
      parsed = r.SkipTaggedFields(flexible);
      call->topics.back().partitions.push_back(PartitionResult{.index = *index});
      work.push_back(Work{call->topics.size() - 1, call->topics.back().partitions.size() - 1,
                          records->value_or(""), records->has_value()});
    }
    if (parsed.ok()) parsed = r.SkipTaggedFields(flexible);
  }
  if (!parsed.ok() || !topics.ok()) {
    NOBUS_LOG_WARN_LIMITED("kafka: closing connection from {}: malformed Produce v{}: {}",
                           req.peer, v, std::string((parsed.ok() ? topics.status() : parsed).message()));
    return call->reply(Answer{.close = true});
  }
  call->pending += static_cast<int>(work.size());
  for (const Work& w : work) ProducePartition(*this, call, w);
  call->Finish();
}

}  // namespace nobus::kafka
