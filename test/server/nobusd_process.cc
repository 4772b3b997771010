#include "nobusd_process.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "env/env.h"
#include "schema/ddl.h"
#include "table_reader.h"

namespace nobus::server::testing {

// Test clients talk TLS to servers that hang up on them (refused handshakes): OpenSSL writes with
// write(2), whose SIGPIPE would kill the test binary instead of failing a call.
[[maybe_unused]] const bool kSigpipeIgnored = [] {
  signal(SIGPIPE, SIG_IGN);
  return true;
}();
namespace {

constexpr int kListeningTimeoutMs = 60000;
constexpr auto kHealthyTimeout = std::chrono::seconds(60);
constexpr auto kHealthPollInterval = std::chrono::milliseconds(25);

std::string NobusdBinary() {
  const char* dir = std::getenv("NOBUS_BIN_DIR");
  return std::string(dir != nullptr ? dir : "build/bin") + "/nobusd";
}

// Execs nobusd with `args` (never returns; exit code 127 if the exec fails).
// nobusd's command line, built before fork: the child of a multi-threaded parent (the tests run
// gRPC clients) may only make async-signal-safe calls until execv. Allocating there can deadlock
// on an allocator lock another thread held at the fork, and the child then hangs silently.
class ExecLine {
 public:
  explicit ExecLine(const std::vector<std::string>& args) : bin_(NobusdBinary()), args_(args) {
    argv_.push_back(bin_.data());
    for (std::string& a : args_) argv_.push_back(a.data());
    argv_.push_back(nullptr);
  }
  // In the forked child: async-signal-safe.
  [[noreturn]] void Exec() {
    ::execv(bin_.c_str(), argv_.data());
    std::_Exit(127);
  }

