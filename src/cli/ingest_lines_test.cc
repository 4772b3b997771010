#include "cli/ingest_lines.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace nobus::cli {
namespace {

class LineSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("nobus-lines-" + std::to_string(::getpid()) + ".jsonl"))
                .string();
  }
  void TearDown() override { std::filesystem::remove(path_); }

  std::unique_ptr<LineSource> Open(const std::string& text, int64_t batch_size) {
    std::ofstream(path_, std::ios::binary) << text;
    auto source = LineSource::Open(path_, batch_size, &failures_);
    EXPECT_TRUE(source.ok()) << source.status();
    return source.ok() ? std::move(*source) : nullptr;
  }

  std::string path_;
  Progress progress_{[] { return ProgressSample{}; }, false};
  FailureLog failures_{&progress_};
};

TEST_F(LineSourceTest, BatchesValidLinesWithTheirNumbers) {
  auto source = Open("{\"id\":1}\n{\"id\":2}\r\n\n{\"id\":3}\n", 2);
  Pending p;
  ASSERT_TRUE(source->Next(&p));
  EXPECT_EQ(p.lines, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(p.records, (std::vector<std::string>{"{\"id\":1}", "{\"id\":2}"}));
  EXPECT_EQ(p.bytes, 16);
  ASSERT_TRUE(source->Next(&p));
  EXPECT_EQ(p.lines, (std::vector<int64_t>{4}));
  EXPECT_FALSE(source->Next(&p));
  EXPECT_TRUE(failures_.lines().empty());
  EXPECT_EQ(source->lines_read(), 4);
}

TEST_F(LineSourceTest, ReportsLinesThatAreNotJsonObjects) {
  auto source = Open("{\"id\":1}\nnot json\n[1,2]\n{\"id\":\n{\"id\":5}\n", 100);
  Pending p;
  ASSERT_TRUE(source->Next(&p));
  EXPECT_EQ(p.lines, (std::vector<int64_t>{1, 5}));
  EXPECT_EQ(failures_.lines(), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(source->invalid_lines(), 3);
}

TEST_F(LineSourceTest, CapsBatchesAtOneMebibyte) {
  const std::string big = "{\"p\":\"" + std::string(400'000, 'x') + "\"}\n";
  auto source = Open(big + big + big + big + big, 1000);
  Pending p;
  std::vector<size_t> sizes;
  while (source->Next(&p)) {
    EXPECT_LE(p.bytes, LineSource::kMaxBatchBytes);
    sizes.push_back(p.records.size());
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{2, 2, 1}));
}

TEST_F(LineSourceTest, NonBlankLinesComeUncheckedWithTheirNumbers) {
  auto source = Open("{\"id\":1}\n\n  \t\nnot json\r\n{\"id\":5}", 1);
  int64_t line_no = 0;
  std::string line;
  ASSERT_TRUE(source->NextNonBlank(&line_no, &line));
  EXPECT_EQ(line_no, 1);
  EXPECT_EQ(source->Problem(line), "");
  ASSERT_TRUE(source->NextNonBlank(&line_no, &line));
  EXPECT_EQ(line_no, 4);
  EXPECT_EQ(line, "not json");
  EXPECT_NE(source->Problem(line).find("not a JSON object"), std::string::npos);
  ASSERT_TRUE(source->NextNonBlank(&line_no, &line));
  EXPECT_EQ(line_no, 5);
  EXPECT_EQ(line, "{\"id\":5}");  // no newline at the end of the file
  EXPECT_FALSE(source->NextNonBlank(&line_no, &line));
  EXPECT_TRUE(failures_.lines().empty());  // nothing is reported in this mode
  EXPECT_EQ(source->invalid_lines(), 0);
}

TEST_F(LineSourceTest, MissingFileIsInvalidArgument) {
  auto source = LineSource::Open(path_ + ".missing", 10, &failures_);
  EXPECT_TRUE(absl::IsInvalidArgument(source.status())) << source.status();
}

TEST(LineRangeTest, SingleLineAndBatch) {
  EXPECT_EQ(LineRange({7}), "line 7");
  EXPECT_EQ(LineRange({3, 4, 9}), "lines 3-9 (a batch of 3 records)");
}

}  // namespace
}  // namespace nobus::cli
