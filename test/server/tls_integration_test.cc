// TLS on both of nobusd's listeners with certificates from `nobus dev-certs`: SDK-style clients
// over TLS, a plaintext client and an untrusted CA refused (the server keeps serving), mutual TLS,
// bad certificate files refused at start, and new certificates taken on SIGHUP without dropping
// an open stream.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "cli_run.h"
#include "env/env.h"
#include "server_fixture.h"

namespace nobus::server::testing {
namespace {

constexpr const char* kTable = "main.default.events";

std::string ReadText(const std::string& path) {
  return env::ReadFile(env::PosixFileSystem(), path).value_or("");
}

// A gRPC channel to `address` trusting `ca_file`, optionally presenting a client certificate.
std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const std::string& ca_file,
                                          const std::string& cert_dir = "") {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadText(ca_file);
  if (!cert_dir.empty()) {
    ssl.pem_cert_chain = ReadText(cert_dir + "/client.pem");
    ssl.pem_private_key = ReadText(cert_dir + "/client.key");
  }
  grpc::ChannelArguments args;
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

bool Connects(const std::shared_ptr<grpc::Channel>& channel) {
  return channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

// GET /healthz over https trusting `ca_file`: the status, 0 when the handshake failed.
int HttpsHealth(const Nobusd& server, const std::string& ca_file) {
  httplib::Client client("https://" + server.http_address());
  client.set_ca_cert_path(ca_file.c_str());
  client.enable_server_certificate_verification(true);
  client.set_connection_timeout(5);
  auto res = client.Get("/healthz");
  return res ? res->status : 0;
}

class TlsTest : public ServerTest {
 protected:
  void SetUp() override {
    certs_ = DevCerts("certs");
    other_ = DevCerts("other");
  }
  std::string DevCerts(const std::string& name) {
    std::string dir = dir_.path() + "/" + name;
    auto r = cli::testing::RunNobus("dev-certs '" + dir + "'", dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return dir;
  }
  void Start(std::vector<std::string> extra = {}, bool client_cert = false) {
    NobusdOptions options;
    options.data_dir = dir_.path() + "/data";
    options.tls_ca_file = certs_ + "/ca.pem";
    if (client_cert) {
      options.tls_client_cert_file = certs_ + "/client.pem";
      options.tls_client_key_file = certs_ + "/client.key";
    }
    options.extra_args = {"--tls-cert", certs_ + "/server.pem", "--tls-key", certs_ + "/server.key"};
    options.extra_args.insert(options.extra_args.end(), extra.begin(), extra.end());
    auto started = Nobusd::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    stub_ = server_->NewStub();
  }
  std::string certs_;
  std::string other_;
};

TEST_F(TlsTest, StreamsTableApiAndRestWorkOverTls) {
  Start();
  MakeTable(kTable, "id BIGINT NOT NULL");
  TestStream s(stub_.get());
  ASSERT_FALSE(s.Create(kTable, zb::JSON).empty()) << s.Finish().error_message();
  ASSERT_TRUE(s.Send(JsonRecord(0, R"({"id": 1})")));
  ASSERT_TRUE(s.WaitForAck(0));
  EXPECT_TRUE(s.CloseAndFinish().ok());
  EXPECT_EQ(HttpCall(*server_, "POST", Cat("/zerobus/v1/tables/", kTable, "/insert"),
                     R"([{"id": 2}])")
                .status,
            200);
  EXPECT_EQ(StopAndReadRows(kTable), (std::vector<std::string>{R"({"id":1})", R"({"id":2})"}));
}

TEST_F(TlsTest, PlaintextClientsAndUntrustedCasAreRefusedAndTheServerKeepsServing) {
  Start();
  auto plain = grpc::CreateChannel(server_->grpc_address(), grpc::InsecureChannelCredentials());
  EXPECT_FALSE(Connects(plain));
  EXPECT_FALSE(Connects(TlsChannel(server_->grpc_address(), other_ + "/ca.pem")));
  httplib::Client http("http://" + server_->http_address());
  http.set_connection_timeout(5);
  http.set_read_timeout(5);
  auto res = http.Get("/healthz");
  EXPECT_TRUE(!res || res->status != 200);
  EXPECT_EQ(HttpsHealth(*server_, other_ + "/ca.pem"), 0);
  EXPECT_TRUE(Connects(TlsChannel(server_->grpc_address(), certs_ + "/ca.pem")));
  EXPECT_EQ(HttpsHealth(*server_, certs_ + "/ca.pem"), 200);
}

// The first bytes a TLS client sends (its ClientHello), made with OpenSSL over memory BIOs.
std::string ClientHello() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_connect(ssl);  // writes the ClientHello into `out`, then wants to read
  char* data = nullptr;
  long n = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

// Sends `bytes` to `address` over plain TCP and closes at once, without reading.
void SendAndHangUp(const std::string& address, const std::string& bytes) {
  size_t colon = address.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0)
    (void)!send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  close(fd);
}

// Clients that start a handshake and hang up: nobusd then writes into closed connections (its
// handshake answer, an alert) on both listeners and must keep serving everyone else.
TEST_F(TlsTest, ClientsHangingUpMidHandshakeDoNotHurtTheServer) {
  Start();
  const std::string hello = ClientHello();
  ASSERT_FALSE(hello.empty());
  for (int i = 0; i < 50; ++i) {
    SendAndHangUp(server_->http_address(), hello);
    SendAndHangUp(server_->grpc_address(), hello);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(HttpsHealth(*server_, certs_ + "/ca.pem"), 200);
  EXPECT_TRUE(Connects(TlsChannel(server_->grpc_address(), certs_ + "/ca.pem")));
}

TEST_F(TlsTest, MutualTlsNeedsAClientCertificateFromTheCa) {
  Start({"--tls-client-ca", certs_ + "/ca.pem"}, /*client_cert=*/true);
  EXPECT_FALSE(Connects(TlsChannel(server_->grpc_address(), certs_ + "/ca.pem")));
  EXPECT_FALSE(Connects(TlsChannel(server_->grpc_address(), certs_ + "/ca.pem", other_)));
  EXPECT_TRUE(Connects(TlsChannel(server_->grpc_address(), certs_ + "/ca.pem", certs_)));
  EXPECT_EQ(HttpsHealth(*server_, certs_ + "/ca.pem"), 0);  // no client certificate
  httplib::Client client("https://" + server_->http_address(), certs_ + "/client.pem",
                         certs_ + "/client.key");
  client.set_ca_cert_path((certs_ + "/ca.pem").c_str());
  client.enable_server_certificate_verification(true);
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
}

TEST_F(TlsTest, NobusCommandsTrustTheCaGivenAndSayWhatToDoWithout) {
  Start();
  const std::string https = "https://localhost:";
  std::string grpc_port = server_->grpc_address().substr(server_->grpc_address().rfind(':') + 1);
  std::string http_port = server_->http_address().substr(server_->http_address().rfind(':') + 1);
  auto create = cli::testing::RunNobus(
      Cat("table create ", kTable, " --columns 'id BIGINT NOT NULL' --server ", https, http_port,
          " --ca-cert '", certs_, "/ca.pem'"),
      dir_.path());
  ASSERT_EQ(create.exit_code, 0) << create.err;
  cli::testing::WriteFile(dir_.path() + "/in.jsonl", "{\"id\": 5}\n");
  auto ingest = cli::testing::RunNobus(Cat("ingest ", kTable, " '", dir_.path(),
                                           "/in.jsonl' --server ", https, grpc_port,
                                           " --ca-cert '", certs_, "/ca.pem'"),
                                       dir_.path());
  EXPECT_EQ(ingest.exit_code, 0) << ingest.err;
  auto untrusted = cli::testing::RunNobus(
      Cat("table get ", kTable, " --server ", https, http_port), dir_.path());
  EXPECT_EQ(untrusted.exit_code, 1);
  EXPECT_NE(untrusted.err.find("--ca-cert"), std::string::npos) << untrusted.err;
  EXPECT_EQ(StopAndReadRows(kTable), std::vector<std::string>{R"({"id":5})"});
}

TEST_F(TlsTest, DevCertsRefusesToOverwriteWithoutForce) {
  std::string before = ReadText(certs_ + "/ca.pem");
  auto again = cli::testing::RunNobus("dev-certs '" + certs_ + "'", dir_.path());
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  EXPECT_EQ(ReadText(certs_ + "/ca.pem"), before);
  auto forced = cli::testing::RunNobus("dev-certs --force --host nobus.example '" + certs_ + "'",
                                       dir_.path());
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(ReadText(certs_ + "/ca.pem"), before);
  EXPECT_EQ(std::filesystem::status(certs_ + "/server.key").permissions() &
                std::filesystem::perms::others_read,
            std::filesystem::perms::none);
}

TEST_F(TlsTest, BadCertificateFilesAreRefusedAtStart) {
  std::string out;
  std::ofstream(dir_.path() + "/garbage.pem") << "not a certificate";
  EXPECT_EQ(Nobusd::RunToExit({"--data-dir", dir_.path() + "/d", "--tls-cert",
                               dir_.path() + "/garbage.pem", "--tls-key", certs_ + "/server.key"},
                              &out),
            2);
  EXPECT_NE(out.find("garbage.pem"), std::string::npos) << out;
  EXPECT_EQ(Nobusd::RunToExit({"--data-dir", dir_.path() + "/d", "--tls-cert",
                               certs_ + "/server.pem", "--tls-key", other_ + "/server.key"},
                              &out),
            2);
  EXPECT_NE(out.find("does not match"), std::string::npos) << out;
  EXPECT_EQ(Nobusd::RunToExit({"--data-dir", dir_.path() + "/d", "--tls-cert",
                               certs_ + "/server.pem"},
                              &out),
            2);
  EXPECT_NE(out.find("--tls-key"), std::string::npos) << out;
}

TEST_F(TlsTest, NewCertificatesAreTakenOnSighupWithoutDroppingStreams) {
  Start();
  MakeTable(kTable, "id BIGINT NOT NULL");
  TestStream s(stub_.get());
  ASSERT_FALSE(s.Create(kTable, zb::JSON).empty());
  ASSERT_TRUE(s.Send(JsonRecord(0, R"({"id": 1})")));
  ASSERT_TRUE(s.WaitForAck(0));
  // The operator replaces the files (a new CA here, so the change is visible) and sends SIGHUP.
  for (const char* f : {"server.pem", "server.key"})
    std::filesystem::copy_file(other_ + "/" + f, certs_ + "/" + f,
                               std::filesystem::copy_options::overwrite_existing);
  server_->Signal(SIGHUP);
  bool http_new = false, grpc_new = false;
  for (int i = 0; i < 100 && !(http_new && grpc_new); ++i) {
    http_new = http_new || HttpsHealth(*server_, other_ + "/ca.pem") == 200;
    grpc_new = grpc_new || Connects(TlsChannel(server_->grpc_address(), other_ + "/ca.pem"));
    if (!(http_new && grpc_new)) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(http_new);
  EXPECT_TRUE(grpc_new);
  EXPECT_EQ(HttpsHealth(*server_, certs_ + "/ca.pem"), 0);  // the old CA no longer matches
  ASSERT_TRUE(s.Send(JsonRecord(1, R"({"id": 2})")));       // the open stream carries on
  ASSERT_TRUE(s.WaitForAck(1));
  EXPECT_TRUE(s.CloseAndFinish().ok());
  EXPECT_NE(server_->Log().find("reloaded"), std::string::npos);
}

}  // namespace
}  // namespace nobus::server::testing
