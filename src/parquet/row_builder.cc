// RowBuilder: walks the shredding tree of schema_mapping.h depth-first while the caller appends
// values, writing definition/repetition levels and values straight into the RowBatch buffers.
#include <cstring>
#include <limits>

#include "parquet/row_batch.h"
#include "parquet/schema_mapping.h"

namespace nobus::parquet {
namespace {

using schema::TypeKind;

// One open struct, list or map (the root struct is always at the bottom of the stack).
struct Frame {
  int node = 0;
  int next = 0;           // struct: next field; map: 0 = key expected, 1 = value expected
  int64_t count = 0;      // list/map: elements or entries so far
  int16_t saved_rep = 0;  // repetition level of this container's first entry
};

// Sizes of one leaf buffer at BeginRow, to roll a bad row back.
struct LeafMark {
  int64_t num_levels = 0;
  int64_t num_values = 0;
  size_t values_size = 0;
};

constexpr uint64_t kMaxByteArrayBuffer = std::numeric_limits<uint32_t>::max();

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  while (p < end) {
    if (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p < len) return false;
    for (int k = 1; k < len; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[k] & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += len;
  }
  return true;
}

__int128 Pow10(int n) {
  __int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

const char* KindName(NodeKind kind) {
  switch (kind) {
    case NodeKind::kStruct:
      return "struct";
    case NodeKind::kList:
      return "array";
    case NodeKind::kMap:
      return "map";
    case NodeKind::kLeaf:
      break;
  }
  return "value";
}

}  // namespace

struct RowBuilder::State {
  RowBatch* batch;
  ColumnTree tree;
  std::vector<Frame> stack;
  std::vector<LeafMark> marks;
  int16_t cur_rep = 0;
  bool in_row = false;
  bool failed = false;
  int error_node = 0;
  std::string error;

