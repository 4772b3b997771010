// The bridge from buffered row blobs to Delta data files: a schema::RowSink that fills a
// delta::PartitionedRows. In the data path: table buffer -> schema::ReplayRows -> [RowsSink] ->
// PartitionedRows -> Committer::AppendOnce.
//
// PartitionedRows::Builder(values) needs a row's partition values before its other values, but
// ReplayRows reports values in schema order, where a partition column may come after data columns.
// So for a partitioned table the sink records the row's value calls in a reusable tape (scalars
// inline, string bytes in one arena), and at EndRow picks the builder for the partition values and
// plays the tape into it: one decode per row and no allocation per row once the tape has grown.
// An unpartitioned table has one builder, and calls go straight to it.
//
// Lifecycle: one sink per flush, used by one thread. Borrows `rows`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "delta/table.h"
#include "schema/row_codec.h"

namespace nobus::table {

class RowsSink final : public schema::RowSink {
 public:
  // InvalidArgument when `rows` rejects the empty partition value set of an unpartitioned table.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RowsSink>> Create(
      delta::PartitionedRows* rows);

  void BeginRow() override;
  void PartitionValue(const std::string& column, std::optional<std::string> value) override;
  absl::Status EndRow() override;
  void Null() override;
  void Bool(bool v) override;
  void Int32(int32_t v) override;
  void Int64(int64_t v) override;
  void Float(float v) override;
  void Double(double v) override;
  void String(std::string_view utf8) override;
  void Binary(std::string_view bytes) override;
  void Decimal(__int128 unscaled) override;
  void BeginStruct() override;
  void EndStruct() override;
  void BeginList() override;
  void EndList() override;
  void BeginMap() override;
  void EndMap() override;

 private:
  enum class Op : uint8_t {
    kNull, kBool, kInt32, kInt64, kFloat, kDouble, kString, kBinary, kDecimal,
    kBeginStruct, kEndStruct, kBeginList, kEndList, kBeginMap, kEndMap,
  };
  struct Call {
    Op op;
    uint32_t offset = 0;  // kString, kBinary: bytes in arena_
    uint32_t size = 0;
    union {
      int64_t i;
      float f;
      double d;
      __int128 dec;
    };
  };

  explicit RowsSink(delta::PartitionedRows* rows) : rows_(rows) {}
  void Record(Op op) { tape_.push_back(Call{op}); }
  void RecordBytes(Op op, std::string_view bytes);
  void Play(parquet::RowBuilder* b) const;

  delta::PartitionedRows* rows_;
  parquet::RowBuilder* direct_ = nullptr;  // unpartitioned: the only builder
  delta::PartitionValues values_;          // partitioned: the current row's values
  std::vector<Call> tape_;
  std::string arena_;
};

}  // namespace nobus::table
