// Maps a Delta schema to Parquet: the leaf columns with their Dremel levels (LeafDescriptor), the
// node tree the RowBuilder walks while shredding rows, and the SchemaElements of the footer.
// Layout rules (spec section 4): every field OPTIONAL, arrays as 3-level LIST
// (`group (LIST) > repeated group list > element`, element OPTIONAL iff containsNull), maps as
// `group (MAP) > repeated group key_value > required key, value` (value OPTIONAL iff
// valueContainsNull). Pure data built once per RowBatch / RowBuilder / file; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "parquet/row_batch.h"
#include "schema/types.h"

namespace nobus::parquet {

enum class NodeKind : uint8_t { kLeaf, kStruct, kList, kMap };

// One node of the shredding tree (root struct, fields, list elements, map keys and values).
struct ColumnNode {
  NodeKind kind = NodeKind::kLeaf;
  schema::TypeKind type = schema::TypeKind::kStruct;  // the Delta type of this node
  bool nullable = true;                               // Null() is accepted here
  int16_t def = 0;                                    // definition level when this node is present
  int16_t null_def = 0;  // definition level written for its leaves when it is null
  int16_t rep = 0;       // list/map: repetition level of the 2nd and later elements/entries
  int leaf = -1;         // kLeaf: index into ColumnTree::leaves
  int leaf_begin = 0;    // leaves of this subtree: [leaf_begin, leaf_end)
  int leaf_end = 0;
  std::vector<int> children;  // struct fields; list: {element}; map: {key, value}
  std::string display_path;   // "s.tags.element"; empty for the root
};

// Parquet FieldRepetitionType, ConvertedType and the LogicalType members we emit.
enum class Repetition : int8_t { kNone = -1, kRequired = 0, kOptional = 1, kRepeated = 2 };
enum class Logical : uint8_t { kNone, kString, kMap, kList, kDecimal, kDate, kTimestamp, kInteger };

// One footer SchemaElement, listed depth-first (root first).
struct SchemaElementSpec {
  std::string name;
  int type = -1;                              // PhysicalType value; -1 for groups
  int type_length = 0;                        // FLBA width, 0 otherwise
  Repetition repetition = Repetition::kNone;  // kNone only for the root
  int num_children = -1;                      // groups only
  int converted_type = -1;
  int scale = -1;
  int precision = -1;
  Logical logical = Logical::kNone;
  bool utc = false;   // kTimestamp: isAdjustedToUTC
  int bit_width = 0;  // kInteger
};

// An array or map field reachable from the root through structs only (Delta's stats can name it).
struct RepeatedFieldRef {
  std::vector<std::string> path;  // top-level name, struct field names...
  int node = 0;
};

struct ColumnTree {
  std::vector<ColumnNode> nodes;  // nodes[0] is the root struct
  std::vector<LeafDescriptor> leaves;
  std::vector<SchemaElementSpec> elements;
  std::vector<RepeatedFieldRef> repeated_fields;
};

// Builds the tree for a schema that passed schema::Validate.
ColumnTree BuildColumnTree(const schema::Schema& schema);

// Minimal FIXED_LEN_BYTE_ARRAY width holding any unscaled value of `precision` digits (1..16).
int DecimalByteWidth(int precision);

}  // namespace nobus::parquet