  void Fail(int node, std::string message) {
    if (failed) return;
    failed = true;
    error_node = node;
    error = std::move(message);
  }
  int Slot();
  int LeafSlot(bool accepted(TypeKind), const char* what);
  void Emit(int leaf_node);
  void EmitAll(const ColumnNode& node, int16_t def, int16_t rep);
  void Open(NodeKind kind, const char* what);
  Frame* Close(NodeKind kind, const char* what);
  void Rollback();
  void AppendBytes(int node, std::string_view bytes);
};

int RowBuilder::State::Slot() {
  if (!in_row || failed) return -1;
  Frame& f = stack.back();
  const ColumnNode& n = tree.nodes[f.node];
  switch (n.kind) {
    case NodeKind::kStruct:
      if (f.next >= static_cast<int>(n.children.size())) {
        Fail(f.node, Cat("more values than the ", n.children.size(), " fields of ",
                         f.node == 0 ? "the row" : "the struct"));
        return -1;
      }
      return n.children[f.next++];
    case NodeKind::kList:
      cur_rep = f.count == 0 ? f.saved_rep : n.rep;
      ++f.count;
      return n.children[0];
    case NodeKind::kMap:
      if (f.next == 1) {
        f.next = 0;
        return n.children[1];
      }
      cur_rep = f.count == 0 ? f.saved_rep : n.rep;
      ++f.count;
      f.next = 1;
      return n.children[0];
    case NodeKind::kLeaf:
      break;
  }
  return -1;
}

int RowBuilder::State::LeafSlot(bool accepted(TypeKind), const char* what) {
  int t = Slot();
  if (t < 0) return -1;
  const ColumnNode& n = tree.nodes[t];
  if (n.kind != NodeKind::kLeaf) {
    Fail(t, Cat("expected ", KindName(n.kind), ", got ", what));
    return -1;
  }
  if (!accepted(n.type)) {
    Fail(t, Cat("expected ", schema::TypeName(tree.leaves[n.leaf].type), ", got ", what));
    return -1;
  }
  return t;
}

void RowBuilder::State::Emit(int leaf_node) {
  const ColumnNode& n = tree.nodes[leaf_node];
  LeafBuffer& b = batch->buffers_[n.leaf];
  b.def_levels.push_back(n.def);
  if (tree.leaves[n.leaf].max_rep > 0) b.rep_levels.push_back(cur_rep);
  ++b.num_values;
  ++b.num_levels;
}

void RowBuilder::State::EmitAll(const ColumnNode& node, int16_t def, int16_t rep) {
  for (int i = node.leaf_begin; i < node.leaf_end; ++i) {
    LeafBuffer& b = batch->buffers_[i];
    b.def_levels.push_back(def);
    if (tree.leaves[i].max_rep > 0) b.rep_levels.push_back(rep);
    ++b.num_levels;
  }
}

void RowBuilder::State::Open(NodeKind kind, const char* what) {
  int t = Slot();
  if (t < 0) return;
  const ColumnNode& n = tree.nodes[t];
  if (n.kind != kind) {
    Fail(t, Cat("expected ",
                n.kind == NodeKind::kLeaf ? schema::TypeName(tree.leaves[n.leaf].type)
                                          : std::string(KindName(n.kind)),
                ", got ", what));
    return;
  }
  stack.push_back(Frame{t, 0, 0, cur_rep});
}

Frame* RowBuilder::State::Close(NodeKind kind, const char* what) {
  if (!in_row || failed) return nullptr;
  Frame& f = stack.back();
  if (stack.size() == 1 || tree.nodes[f.node].kind != kind) {
    Fail(f.node, Cat(what, " does not match the open ",
                     stack.size() == 1 ? "row" : KindName(tree.nodes[f.node].kind)));
    return nullptr;
  }
  return &f;
}

void RowBuilder::State::Rollback() {
  for (size_t i = 0; i < marks.size(); ++i) {
    LeafBuffer& b = batch->buffers_[i];
    const LeafMark& m = marks[i];
    if (!b.def_levels.empty()) b.def_levels.resize(m.num_levels);
    if (!b.rep_levels.empty()) b.rep_levels.resize(m.num_levels);
    b.values.resize(m.values_size);
    if (b.offsets.size() > 1) b.offsets.resize(m.num_values + 1);
    b.num_levels = m.num_levels;
    b.num_values = m.num_values;
  }
  stack.resize(1);
  in_row = false;
  failed = false;
}

void RowBuilder::State::AppendBytes(int node, std::string_view bytes) {
  LeafBuffer& b = batch->buffers_[tree.nodes[node].leaf];
  if (b.values.size() + bytes.size() > kMaxByteArrayBuffer) {
    Fail(node, "batch holds more than 4 GiB of values in this column; flush first");
    return;
  }
  Emit(node);
  b.values.append(bytes.data(), bytes.size());
  b.offsets.push_back(static_cast<uint32_t>(b.values.size()));
}

RowBuilder::RowBuilder(RowBatch* batch) : state_(std::make_unique<State>()) {
  state_->batch = batch;
  state_->tree = BuildColumnTree(batch->schema());
  state_->marks.resize(state_->tree.leaves.size());
  state_->stack.push_back(Frame{});
}

RowBuilder::~RowBuilder() = default;

void RowBuilder::BeginRow() {
  State& s = *state_;
  if (s.in_row) s.Rollback();
  for (size_t i = 0; i < s.marks.size(); ++i) {
    const LeafBuffer& b = s.batch->buffers_[i];
    s.marks[i] = LeafMark{b.num_levels, b.num_values, b.values.size()};
  }
  s.stack.resize(1);
  s.stack[0] = Frame{};
  s.cur_rep = 0;
  s.in_row = true;
  s.failed = false;
}

absl::Status RowBuilder::EndRow() {
  State& s = *state_;
  if (!s.in_row) return absl::FailedPreconditionError("EndRow without BeginRow");
  if (!s.failed && s.stack.size() > 1) {
    const ColumnNode& open = s.tree.nodes[s.stack.back().node];
    s.Fail(s.stack.back().node, Cat("row ended inside an open ", KindName(open.kind)));
  }
  if (!s.failed && s.stack[0].next != static_cast<int>(s.tree.nodes[0].children.size())) {
    int missing = s.tree.nodes[0].children[s.stack[0].next];
    s.Fail(missing,
           Cat("row has ", s.stack[0].next, " of ", s.tree.nodes[0].children.size(), " fields"));
  }
  if (s.failed) {
    std::string msg = Cat("row ", s.batch->num_rows_, ", column '",
                          s.tree.nodes[s.error_node].display_path, "': ", s.error);
    s.Rollback();
    return absl::InvalidArgumentError(msg);
  }
  s.in_row = false;
  ++s.batch->num_rows_;
  return absl::OkStatus();
}

void RowBuilder::AbortRow() {
  if (state_->in_row) state_->Rollback();
}

void RowBuilder::Null() {
  State& s = *state_;
  int t = s.Slot();
  if (t < 0) return;
  const ColumnNode& n = s.tree.nodes[t];
  if (!n.nullable) {
    s.Fail(t, "null in a non-nullable field");
    return;
  }
  s.EmitAll(n, n.null_def, s.cur_rep);
}

void RowBuilder::Bool(bool v) {
  State& s = *state_;
  int t = s.LeafSlot([](TypeKind k) { return k == TypeKind::kBoolean; }, "Bool");
  if (t < 0) return;
  s.Emit(t);
  s.batch->buffers_[s.tree.nodes[t].leaf].values.push_back(v ? 1 : 0);
}

void RowBuilder::Int32(int32_t v) {
  State& s = *state_;
  int t = s.LeafSlot(
      [](TypeKind k) {
        return k == TypeKind::kInteger || k == TypeKind::kShort || k == TypeKind::kByte ||
               k == TypeKind::kDate;
      },
      "Int32");
  if (t < 0) return;
  TypeKind k = s.tree.nodes[t].type;
  if ((k == TypeKind::kShort && (v < -32768 || v > 32767)) ||
      (k == TypeKind::kByte && (v < -128 || v > 127))) {
    s.Fail(t, Cat("value ", v, " out of range for ", k == TypeKind::kShort ? "short" : "byte"));
    return;
  }
  s.Emit(t);
  s.batch->buffers_[s.tree.nodes[t].leaf].values.append(reinterpret_cast<const char*>(&v), 4);
}

void RowBuilder::Int64(int64_t v) {
  State& s = *state_;
  int t = s.LeafSlot(
      [](TypeKind k) {
        return k == TypeKind::kLong || k == TypeKind::kTimestamp || k == TypeKind::kTimestampNtz;
      },
      "Int64");
  if (t < 0) return;
  s.Emit(t);
  s.batch->buffers_[s.tree.nodes[t].leaf].values.append(reinterpret_cast<const char*>(&v), 8);
}

void RowBuilder::Float(float v) {
  State& s = *state_;
  int t = s.LeafSlot([](TypeKind k) { return k == TypeKind::kFloat; }, "Float");
  if (t < 0) return;
  s.Emit(t);
  s.batch->buffers_[s.tree.nodes[t].leaf].values.append(reinterpret_cast<const char*>(&v), 4);
}

void RowBuilder::Double(double v) {
  State& s = *state_;
  int t = s.LeafSlot([](TypeKind k) { return k == TypeKind::kDouble; }, "Double");
  if (t < 0) return;
  s.Emit(t);
  s.batch->buffers_[s.tree.nodes[t].leaf].values.append(reinterpret_cast<const char*>(&v), 8);
}

void RowBuilder::String(std::string_view utf8) {
  State& s = *state_;
  int t = s.LeafSlot([](TypeKind k) { return k == TypeKind::kString; }, "String");
  if (t < 0) return;
  if (!IsValidUtf8(utf8)) {
    s.Fail(t, "string is not valid UTF-8");
    return;
  }
  s.AppendBytes(t, utf8);
}

void RowBuilder::Binary(std::string_view bytes) {
  State& s = *state_;
  int t = s.LeafSlot([](TypeKind k) { return k == TypeKind::kBinary; }, "Binary");
  if (t < 0) return;
  s.AppendBytes(t, bytes);
}

void RowBuilder::Decimal(__int128 unscaled) {
  State& s = *state_;
  int t = s.LeafSlot([](TypeKind k) { return k == TypeKind::kDecimal; }, "Decimal");
  if (t < 0) return;
  const LeafDescriptor& leaf = s.tree.leaves[s.tree.nodes[t].leaf];
  __int128 limit = Pow10(leaf.type.precision);
  if (unscaled >= limit || unscaled <= -limit) {
    s.Fail(t, Cat("decimal does not fit precision ", leaf.type.precision));
    return;
  }
  s.Emit(t);
  ByteBuffer& values = s.batch->buffers_[s.tree.nodes[t].leaf].values;
  if (leaf.physical == PhysicalType::kInt32) {
    int32_t v = static_cast<int32_t>(unscaled);
    values.append(reinterpret_cast<const char*>(&v), 4);
  } else if (leaf.physical == PhysicalType::kInt64) {
    int64_t v = static_cast<int64_t>(unscaled);
    values.append(reinterpret_cast<const char*>(&v), 8);
  } else {
    auto u = static_cast<unsigned __int128>(unscaled);
    for (int b = leaf.type_length - 1; b >= 0; --b) {
      values.push_back(static_cast<char>(static_cast<uint8_t>(u >> (8 * b))));
    }
  }
}

void RowBuilder::BeginStruct() { state_->Open(NodeKind::kStruct, "BeginStruct"); }
void RowBuilder::BeginList() { state_->Open(NodeKind::kList, "BeginList"); }
void RowBuilder::BeginMap() { state_->Open(NodeKind::kMap, "BeginMap"); }

void RowBuilder::EndStruct() {
  State& s = *state_;
  Frame* f = s.Close(NodeKind::kStruct, "EndStruct");
  if (f == nullptr) return;
  const ColumnNode& n = s.tree.nodes[f->node];
  if (f->next != static_cast<int>(n.children.size())) {
    s.Fail(n.children[f->next],
           Cat("struct closed after ", f->next, " of ", n.children.size(), " fields"));
    return;
  }
  s.stack.pop_back();
}

void RowBuilder::EndList() {
  State& s = *state_;
  Frame* f = s.Close(NodeKind::kList, "EndList");
  if (f == nullptr) return;
  const ColumnNode& n = s.tree.nodes[f->node];
  if (f->count == 0) s.EmitAll(n, n.def, f->saved_rep);
  s.cur_rep = f->saved_rep;
  s.stack.pop_back();
}

void RowBuilder::EndMap() {
  State& s = *state_;
  Frame* f = s.Close(NodeKind::kMap, "EndMap");
  if (f == nullptr) return;
  const ColumnNode& n = s.tree.nodes[f->node];
  if (f->next == 1) {
    s.Fail(n.children[1], "map key without a value");
    return;
  }
  if (f->count == 0) s.EmitAll(n, n.def, f->saved_rep);
  s.cur_rep = f->saved_rep;
  s.stack.pop_back();
}

}  // namespace nobus::parquet
