// QoS 2 (qos2.h): the client state, its rebuilding from the tables at CONNECT, PUBLISH and PUBREL.
#include "mqtt/qos2.h"

#include <openssl/evp.h>

#include <chrono>
#include <future>

#include "common/logging.h"
#include "mqtt/endpoint_impl.h"
#include "table/streams.h"

namespace nobus::mqtt {
namespace {

std::string Digest(std::string_view client_id) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(client_id.data(), client_id.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i) out += {kHex[md[i] >> 4], kHex[md[i] & 15]};
  return out;
}

using State = ClientQos2::Pending::State;

std::string AckBytes(PacketType type, uint16_t packet_id, Version version, ReasonCode reason,
                     std::string_view why, std::optional<uint32_t> max_packet) {
  Ack ack{.type = type, .packet_id = packet_id, .reason = reason};
  if (reason != ReasonCode::kSuccess && !why.empty()) ack.properties.reason_string = why;
  return EncodeAck(ack, version, max_packet);
}

// Rebuilds `c` from its slots' durable offsets in every table. Caller holds c.mu.
void Load(ClientQos2& c, table::IngestService& ingest) {
  for (const table::IngestService::FoundMark& m : ingest.FindMarks(
           [&](const std::string& t) { return table::MqttSessionPrefix(t, c.digest); })) {
    const Qos2MarkParts parts = ParseQos2Mark(m.offset);
    const uint32_t slot =
        static_cast<uint32_t>(std::stoul(m.id.substr(m.id.rfind('/') + 1)));
    // An expired slot is no longer pending, but its mark still counts for the counter: a slot's
    // offset may only grow while the node remembers it.
    c.next_n = std::max(c.next_n, parts.n + 1);
    if (parts.released || m.expired) continue;
    auto it = c.pending.find(parts.packet_id);
    if (it != c.pending.end() && it->second.n > parts.n) continue;
    if (it != c.pending.end()) c.FreeSlot(it->second.table.ToString(), it->second.slot);
    c.pending[parts.packet_id] = ClientQos2::Pending{m.table, slot, parts.n, State::kWritten, {}};
    c.slots_in_use[m.table.ToString()].insert(slot);
  }
  c.loaded = true;
}

// The answer a QoS 2 step gets once its WAL record is durable (`type`: PUBREC or PUBCOMP); when
// the write failed, the connection ends and the client resends.
std::function<void(const absl::Status&)> AnswerWhenDurable(net::Reply reply, PacketType type,
                                                           uint16_t id, Version version,
                                                           std::optional<uint32_t> max_packet) {
  return [reply = std::move(reply), type, id, version, max_packet](const absl::Status& st) {
    if (st.ok())
      return reply(net::Answer{AckBytes(type, id, version, ReasonCode::kSuccess, "", max_packet)});
    reply(DisconnectAnswer(version, max_packet, ReasonCode::kServerUnavailable,
                           Cat("the write-ahead log failed: ", MessageOf(st), "; reconnect and "
                               "resend the ", PacketTypeName(type == PacketType::kPubrec
                                                                 ? PacketType::kPublish
                                                                 : PacketType::kPubrel))));
  };
}

// The write (releasing = false) or release of packet identifier `id` ended with `st`: the
// message becomes written (or is dropped when its write failed), or released (or written again
// when the release failed, for the client to resend the PUBREL); its waiters get `st`.
void Settle(ClientQos2& c, uint16_t id, bool releasing, const absl::Status& st) {
  std::vector<std::function<void(const absl::Status&)>> waiters;
  {
    std::lock_guard<std::mutex> l(c.mu);
    auto it = c.pending.find(id);
    if (it == c.pending.end()) return;
    waiters = std::move(it->second.waiters);
    it->second.waiters.clear();
    if (st.ok() != releasing) {
      it->second.state = State::kWritten;
    } else {
      c.FreeSlot(it->second.table.ToString(), it->second.slot);
      c.pending.erase(it);
    }
  }
  c.settled.notify_all();
  for (auto& w : waiters) w(st);
}

}  // namespace

