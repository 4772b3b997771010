// TableProperties and DescriptorProtoFor: one self-contained DescriptorProto per message type.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "nobus/table.h"

namespace nobus {
namespace {

namespace pb = ::google::protobuf;

bool Within(const std::string& name, const std::string& scope) {
  return name == scope || (name.size() > scope.size() && name.compare(0, scope.size(), scope) == 0 &&
                           name[scope.size()] == '.');
}

// Collects the root's copy and the copies of every outside type it reaches, with the full name
// each original type (and everything nested in it) gets inside the root.
class Flattener {
 public:
  explicit Flattener(const pb::Descriptor* root) : root_(root) {
    root->CopyTo(&out_);
    renames_[root->full_name()] = root->full_name();
    for (int i = 0; i < root->nested_type_count(); ++i) taken_.insert(root->nested_type(i)->name());
    for (int i = 0; i < root->enum_type_count(); ++i) taken_.insert(root->enum_type(i)->name());
    Scan(root);
    while (!pending_.empty()) {
      const pb::Descriptor* next = pending_.back();
      pending_.pop_back();
      Scan(next);
    }
    Rewrite(&out_);
  }
  pb::DescriptorProto Take() { return std::move(out_); }

 private:
  bool Covered(const std::string& full_name) const {
    for (const auto& [original, renamed] : renames_)
      if (Within(full_name, original)) return true;
    return false;
  }

  std::string FreeName(const std::string& wanted) {
    std::string name = wanted;
    for (int n = 2; taken_.count(name) > 0; ++n) name = wanted + "_" + std::to_string(n);
    taken_.insert(name);
    return name;
  }

  // Copies outside types used by `message` (and its nested types) into the root.
  void Scan(const pb::Descriptor* message) {
    for (int i = 0; i < message->field_count(); ++i) {
      const pb::FieldDescriptor* field = message->field(i);
      if (const pb::Descriptor* type = field->message_type(); type && !Covered(type->full_name())) {
        std::string name = FreeName(type->name());
        pb::DescriptorProto* copy = out_.add_nested_type();
        type->CopyTo(copy);
        copy->set_name(name);
        renames_[type->full_name()] = root_->full_name() + "." + name;
        pending_.push_back(type);
      }
      if (const pb::EnumDescriptor* type = field->enum_type(); type && !Covered(type->full_name())) {
        std::string name = FreeName(type->name());
        pb::EnumDescriptorProto* copy = out_.add_enum_type();
        type->CopyTo(copy);
        copy->set_name(name);
        renames_[type->full_name()] = root_->full_name() + "." + name;
      }
    }
    for (int i = 0; i < message->nested_type_count(); ++i) Scan(message->nested_type(i));
  }

  // Points every field's type_name at the copy (longest matching original wins).
  void Rewrite(pb::DescriptorProto* message) {
    for (pb::FieldDescriptorProto& field : *message->mutable_field()) {
      if (field.type_name().empty()) continue;
      std::string name = field.type_name().substr(field.type_name()[0] == '.' ? 1 : 0);
      const std::pair<const std::string, std::string>* best = nullptr;
      for (const auto& entry : renames_)
        if (Within(name, entry.first) && (best == nullptr || entry.first.size() > best->first.size()))
          best = &entry;
      if (best != nullptr) field.set_type_name("." + best->second + name.substr(best->first.size()));
    }
    for (pb::DescriptorProto& nested : *message->mutable_nested_type()) Rewrite(&nested);
  }

  const pb::Descriptor* root_;
  pb::DescriptorProto out_;
  std::map<std::string, std::string> renames_;
  std::set<std::string> taken_;
  std::vector<const pb::Descriptor*> pending_;
};

}  // namespace

TableProperties TableProperties::Json(std::string table_name) {
  return TableProperties{std::move(table_name), RecordFormat::kJson, {}};
}

TableProperties TableProperties::Proto(std::string table_name,
                                       const google::protobuf::Descriptor* descriptor) {
  TableProperties table{std::move(table_name), RecordFormat::kProto, {}};
  if (descriptor != nullptr) table.descriptor_proto = DescriptorProtoFor(descriptor).SerializeAsString();
  return table;
}

google::protobuf::DescriptorProto DescriptorProtoFor(const google::protobuf::Descriptor* descriptor) {
  return Flattener(descriptor).Take();
}

}  // namespace nobus
