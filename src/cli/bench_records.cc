#include "cli/bench_records.h"

#include <cstring>
#include <random>

#include "google/protobuf/descriptor.pb.h"

namespace nobus::cli::bench {
namespace {

constexpr size_t kNumberWidth = 20;  // int64 digits, right-aligned, space-padded (valid JSON)
constexpr size_t kTextBytes = 1 << 20;

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void WriteNumber(char* field, int64_t value) {
  char digits[24];
  const int n = std::snprintf(digits, sizeof(digits), "%lld", static_cast<long long>(value));
  std::memset(field, ' ', kNumberWidth - static_cast<size_t>(n));
  std::memcpy(field + kNumberWidth - static_cast<size_t>(n), digits, static_cast<size_t>(n));
}

void AddField(google::protobuf::DescriptorProto& msg, const char* name, int number,
              google::protobuf::FieldDescriptorProto::Type type, bool required) {
  auto* f = msg.add_field();
  f->set_name(name);
  f->set_number(number);
  f->set_type(type);
  f->set_label(required ? google::protobuf::FieldDescriptorProto::LABEL_REQUIRED
                        : google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
}

// Payload source shared by every RecordMaker (10,000 streams must not cost 10 GB): printable
// characters, read at an offset that moves with the sequence number and differs per stream.
const std::string& PayloadText() {
  static const std::string text = [] {
    static const char kAlphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,.-_:;/+=";
    std::mt19937_64 rng(0x6e6f627573ull);
    std::string t(kTextBytes, ' ');
    for (char& c : t) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    return t;
  }();
  return text;
}

}  // namespace

TableProperties BenchTableProperties(const std::string& table, Format format) {
  if (format == Format::kJson) return TableProperties::Json(table);
  using FD = google::protobuf::FieldDescriptorProto;
  google::protobuf::DescriptorProto msg;
  msg.set_name("BenchRecord");
  AddField(msg, "stream", 1, FD::TYPE_INT32, true);
  AddField(msg, "seq", 2, FD::TYPE_INT64, true);
  AddField(msg, "probe", 3, FD::TYPE_INT64, false);
  AddField(msg, "payload", 4, FD::TYPE_STRING, true);
  TableProperties props;
  props.table_name = table;
  props.format = RecordFormat::kProto;
  props.descriptor_proto = msg.SerializeAsString();
  return props;
}

RecordMaker::RecordMaker(Format format, int64_t record_bytes, int32_t stream, bool probe)
    : format_(format),
      record_bytes_(record_bytes),
      stream_(stream),
      probe_(probe),
      text_(PayloadText()),
      text_shift_(static_cast<uint64_t>(stream) * 104'729) {
  std::string head = "{\"stream\":" + std::to_string(stream) + ",\"seq\":";
  seq_at_ = head.size();
  head += std::string(kNumberWidth, '0');
  if (probe_) {
    head += ",\"probe\":";
    probe_at_ = head.size();
    head += std::string(kNumberWidth, '0');
  }
  head += ",\"payload\":\"";
  payload_at_ = head.size();
  const int64_t fixed = static_cast<int64_t>(head.size()) + 2;  // + "\"}"
  payload_len_ = static_cast<size_t>(std::max<int64_t>(0, record_bytes_ - fixed));
  json_ = head + std::string(payload_len_, 'x') + "\"}";
}

std::string_view RecordMaker::Make(int64_t seq) {
  return format_ == Format::kJson ? MakeJson(seq) : MakeProto(seq);
}

size_t RecordMaker::TextOffset(int64_t seq, size_t len) const {
  return static_cast<size_t>((static_cast<uint64_t>(seq) * 7919 + text_shift_) % (kTextBytes - len));
}

std::string_view RecordMaker::MakeJson(int64_t seq) {
  WriteNumber(json_.data() + seq_at_, seq);
  if (probe_) WriteNumber(json_.data() + probe_at_, seq);
  const size_t from = TextOffset(seq, payload_len_);
  std::memcpy(json_.data() + payload_at_, text_.data() + from, payload_len_);
  return json_;
}

std::string_view RecordMaker::MakeProto(int64_t seq) {
  proto_.clear();
  proto_.push_back(0x08);  // field 1, varint
  PutVarint(proto_, static_cast<uint64_t>(static_cast<int64_t>(stream_)));
  proto_.push_back(0x10);  // field 2, varint
  PutVarint(proto_, static_cast<uint64_t>(seq));
  if (probe_) {
    proto_.push_back(0x18);  // field 3, varint
    PutVarint(proto_, static_cast<uint64_t>(seq));
  }
  // Field 4 (length-delimited): tag + length varint + text, sized so the whole record is exact.
  const int64_t room = record_bytes_ - static_cast<int64_t>(proto_.size()) - 1;
  int64_t len = std::max<int64_t>(0, room - 1);
  while (len > 0 && static_cast<int64_t>(VarintSize(static_cast<uint64_t>(len))) + len > room) --len;
  const size_t n = static_cast<size_t>(len);
  proto_.push_back(0x22);
  PutVarint(proto_, n);
  const size_t from = TextOffset(seq, n);
  proto_.append(text_.data() + from, n);
  return proto_;
}

}  // namespace nobus::cli::bench
