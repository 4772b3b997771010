#include "common/uuid.h"

#include <gtest/gtest.h>

#include <set>

namespace nobus {
namespace {

TEST(UuidTest, IsACanonicalVersion4Uuid) {
  std::string id = NewUuid();
  ASSERT_EQ(id.size(), 36u) << id;
  for (size_t i : {8, 13, 18, 23}) EXPECT_EQ(id[i], '-') << id;
  EXPECT_EQ(id[14], '4') << "version nibble: " << id;
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << "variant nibble: " << id;
  for (char c : id)
    EXPECT_TRUE(c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
}

TEST(UuidTest, DrawsDifferentIds) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(NewUuid());
  EXPECT_EQ(ids.size(), 1000u);
}

}  // namespace
}  // namespace nobus
