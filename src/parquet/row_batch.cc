#include "parquet/row_batch.h"

#include "parquet/schema_mapping.h"

namespace nobus::parquet {

absl::StatusOr<std::unique_ptr<RowBatch>> RowBatch::Create(const schema::Schema& schema) {
  NOBUS_RETURN_IF_ERROR(schema::Validate(schema));
  std::unique_ptr<RowBatch> batch(new RowBatch());
  batch->schema_ = schema;
  batch->leaves_ = BuildColumnTree(schema).leaves;
  batch->buffers_.resize(batch->leaves_.size());
  return batch;
}

int64_t RowBatch::ByteSize() const {
  int64_t total = 0;
  for (const LeafBuffer& b : buffers_) {
    total += static_cast<int64_t>(b.values.size()) +
             static_cast<int64_t>(b.def_levels.size() + b.rep_levels.size()) * 2 +
             static_cast<int64_t>(b.offsets.size() - 1) * 4;
  }
  return total;
}

void RowBatch::Clear() {
  for (LeafBuffer& b : buffers_) {
    b.def_levels.clear();
    b.rep_levels.clear();
    b.values.clear();
    b.offsets.resize(1);
    b.offsets[0] = 0;
    b.num_values = 0;
    b.num_levels = 0;
  }
  num_rows_ = 0;
}

}  // namespace nobus::parquet