ClientQos2::ClientQos2(std::string id) : client_id(std::move(id)), digest(Digest(client_id)) {}

std::string ClientQos2::SlotId(const std::string& table, uint32_t slot) const {
  return Cat(table::MqttSessionPrefix(table, digest), slot);
}

uint32_t ClientQos2::TakeSlot(const std::string& table) {
  std::set<uint32_t>& used = slots_in_use[table];
  uint32_t slot = 0;
  while (used.count(slot) != 0) ++slot;
  used.insert(slot);
  return slot;
}

void ClientQos2::FreeSlot(const std::string& table, uint32_t slot) {
  auto it = slots_in_use.find(table);
  if (it == slots_in_use.end()) return;
  it->second.erase(slot);
  if (it->second.empty()) slots_in_use.erase(it);
}

absl::StatusOr<bool> Endpoint::Impl::AttachQos2(Session& s, bool clean_start) {
  NOBUS_ASSIGN_OR_RETURN(table::IngestService * ingest, options.serving());
  {
    std::lock_guard<std::mutex> l(mu);
    std::shared_ptr<ClientQos2>& c = qos2_clients[s.client_id];
    if (c == nullptr) c = std::make_shared<ClientQos2>(s.client_id);
    ++c->connections;
    s.qos2 = c;
  }
  ClientQos2& c = *s.qos2;
  std::unique_lock<std::mutex> l(c.mu);
  if (!c.loaded) Load(c, *ingest);
  if (!clean_start) return !c.pending.empty();
  // Clean Start: the client's pending messages are forgotten, durably (a later PUBLISH with one
  // of their packet identifiers is new). Writes still in flight finish first.
  const bool quiet = c.settled.wait_for(l, std::chrono::seconds(10), [&c] {
    for (const auto& [id, p] : c.pending)
      if (p.state != State::kWritten) return false;
    return true;
  });
  if (!quiet)
    return absl::UnavailableError("the client's earlier QoS 2 messages are still being written");
  std::vector<std::future<absl::Status>> releases;
  for (const auto& [id, p] : c.pending) {
    absl::StatusOr<std::shared_ptr<const table::LiveTable>> live = ingest->OpenTable(p.table);
    if (!live.ok()) continue;  // dropped: nothing of it can come back
    auto done = std::make_shared<std::promise<absl::Status>>();
    releases.push_back(done->get_future());
    absl::Status st = ingest->AppendMark(
        **live, table::StreamMark{c.SlotId(p.table.ToString(), p.slot), Qos2Mark(p.n, id, true)},
        [done](absl::Status st) { done->set_value(st); });
    if (!st.ok()) return st;
  }
  for (auto& f : releases) NOBUS_RETURN_IF_ERROR(f.get());
  c.pending.clear();
  c.slots_in_use.clear();
  return false;
}

void Endpoint::Impl::DetachQos2(const Session& s) {
  if (s.qos2 == nullptr) return;
  std::lock_guard<std::mutex> l(mu);
  auto it = qos2_clients.find(s.client_id);
  if (it == qos2_clients.end() || it->second != s.qos2 || --it->second->connections > 0) return;
  std::lock_guard<std::mutex> cl(it->second->mu);
  if (it->second->pending.empty()) qos2_clients.erase(it);  // nothing to remember
}

