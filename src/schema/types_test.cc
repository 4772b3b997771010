#include "schema/types.h"

#include "gtest/gtest.h"

namespace nobus::schema {
namespace {

TEST(Types, TypeNamesFollowSpark) {
  EXPECT_EQ(TypeName(Decimal(10, 2)), "decimal(10,2)");
  EXPECT_EQ(TypeName(Struct({{"a", Primitive(TypeKind::kInteger)},
                             {"b", Array(Primitive(TypeKind::kString))}})),
            "struct<a:integer,b:array<string>>");
  EXPECT_EQ(TypeName(Map(Primitive(TypeKind::kString), Primitive(TypeKind::kLong))),
            "map<string,long>");
}

TEST(Types, ValidateNamesTheOffendingColumn) {
  Schema dup{{{"id", Primitive(TypeKind::kLong)}, {"ID", Primitive(TypeKind::kLong)}}};
  EXPECT_EQ(Validate(dup).message(), "duplicate column name 'ID' (names are case-insensitive)");
  Schema bad_char{{{"s", Struct({{"a b", Primitive(TypeKind::kLong)}})}}};
  EXPECT_NE(Validate(bad_char).message().find("'s.a b'"), std::string::npos);
  Schema bad_dec{{{"d", Decimal(39, 2)}}};
  EXPECT_NE(Validate(bad_dec).message().find("decimal(39,2)"), std::string::npos);
  Schema bad_key{{{"m", Map(Array(Primitive(TypeKind::kLong)), Primitive(TypeKind::kLong))}}};
  EXPECT_EQ(Validate(bad_key).code(), absl::StatusCode::kInvalidArgument);
  Schema ok{{{"id", Primitive(TypeKind::kLong), false},
             {"m", Map(Primitive(TypeKind::kString), Struct({{"x", Decimal(38, 18)}}))}}};
  EXPECT_TRUE(Validate(ok).ok());
}

TEST(Types, EqualityIsDeep) {
  EXPECT_EQ(Array(Decimal(5, 1)), Array(Decimal(5, 1)));
  EXPECT_FALSE(Array(Decimal(5, 1)) == Array(Decimal(5, 2)));
  EXPECT_FALSE(Array(Decimal(5, 1), true) == Array(Decimal(5, 1), false));
}

}  // namespace
}  // namespace nobus::schema
