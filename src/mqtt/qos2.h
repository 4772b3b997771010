// MQTT QoS 2, exactly once (doc/mqtt.md "QoS 2"): one client identifier's state, shared by its
// connections, and the durable form it takes in the tables.
//
// A QoS 2 PUBLISH with packet identifier P that is not pending is written as one WAL record whose
// stream mark is the client's slot id in that table (`<table>/mqtt-session/<client digest>/<slot>`,
// table/streams.h) with offset  n << 17 | P << 1 | 0  (n: the client's message counter, so a slot's
// offset only grows); PUBREC follows once it is durable. The PUBREL of P is a mark-only WAL record
// on the same slot with the released bit set (offset | 1); PUBCOMP follows once it is durable.
// Until then any PUBLISH of P (a resend, DUP or not, on this connection or a later one, before or
// after a crash) is answered PUBREC and not written again. A resend while the first write is in
// flight waits for it. After a restart the state is rebuilt from the slots' durable offsets in
// every table (IngestService::FindMarks): a slot whose last offset is not released is pending,
// unless it is older than the retention (then it only raises the counter).
// The slots' marks ride the Delta commits as txns and expire with the table's
// nobus.streams.retention, which bounds how long a pending message is remembered.
//
// Thread-safety: ClientQos2's fields are guarded by its mutex; the completion of a write runs on
// the WAL's thread and takes it too.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "table/catalog.h"

namespace nobus::mqtt {

struct ClientQos2 {
  // A message of packet identifier P that is written (or being written) and not yet released.
  struct Pending {
    enum class State { kWriting, kWritten, kReleasing };
    table::TableName table;
    uint32_t slot = 0;
    uint64_t n = 0;
    State state = State::kWriting;
    // Answers waiting for the write or the release in flight to end (its status).
    std::vector<std::function<void(const absl::Status&)>> waiters;
  };

  explicit ClientQos2(std::string client_id);

  const std::string client_id;
  const std::string digest;  // 16 hex digits of SHA-256(client id): the ids' client part
  std::mutex mu;
  std::condition_variable settled;       // a write or release ended (Settle)
  bool loaded = false;                   // guarded by mu: rebuilt from the tables once
  std::map<uint16_t, Pending> pending;   // guarded by mu; by packet identifier
  std::map<std::string, std::set<uint32_t>> slots_in_use;  // guarded by mu; by table
  uint64_t next_n = 1;                   // guarded by mu
  int connections = 0;                   // guarded by the endpoint's mu

  // The slot id of `slot` in `table` ("<table>/mqtt-session/<digest>/<slot>").
  std::string SlotId(const std::string& table, uint32_t slot) const;
  // The lowest slot of `table` no pending message holds (marks it used). Caller holds mu.
  uint32_t TakeSlot(const std::string& table);
  void FreeSlot(const std::string& table, uint32_t slot);  // caller holds mu
};

// A slot's offset: the message counter, the packet identifier and whether it was released.
inline int64_t Qos2Mark(uint64_t n, uint16_t packet_id, bool released) {
  return static_cast<int64_t>((n << 17) | (uint64_t{packet_id} << 1) | (released ? 1 : 0));
}
struct Qos2MarkParts {
  uint64_t n;
  uint16_t packet_id;
  bool released;
};
inline Qos2MarkParts ParseQos2Mark(int64_t mark) {
  const auto m = static_cast<uint64_t>(mark);
  return {m >> 17, static_cast<uint16_t>((m >> 1) & 0xffff), (m & 1) != 0};
}

}  // namespace nobus::mqtt
