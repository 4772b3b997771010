#include "table/rows_sink.h"

namespace nobus::table {

absl::StatusOr<std::unique_ptr<RowsSink>> RowsSink::Create(delta::PartitionedRows* rows) {
  std::unique_ptr<RowsSink> sink(new RowsSink(rows));
  if (rows->partition_columns().empty()) {
    NOBUS_ASSIGN_OR_RETURN(sink->direct_, rows->Builder({}));
  } else {
    for (const std::string& c : rows->partition_columns()) sink->values_[c] = std::nullopt;
  }
  return sink;
}

void RowsSink::BeginRow() {
  if (direct_ != nullptr) {
    direct_->BeginRow();
    return;
  }
  tape_.clear();
  arena_.clear();
}

void RowsSink::PartitionValue(const std::string& column, std::optional<std::string> value) {
  auto it = values_.find(column);
  if (it != values_.end()) it->second = std::move(value);
}

absl::Status RowsSink::EndRow() {
  if (direct_ != nullptr) return direct_->EndRow();
  NOBUS_ASSIGN_OR_RETURN(parquet::RowBuilder * b, rows_->Builder(values_));
  b->BeginRow();
  Play(b);
  return b->EndRow();
}

void RowsSink::RecordBytes(Op op, std::string_view bytes) {
  Call c{op};
  c.offset = static_cast<uint32_t>(arena_.size());
  c.size = static_cast<uint32_t>(bytes.size());
  arena_.append(bytes);
  tape_.push_back(c);
}

void RowsSink::Play(parquet::RowBuilder* b) const {
  for (const Call& c : tape_) {
    std::string_view bytes(arena_.data() + c.offset, c.size);
    switch (c.op) {
      case Op::kNull: b->Null(); break;
      case Op::kBool: b->Bool(c.i != 0); break;
      case Op::kInt32: b->Int32(static_cast<int32_t>(c.i)); break;
      case Op::kInt64: b->Int64(c.i); break;
      case Op::kFloat: b->Float(c.f); break;
      case Op::kDouble: b->Double(c.d); break;
      case Op::kString: b->String(bytes); break;
      case Op::kBinary: b->Binary(bytes); break;
      case Op::kDecimal: b->Decimal(c.dec); break;
      case Op::kBeginStruct: b->BeginStruct(); break;
      case Op::kEndStruct: b->EndStruct(); break;
      case Op::kBeginList: b->BeginList(); break;
      case Op::kEndList: b->EndList(); break;
      case Op::kBeginMap: b->BeginMap(); break;
      case Op::kEndMap: b->EndMap(); break;
    }
  }
}

void RowsSink::Null() { direct_ ? direct_->Null() : Record(Op::kNull); }

void RowsSink::Bool(bool v) {
  if (direct_ != nullptr) return direct_->Bool(v);
  Record(Op::kBool);
  tape_.back().i = v ? 1 : 0;
}

void RowsSink::Int32(int32_t v) {
  if (direct_ != nullptr) return direct_->Int32(v);
  Record(Op::kInt32);
  tape_.back().i = v;
}

void RowsSink::Int64(int64_t v) {
  if (direct_ != nullptr) return direct_->Int64(v);
  Record(Op::kInt64);
  tape_.back().i = v;
}

void RowsSink::Float(float v) {
  if (direct_ != nullptr) return direct_->Float(v);
  Record(Op::kFloat);
  tape_.back().f = v;
}

void RowsSink::Double(double v) {
  if (direct_ != nullptr) return direct_->Double(v);
  Record(Op::kDouble);
  tape_.back().d = v;
}

void RowsSink::String(std::string_view utf8) {
  direct_ ? direct_->String(utf8) : RecordBytes(Op::kString, utf8);
}

void RowsSink::Binary(std::string_view bytes) {
  direct_ ? direct_->Binary(bytes) : RecordBytes(Op::kBinary, bytes);
}

void RowsSink::Decimal(__int128 unscaled) {
  if (direct_ != nullptr) return direct_->Decimal(unscaled);
  Record(Op::kDecimal);
  tape_.back().dec = unscaled;
}

void RowsSink::BeginStruct() { direct_ ? direct_->BeginStruct() : Record(Op::kBeginStruct); }
void RowsSink::EndStruct() { direct_ ? direct_->EndStruct() : Record(Op::kEndStruct); }
void RowsSink::BeginList() { direct_ ? direct_->BeginList() : Record(Op::kBeginList); }
void RowsSink::EndList() { direct_ ? direct_->EndList() : Record(Op::kEndList); }
void RowsSink::BeginMap() { direct_ ? direct_->BeginMap() : Record(Op::kBeginMap); }
void RowsSink::EndMap() { direct_ ? direct_->EndMap() : Record(Op::kEndMap); }

}  // namespace nobus::table
