#include "wal/format.h"

#include <cstdio>
#include <cstring>

#include "common/coding.h"
#include "common/crc32c.h"

namespace nobus::wal {

std::string SegmentFileName(Lsn first_lsn) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020llu", static_cast<unsigned long long>(first_lsn));
  return Cat(buf, kSegmentSuffix);
}

bool ParseSegmentFileName(std::string_view name, Lsn* first_lsn) {
  if (name.size() != 20 + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) return false;
  Lsn v = 0;
  for (size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    Lsn next = v * 10 + static_cast<Lsn>(name[i] - '0');
    if (next / 10 != v) return false;  // overflow
    v = next;
  }
  *first_lsn = v;
  return true;
}

std::string EncodeSegmentHeader(const SegmentHeader& header) {
  std::string out(kSegmentMagic, sizeof(kSegmentMagic));
  PutFixed32(&out, kFormatVersion);
  PutFixed32(&out, header.flags);
  PutFixed64(&out, header.first_lsn);
  PutFixed32(&out, 0);  // reserved
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

bool DecodeSegmentHeader(std::string_view data, SegmentHeader* header, std::string* why) {
  if (data.size() < kSegmentHeaderSize) {
    *why = Cat("segment header truncated (", data.size(), " of ", kSegmentHeaderSize, " bytes)");
    return false;
  }
  if (std::memcmp(data.data(), kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
    *why = "bad segment magic (not a nobus WAL segment)";
    return false;
  }
  uint32_t stored = DecodeFixed32(data.data() + 28);
  if (crc32c::Unmask(stored) != crc32c::Value(data.data(), 28)) {
    *why = "segment header checksum mismatch";
    return false;
  }
  uint32_t version = DecodeFixed32(data.data() + 8);
  if (version != kFormatVersion) {
    *why = Cat("unsupported segment format version ", version);
    return false;
  }
  header->flags = DecodeFixed32(data.data() + 12);
  header->first_lsn = DecodeFixed64(data.data() + 16);
  return true;
}

namespace {

size_t BatchBodySize(std::span<const std::string_view> payloads) {
  size_t n = VarintLength(payloads.size());
  for (std::string_view p : payloads) n += VarintLength(p.size()) + p.size();
  return n;
}

// Checks that a kBatch body is exactly `count` length-prefixed payloads; sets *count.
bool ValidBatchBody(std::string_view body, uint32_t* count) {
  if (!GetVarint32(&body, count) || *count == 0) return false;
  for (uint32_t i = 0; i < *count; ++i) {
    uint32_t len;
    if (!GetVarint32(&body, &len) || len > body.size()) return false;
    body.remove_prefix(len);
  }
  return body.empty();
}

}  // namespace

size_t FramedSize(std::span<const std::string_view> payloads) {
  if (payloads.size() == 1) return kRecordHeaderSize + payloads[0].size();
  return kRecordHeaderSize + BatchBodySize(payloads);
}

void AppendRecord(Lsn first_lsn, std::span<const std::string_view> payloads, std::string* out) {
  const bool single = payloads.size() == 1;
  const size_t body_size = single ? payloads[0].size() : BatchBodySize(payloads);
  const size_t start = out->size();
  out->resize(start + kRecordHeaderSize);
  if (single) {
    out->append(payloads[0]);
  } else {
    PutVarint64(out, payloads.size());
    for (std::string_view p : payloads) {
      PutVarint64(out, p.size());
      out->append(p);
    }
  }
  char* h = out->data() + start;
  EncodeFixed32(h + 4, static_cast<uint32_t>(body_size));
  h[8] = static_cast<char>(single ? RecordType::kFull : RecordType::kBatch);
  EncodeFixed64(h + 9, first_lsn);
  uint32_t crc = crc32c::Value(h + 4, kRecordHeaderSize - 4 + body_size);
  EncodeFixed32(h, crc32c::Mask(crc));
}

absl::Status ForEachPayload(const RecordView& record,
                            const std::function<absl::Status(Lsn, std::string_view)>& visit) {
  if (record.type == RecordType::kFull) return visit(record.first_lsn, record.body);
  std::string_view body = record.body;
  uint32_t count = 0;
  if (!GetVarint32(&body, &count)) return absl::DataLossError("bad batch record body");
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t len;
    if (!GetVarint32(&body, &len) || len > body.size())
      return absl::DataLossError("bad batch record body");
    NOBUS_RETURN_IF_ERROR(visit(record.first_lsn + i, body.substr(0, len)));
    body.remove_prefix(len);
  }
  return absl::OkStatus();
}

uint64_t FindValidRecordAfter(std::string_view data, uint64_t from, Lsn min_lsn) {
  constexpr Lsn kLsnWindow = Lsn{1} << 40;
  for (uint64_t off = from; off + kRecordHeaderSize <= data.size(); ++off) {
    const char* h = data.data() + off;
    const uint8_t type = static_cast<uint8_t>(h[8]);
    if (type != static_cast<uint8_t>(RecordType::kFull) &&
        type != static_cast<uint8_t>(RecordType::kBatch))
      continue;
    const uint32_t length = DecodeFixed32(h + 4);
    const Lsn lsn = DecodeFixed64(h + 9);
    if (length > data.size() - off - kRecordHeaderSize || lsn < min_lsn ||
        lsn - min_lsn > kLsnWindow)
      continue;
    if (crc32c::Unmask(DecodeFixed32(h)) == crc32c::Value(h + 4, kRecordHeaderSize - 4 + length))
      return off;
  }
  return 0;
}

SegmentParser::SegmentParser(std::string_view data, Lsn first_lsn)
    : data_(data), offset_(kSegmentHeaderSize), next_lsn_(first_lsn) {}

SegmentParser::Result SegmentParser::Bad(std::string reason) {
  reason_ = std::move(reason);
  return Result::kBad;
}

bool SegmentParser::ZeroFrom(uint64_t offset) const {
  for (uint64_t i = offset; i < data_.size(); ++i)
    if (data_[i] != 0) return false;
  return true;
}

SegmentParser::Result SegmentParser::Next(RecordView* record) {
  if (offset_ >= data_.size()) return Result::kEnd;
  const uint64_t left = data_.size() - offset_;
  const char* h = data_.data() + offset_;
  if (left < kRecordHeaderSize) {
    if (ZeroFrom(offset_)) return Result::kEnd;
    return Bad(Cat("torn record header (", left, " bytes left)"));
  }
  const uint32_t masked = DecodeFixed32(h);
  const uint32_t length = DecodeFixed32(h + 4);
  const auto type = static_cast<RecordType>(static_cast<uint8_t>(h[8]));
  const Lsn lsn = DecodeFixed64(h + 9);
  if (type == RecordType::kZero && masked == 0 && length == 0 && lsn == 0) {
    if (ZeroFrom(offset_)) return Result::kEnd;
    return Bad("non-zero bytes after the zero-filled end of the segment");
  }
  if (type != RecordType::kFull && type != RecordType::kBatch)
    return Bad(Cat("unknown record type ", static_cast<int>(h[8] & 0xff)));
  if (length > kMaxRecordBodyBytes || length > left - kRecordHeaderSize)
    return Bad(Cat("record length ", length, " runs past the end of the segment"));
  if (crc32c::Unmask(masked) != crc32c::Value(h + 4, kRecordHeaderSize - 4 + length))
    return Bad("record checksum mismatch");
  if (lsn != next_lsn_) return Bad(Cat("record LSN ", lsn, " where ", next_lsn_, " was expected"));
  uint32_t count = 1;
  std::string_view body(h + kRecordHeaderSize, length);
  if (type == RecordType::kBatch && !ValidBatchBody(body, &count))
    return Bad("malformed batch record body");
  record->offset = offset_;
  record->framed_size = kRecordHeaderSize + length;
  record->type = type;
  record->first_lsn = lsn;
  record->count = count;
  record->masked_crc = masked;
  record->body = body;
  offset_ += record->framed_size;
  next_lsn_ += count;
  return Result::kRecord;
}

}  // namespace nobus::wal