 private:
  std::string bin_;
  std::vector<std::string> args_;
  std::vector<char*> argv_;
};

// Reads from `fd` until a full line starting with `prefix` arrived or `timeout_ms` passed.
std::optional<std::string> ReadLineWithPrefix(int fd, const std::string& prefix, int timeout_ms) {
  std::string buffer;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    size_t start = 0, nl;
    while ((nl = buffer.find('\n', start)) != std::string::npos) {
      std::string line = buffer.substr(start, nl - start);
      if (line.starts_with(prefix)) return line;
      start = nl + 1;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char chunk[1024];
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n <= 0) return std::nullopt;
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

std::string FieldOf(const std::string& line, const std::string& key) {
  size_t at = line.find(key + "=");
  if (at == std::string::npos) return "";
  size_t start = at + key.size() + 1;
  size_t end = line.find(' ', start);
  return line.substr(start, end == std::string::npos ? end : end - start);
}

// Runs `node ARGS` from the current directory (the repo root); returns its stdout+stderr.
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

absl::StatusOr<std::unique_ptr<Nobusd>> Nobusd::Spawn(NobusdOptions options) {
  auto server = std::unique_ptr<Nobusd>(new Nobusd());
  server->data_dir_ = options.data_dir;
  server->tls_ca_file_ = options.tls_ca_file;
  server->tls_client_cert_file_ = options.tls_client_cert_file;
  server->tls_client_key_file_ = options.tls_client_key_file;
  server->log_path_ = options.data_dir + ".nobusd.log";
  std::vector<std::string> args = {
      "--data-dir",          options.data_dir,
      "--grpc-listen",       options.grpc_listen,
      "--http-listen",       options.http_listen,
      "--flush-interval-ms", std::to_string(options.flush_interval_ms),
      "--kafka-listen",      options.kafka_listen};
  if (!options.config_json.empty()) {
    std::string config_path = options.data_dir + ".config.json";
    std::ofstream(config_path) << options.config_json;
    args.push_back("--config");
    args.push_back(config_path);
  }
  for (const std::string& a : options.extra_args) args.push_back(a);
  // Close-on-exec, so processes forked concurrently by other threads do not inherit the pipe.
  ExecLine exec(args);
  const char* log_path = server->log_path_.c_str();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe2", "nobusd stdout");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    int log = ::open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log >= 0) ::dup2(log, STDERR_FILENO);
    exec.Exec();
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    return ErrnoToStatus(errno, "fork", NobusdBinary());
  }
  server->pid_ = pid;
  server->stdout_fd_ = fds[0];
  return server;
}

absl::StatusOr<std::unique_ptr<Nobusd>> Nobusd::Start(NobusdOptions options) {
  NOBUS_ASSIGN_OR_RETURN(std::unique_ptr<Nobusd> server, Spawn(std::move(options)));
  std::optional<std::string> line =
      ReadLineWithPrefix(server->stdout_fd_, "nobusd listening ", kListeningTimeoutMs);
  if (line) {
    server->grpc_address_ = FieldOf(*line, "grpc");
    server->http_address_ = FieldOf(*line, "http");
    server->ops_address_ = FieldOf(*line, "ops");
    server->kafka_address_ = FieldOf(*line, "kafka");
  }
  if (server->grpc_address_.empty() || server->http_address_.empty())
    return absl::InternalError(
        Cat("nobusd did not print its listening line; log:\n", server->Log()));
  // Poll /healthz: recovery runs after the listeners are up.
  auto deadline = std::chrono::steady_clock::now() + kHealthyTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    httplib::Client http = server->Http();
    httplib::Result res = http.Get("/healthz");
    if (res && res->status == 200) return server;
    int status = 0;
    if (::waitpid(server->pid_, &status, WNOHANG) == server->pid_) {
      server->pid_ = -1;  // reaped: the destructor has nothing to kill
      return absl::InternalError(Cat("nobusd exited during recovery; log:\n", server->Log()));
    }
    std::this_thread::sleep_for(kHealthPollInterval);
  }
  return absl::InternalError(Cat("nobusd never became healthy; log:\n", server->Log()));
}

int Nobusd::RunToExit(const std::vector<std::string>& args, std::string* output) {
  ExecLine exec(args);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    exec.Exec();
  }
  ::close(fds[1]);
  output->clear();
  if (pid < 0) {
    ::close(fds[0]);
    return -1;
  }
  char chunk[4096];
  for (ssize_t n; (n = ::read(fds[0], chunk, sizeof(chunk))) > 0;) output->append(chunk, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Nobusd::~Nobusd() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

int Nobusd::SignalAndWait(int sig) {
  Signal(sig);
  return Wait();
}

void Nobusd::Signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int Nobusd::Wait() {
  if (pid_ <= 0) return -1;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string Nobusd::Log() const {
  std::ifstream in(log_path_);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

std::unique_ptr<zb::Zerobus::Stub> Nobusd::NewStub() const {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  // A fresh connection per stub, so tests do not share HTTP/2 connections by accident.
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  args.SetString("test-unique", std::to_string(reinterpret_cast<uintptr_t>(&args)));
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!tls_ca_file_.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = env::ReadFile(env::PosixFileSystem(), tls_ca_file_).value_or("");
    if (!tls_client_cert_file_.empty()) {
      ssl.pem_cert_chain = env::ReadFile(env::PosixFileSystem(), tls_client_cert_file_).value_or("");
      ssl.pem_private_key = env::ReadFile(env::PosixFileSystem(), tls_client_key_file_).value_or("");
    }
    credentials = grpc::SslCredentials(ssl);
  }
  return zb::Zerobus::NewStub(grpc::CreateCustomChannel(grpc_address_, credentials, args));
}

httplib::Client Nobusd::Http() const {
  httplib::Client client((tls_ca_file_.empty() ? "http://" : "https://") + http_address_,
                         tls_client_cert_file_, tls_client_key_file_);
  if (!tls_ca_file_.empty()) {
    client.set_ca_cert_path(tls_ca_file_.c_str());
    client.enable_server_certificate_verification(true);
  }
  client.set_read_timeout(120);
  return client;
}

HttpReply HttpCall(const Nobusd& server, const std::string& method, const std::string& path,
                   const std::string& body, const std::string& token) {
  httplib::Client http = server.Http();
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  httplib::Result res = method == "POST"     ? http.Post(path, headers, body, "application/json")
                        : method == "DELETE" ? http.Delete(path, headers)
                                             : http.Get(path, headers);
  HttpReply reply;
  if (!res) return reply;
  reply.status = res->status;
  reply.body = nlohmann::json::parse(res->body, nullptr, false);
  if (reply.body.is_discarded()) reply.body = {{"raw", res->body}};
  return reply;
}

HttpReply CreateTable(const Nobusd& server, const std::string& full_name, const std::string& ddl,
                      const std::vector<std::string>& partition_by, const std::string& token) {
  size_t d1 = full_name.find('.'), d2 = full_name.find('.', d1 + 1);
  auto parsed = schema::ParseDdl(ddl);
  nlohmann::json columns = nlohmann::json::array();
  if (parsed.ok()) {
    for (size_t i = 0; i < parsed->fields.size(); ++i) {
      nlohmann::json c = {{"name", parsed->fields[i].name},
                          {"type_text", schema::FormatDdlType(parsed->fields[i].type)},
                          {"nullable", parsed->fields[i].nullable}};
      for (size_t p = 0; p < partition_by.size(); ++p)
        if (partition_by[p] == parsed->fields[i].name) c["partition_index"] = p;
      columns.push_back(c);
    }
  }
  nlohmann::json body = {{"catalog_name", full_name.substr(0, d1)},
                         {"schema_name", full_name.substr(d1 + 1, d2 - d1 - 1)},
                         {"name", full_name.substr(d2 + 1)},
                         {"columns", columns}};
  return HttpCall(server, "POST", "/api/2.1/unity-catalog/tables", body.dump(), token);
}

std::string TableRoot(const std::string& data_dir, const std::string& full_name) {
  std::string path = full_name;
  for (char& c : path)
    if (c == '.') c = '/';
  return data_dir + "/tables/" + path;
}

absl::StatusOr<std::vector<std::string>> ReadRows(const std::string& data_dir,
                                                  const std::string& full_name) {
  std::string root = TableRoot(data_dir, full_name);
  delta::FileLogStore store(env::PosixFileSystem(), root);
  NOBUS_ASSIGN_OR_RETURN(delta::Snapshot snapshot, delta::Snapshot::Load(&store));
  if (snapshot.files().empty()) return std::vector<std::string>{};
  NOBUS_ASSIGN_OR_RETURN(nlohmann::json out, delta::testing::ReadTableWithDuckdb(snapshot, root));
  std::vector<std::string> rows;
  for (const auto& r : out["json_rows"]) rows.push_back(r.get<std::string>());
  return rows;
}

absl::StatusOr<std::vector<nlohmann::json>> ReadJsonRows(const std::string& data_dir,
                                                         const std::string& full_name) {
  NOBUS_ASSIGN_OR_RETURN(std::vector<std::string> texts, ReadRows(data_dir, full_name));
  std::vector<nlohmann::json> rows;
  for (const std::string& text : texts) rows.push_back(nlohmann::json::parse(text));
  return rows;
}

absl::StatusOr<std::vector<std::vector<nlohmann::json>>> ReadRowsPerFile(
    const std::string& data_dir, const std::string& full_name) {
  std::string root = TableRoot(data_dir, full_name);
  delta::FileLogStore store(env::PosixFileSystem(), root);
  NOBUS_ASSIGN_OR_RETURN(delta::Snapshot latest, delta::Snapshot::Load(&store));
  std::vector<std::string> files;  // in commit order
  std::set<std::string> seen;
  for (int64_t v = 0; v <= latest.version(); ++v) {
    absl::StatusOr<delta::Snapshot> snapshot = delta::Snapshot::Load(&store, v);
    if (!snapshot.ok()) continue;  // cleaned up by a checkpoint
    for (const auto& [path, add] : snapshot->files())  // compaction outputs (no data change) mix orders
      if (add.data_change && seen.insert(path).second) files.push_back(root + "/" + path);
  }
  std::vector<std::vector<nlohmann::json>> out;
  if (files.empty()) return out;
  std::string args = "test/readers/read_parquet.mjs --array";
  for (const std::string& f : files) args += " '" + f + "'";
  NOBUS_ASSIGN_OR_RETURN(std::string text, RunNode(args));
  nlohmann::json docs = nlohmann::json::parse(text, nullptr, false);
  if (!docs.is_array()) return absl::InternalError("read_parquet.mjs: " + text.substr(0, 500));
  for (const auto& doc : docs)
    out.push_back(doc["hyparquet"]["rows"].get<std::vector<nlohmann::json>>());
  return out;
}

}  // namespace nobus::server::testing
