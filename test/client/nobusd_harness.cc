#include "nobusd_harness.h"

#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "env/env.h"
#include "table_reader.h"

namespace nobus::client::testing {
namespace {

std::string NobusdBinary() {
  const char* dir = std::getenv("NOBUS_BIN_DIR");
  return std::string(dir != nullptr ? dir : "build/bin") + "/nobusd";
}

std::string TableRoot(const std::string& data_dir, const std::string& full_name) {
  std::string path = data_dir + "/tables";
  std::stringstream parts(full_name);
  for (std::string part; std::getline(parts, part, '.');) path += "/" + part;
  return path;
}

// Reads `fd` until a line starting with `prefix` arrives; empty after `timeout`.
std::string ReadLine(int fd, const std::string& prefix, std::chrono::seconds timeout) {
  std::string buffer;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (size_t start = 0, nl; (nl = buffer.find('\n', start)) != std::string::npos;
         start = nl + 1) {
      std::string line = buffer.substr(start, nl - start);
      if (line.rfind(prefix, 0) == 0) return line;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char chunk[1024];
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n <= 0) return "";
    buffer.append(chunk, static_cast<size_t>(n));
  }
  return "";
}

std::string Field(const std::string& line, const std::string& key) {
  size_t at = line.find(key + "=");
  if (at == std::string::npos) return "";
  at += key.size() + 1;
  return line.substr(at, line.find(' ', at) - at);
}

absl::StatusOr<std::string> RunNode(const std::string& args) {
  std::string cmd = "node " + args + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("popen failed: " + cmd);
  std::string out;
  char buf[1 << 16];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) out.append(buf, n);
  int status = ::pclose(pipe);
  if (status != 0) return absl::InternalError(Cat(cmd, " failed: ", out.substr(0, 2000)));
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NobusdProcess>> NobusdProcess::Start(NobusdFlags flags) {
  auto process = std::unique_ptr<NobusdProcess>(new NobusdProcess());
  process->log_path_ = flags.data_dir + ".nobusd.log";
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe2", "nobusd stdout");
  std::string binary = NobusdBinary();
  std::vector<std::string> args = {binary,
                                   "--data-dir", flags.data_dir,
                                   "--grpc-listen", flags.grpc_listen,
                                   "--http-listen", flags.http_listen,
                                   "--flush-interval-ms", std::to_string(flags.flush_interval_ms)};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    int log = ::open(process->log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) ::dup2(log, 2);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    std::_Exit(127);
  }
  ::close(out[1]);
  if (pid < 0) {
    ::close(out[0]);
    return ErrnoToStatus(errno, "fork", binary);
  }
  process->pid_ = pid;
  std::string line = ReadLine(out[0], "nobusd listening", std::chrono::seconds(30));
  ::close(out[0]);  // nobusd prints nothing else on stdout
  process->grpc_address_ = Field(line, "grpc");
  process->http_address_ = Field(line, "http");
  if (process->grpc_address_.empty() || process->http_address_.empty())
    return absl::UnavailableError(Cat(binary, " did not start: ", process->Log()));
  httplib::Client http(process->http_address_);
  for (int i = 0; i < 600; ++i) {
    httplib::Result res = http.Get("/healthz");
    if (res && res->status == 200) return process;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return absl::UnavailableError(Cat("nobusd never became healthy: ", process->Log()));
}

NobusdProcess::~NobusdProcess() { Kill(); }

void NobusdProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string NobusdProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status NobusdProcess::CreateTable(const std::string& full_name,
                                        const std::vector<Column>& columns) const {
  size_t d1 = full_name.find('.');
  size_t d2 = full_name.find('.', d1 + 1);
  nlohmann::json cols = nlohmann::json::array();
  for (size_t i = 0; i < columns.size(); ++i) {
    cols.push_back({{"name", columns[i].name},
                    {"type_text", columns[i].type_text},
                    {"nullable", columns[i].nullable},
                    {"position", i}});
  }
  nlohmann::json body = {{"catalog_name", full_name.substr(0, d1)},
                         {"schema_name", full_name.substr(d1 + 1, d2 - d1 - 1)},
                         {"name", full_name.substr(d2 + 1)},
                         {"table_type", "MANAGED"},
                         {"data_source_format", "DELTA"},
                         {"columns", cols}};
  httplib::Client http(http_address_);
  httplib::Result res =
      http.Post("/api/2.1/unity-catalog/tables", body.dump(), "application/json");
  if (!res) return absl::UnavailableError("create table: no HTTP reply");
  if (res->status != 200 && res->status != 201)
    return absl::InternalError(Cat("create table: HTTP ", res->status, ": ", res->body));
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> NobusdProcess::CloseAllStreams() const {
  httplib::Client http(http_address_);
  httplib::Result res = http.Post("/admin/v1/streams/close-all", "", "application/json");
  if (!res) return absl::UnavailableError("close-all: no HTTP reply");
  if (res->status != 200)
    return absl::InternalError(Cat("close-all: HTTP ", res->status, ": ", res->body));
  nlohmann::json body = nlohmann::json::parse(res->body, nullptr, false);
  return body.is_discarded() ? nlohmann::json::object() : body;
}

absl::StatusOr<std::vector<nlohmann::json>> ReadTableRows(const std::string& data_dir,
                                                          const std::string& full_name) {
  std::string root = TableRoot(data_dir, full_name);
  delta::LocalLogStore store(env::PosixFileSystem(), root);
  NOBUS_ASSIGN_OR_RETURN(delta::Snapshot snapshot, delta::Snapshot::Load(&store));
  std::vector<nlohmann::json> rows;
  if (snapshot.files().empty()) return rows;
  NOBUS_ASSIGN_OR_RETURN(nlohmann::json out, delta::testing::ReadTableWithDuckdb(snapshot, root));
  for (const auto& r : out["json_rows"]) rows.push_back(nlohmann::json::parse(r.get<std::string>()));
  return rows;
}

absl::StatusOr<std::vector<std::vector<nlohmann::json>>> ReadRowsPerFile(
    const std::string& data_dir, const std::string& full_name) {
  std::string root = TableRoot(data_dir, full_name);
  delta::LocalLogStore store(env::PosixFileSystem(), root);
  NOBUS_ASSIGN_OR_RETURN(delta::Snapshot latest, delta::Snapshot::Load(&store));
  std::vector<std::string> files;  // in commit order
  std::set<std::string> seen;
  for (int64_t v = 0; v <= latest.version(); ++v) {
    absl::StatusOr<delta::Snapshot> snapshot = delta::Snapshot::Load(&store, v);
    if (!snapshot.ok()) continue;  // cleaned up by a checkpoint
    for (const auto& [path, add] : snapshot->files())
      if (seen.insert(path).second) files.push_back(root + "/" + path);
  }
  std::vector<std::vector<nlohmann::json>> out;
  if (files.empty()) return out;
  std::string args = "test/readers/read_parquet.mjs --array";
  for (const std::string& f : files) args += " '" + f + "'";
  NOBUS_ASSIGN_OR_RETURN(std::string text, RunNode(args));
  nlohmann::json docs = nlohmann::json::parse(text, nullptr, false);
  if (!docs.is_array()) return absl::InternalError("read_parquet.mjs: " + text.substr(0, 500));
  for (const auto& doc : docs) out.push_back(doc["hyparquet"]["rows"].get<std::vector<nlohmann::json>>());
  return out;
}

ScratchDir::ScratchDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "nobus-client-XXXXXX").string();
  if (char* made = ::mkdtemp(pattern.data()); made != nullptr) path_ = made;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

}  // namespace nobus::client::testing
