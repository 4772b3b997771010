#include "parquet/schema_mapping.h"

#include <utility>

namespace nobus::parquet {
namespace {

using schema::DataType;
using schema::TypeKind;

// Parquet ConvertedType values.
constexpr int kUtf8 = 0, kMapCt = 1, kListCt = 3, kDecimalCt = 5, kDateCt = 6;
constexpr int kTimestampMicrosCt = 10, kInt8Ct = 15, kInt16Ct = 16;

struct Position {
  std::vector<std::string> path;        // Parquet path of the parent
  std::string display;                  // display path of the parent ("" at the root)
  std::vector<std::string> field_path;  // struct-only path, valid while `through_structs`
  int16_t def = 0;
  int16_t rep = 0;
  int top_level_field = 0;
  bool inside_repeated = false;
  bool through_structs = true;
};

class TreeBuilder {
 public:
  explicit TreeBuilder(ColumnTree* tree) : tree_(tree) {}
  int Add(const DataType& type, const std::string& name, const std::string& display_name,
          Repetition repetition, bool nullable, const Position& parent);

 private:
  int NewNode(const DataType& type, Repetition repetition, bool nullable, const Position& parent,
              const std::string& display_name);
  int AddGroup(const std::string& name, Repetition repetition, int num_children, Logical logical,
               int converted);
  void AddLeaf(const DataType& type, const std::string& name, Repetition repetition, int node,
               const Position& parent);
  void AddChildren(const DataType& type, int node, Position pos);

