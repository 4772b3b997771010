// Delta Acceptance Testing: every DAT reader case (tables written by Spark 3.3.1 / Delta 2.1.1)
// must replay to the expected version, protocol and properties, with every live file present on
// disk at the size the log records. Data lives in ../shared/testdata/dat (NOBUS_SHARED_DIR
// overrides ../shared).
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "dat_cases.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "env/env.h"

namespace nobus::delta {
namespace {

using testing::DatDir;

struct Expected {
  int64_t version = -1;
  int min_reader = 0;
  int min_writer = 0;
  StringMap properties;
};

Expected ReadExpected(const std::string& path) {
  Expected e;
  auto text = env::ReadFile(env::PosixFileSystem(), path);
  if (!text.ok()) return e;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return e;
  e.version = j.value("version", int64_t{-1});
  e.min_reader = j.value("min_reader_version", 0);
  e.min_writer = j.value("min_writer_version", 0);
  nlohmann::json properties = j.value("properties", nlohmann::json::object());
  for (const auto& [k, v] : properties.items())
    if (v.is_string()) e.properties[k] = v.get<std::string>();
  return e;
}

void CheckSnapshot(const Snapshot& snap, const Expected& e, const std::string& table) {
  EXPECT_EQ(snap.version(), e.version);
  EXPECT_EQ(snap.protocol().min_reader_version, e.min_reader);
  EXPECT_EQ(snap.protocol().min_writer_version, e.min_writer);
  EXPECT_EQ(snap.metadata().configuration, e.properties);
  EXPECT_FALSE(snap.schema().fields.empty());
  EXPECT_FALSE(snap.files().empty());
  for (const auto& [path, add] : snap.files()) {
    auto info = env::PosixFileSystem()->Stat(env::JoinPath(table, path));
    ASSERT_TRUE(info.ok()) << path << ": " << info.status();
    EXPECT_EQ(static_cast<int64_t>(info->size_bytes), add.size_bytes) << path;
    EXPECT_EQ(add.partition_values.size(), snap.metadata().partition_columns.size()) << path;
  }
}

class DatTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string CaseDir() const { return Cat(DatDir(), "/", GetParam()); }
};

TEST_P(DatTest, ReplaysToTheExpectedLatestVersion) {
  std::string table = CaseDir() + "/delta";
  FileLogStore store(env::PosixFileSystem(), table);
  auto snap = Snapshot::Load(&store);
  ASSERT_TRUE(snap.ok()) << snap.status();
  Expected e = ReadExpected(CaseDir() + "/expected/latest/table_version_metadata.json");
  ASSERT_GE(e.version, 0) << "expected metadata missing for " << GetParam();
  CheckSnapshot(*snap, e, table);
}

TEST_P(DatTest, ReplaysEveryExpectedOlderVersion) {
  std::string table = CaseDir() + "/delta";
  FileLogStore store(env::PosixFileSystem(), table);
  auto names = env::PosixFileSystem()->ListDir(CaseDir() + "/expected");
  ASSERT_TRUE(names.ok());
  for (const std::string& name : *names) {
    if (name == "latest") continue;
    Expected e = ReadExpected(Cat(CaseDir(), "/expected/", name, "/table_version_metadata.json"));
    ASSERT_GE(e.version, 0) << name;
    auto snap = Snapshot::Load(&store, e.version);
    ASSERT_TRUE(snap.ok()) << name << ": " << snap.status();
    CheckSnapshot(*snap, e, table);
  }
}

// Hides checkpoints so a snapshot is replayed from JSON commits alone.
class DatCheckpointTest : public DatTest {};

TEST_P(DatCheckpointTest, CheckpointReplayEqualsJsonReplay) {
  FileLogStore store(env::PosixFileSystem(), CaseDir() + "/delta");
  JsonOnlyLogStore json_only(&store);
  auto from_checkpoint = Snapshot::Load(&store);
  auto from_json = Snapshot::Load(&json_only);
  ASSERT_TRUE(from_checkpoint.ok()) << from_checkpoint.status();
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  EXPECT_EQ(from_checkpoint->checkpoint_version(), std::optional<int64_t>(2));
  EXPECT_EQ(from_checkpoint->protocol(), from_json->protocol());
  EXPECT_EQ(from_checkpoint->metadata(), from_json->metadata());
  EXPECT_EQ(from_checkpoint->txn_versions(), from_json->txn_versions());
  ASSERT_EQ(from_checkpoint->files().size(), from_json->files().size());
  for (const auto& [path, add] : from_json->files()) {
    auto it = from_checkpoint->files().find(path);
    ASSERT_NE(it, from_checkpoint->files().end()) << path;
    EXPECT_EQ(it->second.size_bytes, add.size_bytes);
    EXPECT_EQ(it->second.partition_values, add.partition_values);
    if (it->second.stats) {
      EXPECT_EQ(it->second.stats, add.stats);
    }
  }
  std::vector<std::string> a, b;
  for (const auto& [p, r] : from_checkpoint->tombstones()) a.push_back(p);
  for (const auto& [p, r] : from_json->tombstones()) b.push_back(p);
  EXPECT_EQ(a, b);
}

INSTANTIATE_TEST_SUITE_P(Checkpointed, DatCheckpointTest,
                         ::testing::Values("with_checkpoint", "no_stats", "stats_as_struct"));

INSTANTIATE_TEST_SUITE_P(Cases, DatTest, ::testing::ValuesIn(testing::kDatCases));

}  // namespace
}  // namespace nobus::delta