void Endpoint::Impl::PublishQos2(Session& s, const mqtt::Publish& p,
                                 table::IngestService& ingest, std::string blob, net::Reply reply) {
  ClientQos2& c = *s.qos2;
  const Session::Target& target = *s.target;
  const PublishCounters counters = target.counters[2];
  const Version version = s.version;
  const std::optional<uint32_t> max_packet = s.client_max_packet;
  const uint16_t id = p.packet_id;
  auto pubrec = AnswerWhenDurable(reply, PacketType::kPubrec, id, version, max_packet);
  std::string slot_id;
  uint64_t n = 0;
  {
    std::lock_guard<std::mutex> l(c.mu);
    auto it = c.pending.find(id);
    if (it != c.pending.end()) {  // a resend: never written twice
      if (counters.duplicate != nullptr) counters.duplicate->Add();
      if (it->second.state == State::kWriting) return it->second.waiters.push_back(pubrec);
      return pubrec(absl::OkStatus());
    }
    const std::string table = target.name.ToString();
    const uint32_t slot = c.TakeSlot(table);
    n = c.next_n++;
    c.pending[id] = ClientQos2::Pending{target.name, slot, n, State::kWriting, {}};
    slot_id = c.SlotId(table, slot);
  }
  std::shared_ptr<ClientQos2> client = s.qos2;
  auto finish = [client, id, counters](const absl::Status& st) {
    if (counters.written != nullptr)
      st.ok() ? (counters.written->Add(), counters.ingest_records->Add()) : counters.rejected->Add();
    Settle(*client, id, /*releasing=*/false, st);
  };
  absl::Status appended = ingest.Append(
      *target.table, std::move(blob), 1,
      [finish, pubrec](absl::Status st) {
        finish(st);
        pubrec(st);
      },
      table::StreamMark{slot_id, Qos2Mark(n, id, false)});
  if (appended.ok()) return;
  finish(appended);
  reply(s.Disconnect(absl::IsResourceExhausted(appended) ? ReasonCode::kServerBusy
                                                        : ReasonCode::kServerUnavailable,
                     MessageOf(appended)));
}

void Endpoint::Impl::Pubrel(Session& s, const Ack& rel, net::Reply reply) {
  const Version version = s.version;
  const std::optional<uint32_t> max_packet = s.client_max_packet;
  const uint16_t id = rel.packet_id;
  auto pubcomp = AnswerWhenDurable(reply, PacketType::kPubcomp, id, version, max_packet);
  if (s.qos2 == nullptr) return pubcomp(absl::OkStatus());
  ClientQos2& c = *s.qos2;
  table::TableName table_name;
  std::string slot_id;
  int64_t mark = 0;
  {
    std::lock_guard<std::mutex> l(c.mu);
    auto it = c.pending.find(id);
    // Unknown: released before (its PUBCOMP was lost), or never written. Either way complete.
    if (it == c.pending.end()) return pubcomp(absl::OkStatus());
    ClientQos2::Pending& p = it->second;
    if (p.state == State::kReleasing) return p.waiters.push_back(pubcomp);  // a resent PUBREL
    if (p.state == State::kWriting)
      return reply(s.Disconnect(ReasonCode::kProtocolError,
                                Cat("PUBREL for packet identifier ", id, " before its PUBREC")));
    p.state = State::kReleasing;
    table_name = p.table;
    slot_id = c.SlotId(p.table.ToString(), p.slot);
    mark = Qos2Mark(p.n, id, true);
  }
  std::shared_ptr<ClientQos2> client = s.qos2;
  auto finish = [client, id](const absl::Status& st) { Settle(*client, id, true, st); };
  absl::StatusOr<table::IngestService*> ingest = options.serving();
  absl::StatusOr<std::shared_ptr<const table::LiveTable>> live =
      ingest.ok() ? (*ingest)->OpenTable(table_name) : ingest.status();
  if (!live.ok() && absl::IsNotFound(live.status())) {  // dropped: nothing of it can come back
    finish(absl::OkStatus());
    return pubcomp(absl::OkStatus());
  }
  absl::Status appended =
      live.ok() ? (*ingest)->AppendMark(**live, table::StreamMark{slot_id, mark},
                                        [finish, pubcomp](absl::Status st) {
                                          finish(st);
                                          pubcomp(st);
                                        })
                : live.status();
  if (appended.ok()) return;
  finish(appended);
  reply(s.Disconnect(ReasonCode::kServerUnavailable, MessageOf(appended)));
}

}  // namespace nobus::mqtt