  ColumnTree* tree_;
};

std::string JoinDisplay(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "." + name;
}

int TreeBuilder::NewNode(const DataType& type, Repetition repetition, bool nullable,
                         const Position& parent, const std::string& display_name) {
  ColumnNode node;
  node.type = type.kind;
  node.kind = type.kind == TypeKind::kStruct  ? NodeKind::kStruct
              : type.kind == TypeKind::kArray ? NodeKind::kList
              : type.kind == TypeKind::kMap   ? NodeKind::kMap
                                              : NodeKind::kLeaf;
  node.nullable = nullable;
  node.null_def = parent.def;
  node.def = static_cast<int16_t>(parent.def + (repetition == Repetition::kOptional ? 1 : 0));
  node.rep = static_cast<int16_t>(parent.rep + 1);
  node.display_path = JoinDisplay(parent.display, display_name);
  node.leaf_begin = static_cast<int>(tree_->leaves.size());
  tree_->nodes.push_back(std::move(node));
  return static_cast<int>(tree_->nodes.size()) - 1;
}

int TreeBuilder::AddGroup(const std::string& name, Repetition repetition, int num_children,
                          Logical logical, int converted) {
  SchemaElementSpec e;
  e.name = name;
  e.repetition = repetition;
  e.num_children = num_children;
  e.logical = logical;
  e.converted_type = converted;
  tree_->elements.push_back(std::move(e));
  return static_cast<int>(tree_->elements.size()) - 1;
}

int TreeBuilder::Add(const DataType& type, const std::string& name, const std::string& display_name,
                     Repetition repetition, bool nullable, const Position& parent) {
  int node = NewNode(type, repetition, nullable, parent, display_name);
  Position pos = parent;
  pos.path.push_back(name);
  pos.display = tree_->nodes[node].display_path;
  pos.def = tree_->nodes[node].def;
  if (pos.through_structs) pos.field_path.push_back(display_name);
  if (type.IsPrimitive()) {
    AddLeaf(type, name, repetition, node, parent);
  } else {
    AddChildren(type, node, std::move(pos));
  }
  tree_->nodes[node].leaf_end = static_cast<int>(tree_->leaves.size());
  return node;
}

void TreeBuilder::AddChildren(const DataType& type, int node, Position pos) {
  const std::string& name = pos.path.back();
  Repetition repetition =
      pos.def > tree_->nodes[node].null_def ? Repetition::kOptional : Repetition::kRequired;
  if (type.kind == TypeKind::kStruct) {
    AddGroup(name, repetition, static_cast<int>(type.fields.size()), Logical::kNone, -1);
    for (const schema::Field& f : type.fields) {
      int child = Add(f.type, f.name, f.name, Repetition::kOptional, f.nullable, pos);
      tree_->nodes[node].children.push_back(child);
    }
    return;
  }
  bool is_list = type.kind == TypeKind::kArray;
  if (pos.through_structs) tree_->repeated_fields.push_back({pos.field_path, node});
  AddGroup(name, repetition, 1, is_list ? Logical::kList : Logical::kMap,
           is_list ? kListCt : kMapCt);
  AddGroup(is_list ? "list" : "key_value", Repetition::kRepeated, is_list ? 1 : 2, Logical::kNone,
           -1);
  pos.path.push_back(is_list ? "list" : "key_value");
  pos.def = static_cast<int16_t>(pos.def + 1);
  pos.rep = static_cast<int16_t>(pos.rep + 1);
  pos.inside_repeated = true;
  pos.through_structs = false;
  Repetition value_rep = type.contains_null ? Repetition::kOptional : Repetition::kRequired;
  if (is_list) {
    int child = Add(*type.element, "element", "element", value_rep, type.contains_null, pos);
    tree_->nodes[node].children.push_back(child);
    return;
  }
  int key = Add(*type.element, "key", "key", Repetition::kRequired, false, pos);
  int value = Add(*type.value, "value", "value", value_rep, type.contains_null, pos);
  tree_->nodes[node].children = {key, value};
}

void FillLeafElement(const DataType& type, SchemaElementSpec* e, LeafDescriptor* leaf) {
  switch (type.kind) {
    case TypeKind::kString:
      leaf->physical = PhysicalType::kByteArray;
      e->logical = Logical::kString;
      e->converted_type = kUtf8;
      break;
    case TypeKind::kBinary:
      leaf->physical = PhysicalType::kByteArray;
      break;
    case TypeKind::kLong:
      leaf->physical = PhysicalType::kInt64;
      break;
    case TypeKind::kInteger:
      leaf->physical = PhysicalType::kInt32;
      break;
    case TypeKind::kShort:
    case TypeKind::kByte:
      leaf->physical = PhysicalType::kInt32;
      e->logical = Logical::kInteger;
      e->bit_width = type.kind == TypeKind::kShort ? 16 : 8;
      e->converted_type = type.kind == TypeKind::kShort ? kInt16Ct : kInt8Ct;
      break;
    case TypeKind::kFloat:
      leaf->physical = PhysicalType::kFloat;
      break;
    case TypeKind::kDouble:
      leaf->physical = PhysicalType::kDouble;
      break;
    case TypeKind::kBoolean:
      leaf->physical = PhysicalType::kBoolean;
      break;
    case TypeKind::kDate:
      leaf->physical = PhysicalType::kInt32;
      e->logical = Logical::kDate;
      e->converted_type = kDateCt;
      break;
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz:
      leaf->physical = PhysicalType::kInt64;
      e->logical = Logical::kTimestamp;
      e->utc = type.kind == TypeKind::kTimestamp;
      e->converted_type = kTimestampMicrosCt;
      break;
    case TypeKind::kDecimal:
      leaf->physical = type.precision <= 9    ? PhysicalType::kInt32
                       : type.precision <= 18 ? PhysicalType::kInt64
                                              : PhysicalType::kFixedLenByteArray;
      if (leaf->physical == PhysicalType::kFixedLenByteArray) {
        leaf->type_length = DecimalByteWidth(type.precision);
      }
      e->logical = Logical::kDecimal;
      e->converted_type = kDecimalCt;
      e->scale = type.scale;
      e->precision = type.precision;
      break;
    default:
      break;
  }
  e->type = static_cast<int>(leaf->physical);
  e->type_length = leaf->type_length;
}

void TreeBuilder::AddLeaf(const DataType& type, const std::string& name, Repetition repetition,
                          int node, const Position& parent) {
  const ColumnNode& n = tree_->nodes[node];
  LeafDescriptor leaf;
  leaf.path = parent.path;
  leaf.path.push_back(name);
  leaf.display_path = n.display_path;
  leaf.type = type;
  leaf.max_def = n.def;
  leaf.max_rep = parent.rep;
  leaf.required = !n.nullable;
  leaf.top_level_field = parent.top_level_field;
  leaf.inside_repeated = parent.inside_repeated;
  SchemaElementSpec e;
  e.name = name;
  e.repetition = repetition;
  FillLeafElement(type, &e, &leaf);
  tree_->nodes[node].leaf = static_cast<int>(tree_->leaves.size());
  tree_->leaves.push_back(std::move(leaf));
  tree_->elements.push_back(std::move(e));
}

}  // namespace

int DecimalByteWidth(int precision) {
  static constexpr int kMaxPrecision[] = {2,  4,  6,  9,  11, 14, 16, 18,
                                          21, 23, 26, 28, 31, 33, 35, 38};
  for (int i = 0; i < 16; ++i) {
    if (precision <= kMaxPrecision[i]) return i + 1;
  }
  return 16;
}

ColumnTree BuildColumnTree(const schema::Schema& schema) {
  ColumnTree tree;
  ColumnNode root;
  root.kind = NodeKind::kStruct;
  root.nullable = false;
  tree.nodes.push_back(std::move(root));
  SchemaElementSpec root_element;
  root_element.name = "spark_schema";
  root_element.num_children = static_cast<int>(schema.fields.size());
  tree.elements.push_back(std::move(root_element));
  TreeBuilder builder(&tree);
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const schema::Field& f = schema.fields[i];
    Position pos;
    pos.top_level_field = static_cast<int>(i);
    int child = builder.Add(f.type, f.name, f.name, Repetition::kOptional, f.nullable, pos);
    tree.nodes[0].children.push_back(child);
  }
  tree.nodes[0].leaf_end = static_cast<int>(tree.leaves.size());
  return tree;
}

}  // namespace nobus::parquet
