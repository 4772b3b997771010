#include "auth/tls.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/logging.h"

namespace nobus::auth {
namespace {

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no details";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

struct BioCloser {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Bio = std::unique_ptr<BIO, BioCloser>;

absl::StatusOr<Bio> OpenPem(const std::string& path, std::string_view what) {
  Bio bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr)
    return absl::InvalidArgumentError(Cat(what, " ", path, " cannot be read (", OpenSslError(),
                                          "): check the path and permissions"));
  return bio;
}

// Every certificate of a PEM file, in order; InvalidArgument when there is none.
absl::StatusOr<std::vector<X509*>> ReadCertificates(const std::string& path,
                                                    std::string_view what) {
  NOBUS_ASSIGN_OR_RETURN(Bio bio, OpenPem(path, what));
  std::vector<X509*> certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.push_back(cert);
  ERR_clear_error();  // the end of the file reads as an error
  if (certs.empty())
    return absl::InvalidArgumentError(Cat(what, " ", path,
                                          " holds no PEM certificate (-----BEGIN CERTIFICATE-----)"));
  return certs;
}

}  // namespace

struct HttpTls::Identity {
  X509* leaf = nullptr;
  STACK_OF(X509)* chain = nullptr;  // intermediates after the leaf
  EVP_PKEY* key = nullptr;
  X509_STORE* client_cas = nullptr;             // mutual TLS only
  STACK_OF(X509_NAME)* client_ca_names = nullptr;  // sent in the certificate request
  ~Identity() {
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    X509_STORE_free(client_cas);
    sk_X509_NAME_pop_free(client_ca_names, X509_NAME_free);
  }
};

namespace {

absl::StatusOr<std::shared_ptr<HttpTls::Identity>> ReadIdentity(const TlsFiles& files) {
  auto id = std::make_shared<HttpTls::Identity>();
  NOBUS_ASSIGN_OR_RETURN(std::vector<X509*> certs, ReadCertificates(files.cert_file, "--tls-cert"));
  id->leaf = certs[0];
  id->chain = sk_X509_new_null();
  for (size_t i = 1; i < certs.size(); ++i) sk_X509_push(id->chain, certs[i]);
  NOBUS_ASSIGN_OR_RETURN(Bio key_bio, OpenPem(files.key_file, "--tls-key"));
  id->key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
  if (id->key == nullptr)
    return absl::InvalidArgumentError(Cat("--tls-key ", files.key_file,
                                          " holds no unencrypted PEM private key (",
                                          OpenSslError(), ")"));
  if (X509_check_private_key(id->leaf, id->key) != 1)
    return absl::InvalidArgumentError(Cat("--tls-key ", files.key_file,
                                          " does not match --tls-cert ", files.cert_file, " (",
                                          OpenSslError(), "): pass the key of that certificate"));
  if (files.client_ca_file.empty()) return id;
  NOBUS_ASSIGN_OR_RETURN(std::vector<X509*> cas,
                         ReadCertificates(files.client_ca_file, "--tls-client-ca"));
  id->client_cas = X509_STORE_new();
  id->client_ca_names = sk_X509_NAME_new_null();
  for (X509* ca : cas) {
    X509_STORE_add_cert(id->client_cas, ca);
    sk_X509_NAME_push(id->client_ca_names, X509_NAME_dup(X509_get_subject_name(ca)));
    X509_free(ca);
  }
  return id;
}

}  // namespace

absl::Status CheckTlsFiles(const TlsFiles& files) {
  return ReadIdentity(files).status();
}

std::shared_ptr<grpc::ServerCredentials> GrpcServerCredentials(const TlsFiles& files) {
  using grpc::experimental::FileWatcherCertificateProvider;
  constexpr unsigned kRefreshS = 1;
  auto provider =
      files.client_ca_file.empty()
          ? std::make_shared<FileWatcherCertificateProvider>(files.key_file, files.cert_file,
                                                             kRefreshS)
          : std::make_shared<FileWatcherCertificateProvider>(
                files.key_file, files.cert_file, files.client_ca_file, kRefreshS);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (files.client_ca_file.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

HttpTls::HttpTls(TlsFiles files) : files_(std::move(files)) {}
HttpTls::~HttpTls() = default;

absl::StatusOr<std::unique_ptr<HttpTls>> HttpTls::Load(TlsFiles files) {
  std::unique_ptr<HttpTls> tls(new HttpTls(std::move(files)));
  NOBUS_RETURN_IF_ERROR(tls->Reload());
  return tls;
}

absl::Status HttpTls::Reload() {
  NOBUS_ASSIGN_OR_RETURN(std::shared_ptr<const Identity> id, ReadIdentity(files_));
  std::lock_guard<std::mutex> l(mu_);
  current_ = std::move(id);
  return absl::OkStatus();
}

std::shared_ptr<const HttpTls::Identity> HttpTls::current() {
  std::lock_guard<std::mutex> l(mu_);
  return current_;
}

bool HttpTls::SetUp(SSL_CTX& ctx) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_cert_cb(&ctx, &HttpTls::OnCertificate, this);
  if (!files_.client_ca_file.empty())
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return true;
}

int HttpTls::OnCertificate(SSL* ssl, void* self) {
  std::shared_ptr<const Identity> id = static_cast<HttpTls*>(self)->current();
  if (SSL_use_cert_and_key(ssl, id->leaf, id->key, id->chain, /*override=*/1) != 1) {
    NOBUS_LOG_WARN("TLS handshake: cannot use the certificate: {}", OpenSslError());
    return 0;
  }
  if (id->client_cas != nullptr) {
    SSL_set1_verify_cert_store(ssl, id->client_cas);
    STACK_OF(X509_NAME)* names = sk_X509_NAME_deep_copy(id->client_ca_names, X509_NAME_dup,
                                                        X509_NAME_free);
    SSL_set_client_CA_list(ssl, names);
  }
  return 1;
}

}  // namespace nobus::auth
