#include "table_reader.h"

#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "env/env.h"
#include "schema/types.h"

namespace nobus::delta::testing {
namespace {

absl::StatusOr<nlohmann::json> RunNode(const std::string& script, const std::string& arg) {
  std::string err_path = Cat(arg, ".stderr");
  std::string cmd =
      Cat("node '", NOBUS_SOURCE_DIR, "/", script, "' '", arg, "' 2>'", err_path, "'");
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError(Cat("popen failed: ", cmd));
  std::string out;
  char buf[1 << 16];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), pipe)) > 0;) out.append(buf, n);
  int status = pclose(pipe);
  std::string err = env::ReadFile(env::PosixFileSystem(), err_path).value_or("");
  std::filesystem::remove(err_path);
  if (status != 0)
    return absl::InternalError(Cat(script, " failed (exit ", WEXITSTATUS(status), "): ", err));
  nlohmann::json doc = nlohmann::json::parse(out, nullptr, false);
  if (doc.is_discarded())
    return absl::InternalError(Cat("unexpected output: ", out.substr(0, 500)));
  return doc;
}

}  // namespace

absl::StatusOr<nlohmann::json> ReadTableWithDuckdb(
    const Snapshot& snapshot, const std::string& table_root,
    const std::optional<std::vector<std::string>>& expected) {
  nlohmann::json input;
  input["files"] = nlohmann::json::array();
  for (const auto& [path, add] : snapshot.files()) {
    nlohmann::json pv = nlohmann::json::object();
    for (const auto& [k, v] : add.partition_values)
      pv[k] = v ? nlohmann::json(*v) : nlohmann::json(nullptr);
    input["files"].push_back({{"path", Cat(table_root, "/", path)}, {"partitionValues", pv}});
  }
  const auto& partitions = snapshot.metadata().partition_columns;
  input["columns"] = nlohmann::json::array();
  for (const schema::Field& f : snapshot.schema().fields) {
    bool partition = std::find(partitions.begin(), partitions.end(), f.name) != partitions.end();
    input["columns"].push_back(
        {{"name", f.name}, {"type", schema::TypeName(f.type)}, {"partition", partition}});
  }
  if (expected) input["expected"] = *expected;
  std::string input_path = Cat(std::filesystem::temp_directory_path().string(),
                               "/nobus-read-table-", getpid(), "-", std::rand(), ".json");
  NOBUS_RETURN_IF_ERROR(env::WriteFileDurably(env::PosixFileSystem(), input_path, input.dump()));
  absl::StatusOr<nlohmann::json> out = RunNode("test/delta/read_table.mjs", input_path);
  std::filesystem::remove(input_path);
  return out;
}

absl::StatusOr<nlohmann::json> ReadParquetWithAllReaders(const std::string& path) {
  return RunNode("test/readers/read_parquet.mjs", path);
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "nobus-delta-XXXXXX").string();
  char* made = mkdtemp(pattern.data());
  if (made != nullptr) path_ = made;
}

void KeepTablesForReaders(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::path corpus;
  if (const char* env_corpus = std::getenv("NOBUS_READER_CORPUS")) {
    corpus = env_corpus;
  } else if (const char* bin_dir = std::getenv("NOBUS_BIN_DIR")) {
    corpus = fs::path(bin_dir).parent_path() / "reader-corpus";
  }
  std::error_code ec;
  if (corpus.empty() || !fs::is_directory(corpus, ec) || !fs::is_directory(dir, ec)) return;
  static std::atomic<int> copies{0};
  fs::path into = corpus / Cat(program_invocation_short_name, "-", getpid(), "-", copies++);
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_directory() || !fs::is_directory(it->path() / "_delta_log")) continue;
    fs::path target = into / fs::relative(it->path(), dir);
    fs::create_directories(target, ec);
    if (!ec) fs::copy(it->path(), target, fs::copy_options::recursive, ec);
    if (ec) std::fprintf(stderr, "reader corpus: cannot copy %s: %s\n", it->path().c_str(),
                         ec.message().c_str());
    it.disable_recursion_pending();
    ec.clear();
  }
}

TempDir::~TempDir() {
  if (path_.empty() || keep_) return;
  KeepTablesForReaders(path_);
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace nobus::delta::testing
