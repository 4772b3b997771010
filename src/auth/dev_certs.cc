#include "auth/dev_certs.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace nobus::auth {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;

absl::Status Failed(std::string_view what) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  char buf[256] = "no details";
  if (code != 0) ERR_error_string_n(code, buf, sizeof(buf));
  return absl::InternalError(Cat("dev-certs: ", what, " failed: ", buf));
}

absl::StatusOr<Key> NewKey() {
  Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return Failed("generating a P-256 key");
  return key;
}

bool IsIp(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return Failed(Cat("extension ", OBJ_nid2sn(nid), "=", value));
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? absl::OkStatus() : Failed("adding an extension");
}

struct Profile {
  std::string common_name;
  std::vector<std::pair<int, std::string>> extensions;
};

// A certificate for `key` signed by `issuer_key` (`issuer` null: self-signed).
absl::StatusOr<Cert> Issue(const Profile& profile, EVP_PKEY* key, X509* issuer,
                           EVP_PKEY* issuer_key, int days) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  BIGNUM* serial = BN_new();
  BN_rand(serial, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("nobus dev"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(profile.common_name.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), key);
  X509* issuer_cert = issuer ? issuer : cert.get();
  for (const auto& [nid, value] : profile.extensions)
    NOBUS_RETURN_IF_ERROR(AddExtension(cert.get(), issuer_cert, nid, value));
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return Failed("signing");
  return cert;
}

absl::Status WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return absl::UnavailableError(Cat("cannot write ", path));
  if (key != nullptr) ::fchmod(fileno(f), 0600);
  bool ok = cert ? PEM_write_X509(f, cert) == 1
                 : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  ok = std::fclose(f) == 0 && ok;
  return ok ? absl::OkStatus() : absl::UnavailableError(Cat("cannot write ", path));
}

}  // namespace

absl::Status WriteDevCerts(const std::string& dir, const DevCertsOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(Cat("cannot create ", dir, ": ", ec.message()));
  const char* kFiles[] = {"ca.pem", "ca.key", "server.pem", "server.key", "client.pem",
                          "client.key"};
  for (const char* f : kFiles) {
    std::string path = Cat(dir, "/", f);
    if (!options.force && std::filesystem::exists(path))
      return absl::AlreadyExistsError(
          Cat(path, " already exists: pass --force to replace the certificates, or pick another "
                    "directory"));
  }
  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
  for (const std::string& h : options.extra_hosts) san += Cat(",", IsIp(h) ? "IP:" : "DNS:", h);
  NOBUS_ASSIGN_OR_RETURN(Key ca_key, NewKey());
  NOBUS_ASSIGN_OR_RETURN(Key server_key, NewKey());
  NOBUS_ASSIGN_OR_RETURN(Key client_key, NewKey());
  Profile ca{"nobus dev CA",
             {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
              {NID_key_usage, "critical,keyCertSign,cRLSign"},
              {NID_subject_key_identifier, "hash"}}};
  Profile server{"localhost",
                 {{NID_basic_constraints, "critical,CA:FALSE"},
                  {NID_key_usage, "critical,digitalSignature"},
                  {NID_ext_key_usage, "serverAuth"},
                  {NID_subject_alt_name, san},
                  {NID_subject_key_identifier, "hash"},
                  {NID_authority_key_identifier, "keyid:always"}}};
  Profile client{"nobus-dev-client",
                 {{NID_basic_constraints, "critical,CA:FALSE"},
                  {NID_key_usage, "critical,digitalSignature"},
                  {NID_ext_key_usage, "clientAuth"},
                  {NID_subject_key_identifier, "hash"},
                  {NID_authority_key_identifier, "keyid:always"}}};
  NOBUS_ASSIGN_OR_RETURN(Cert ca_cert, Issue(ca, ca_key.get(), nullptr, ca_key.get(), options.days));
  NOBUS_ASSIGN_OR_RETURN(Cert server_cert, Issue(server, server_key.get(), ca_cert.get(),
                                                 ca_key.get(), options.days));
  NOBUS_ASSIGN_OR_RETURN(Cert client_cert, Issue(client, client_key.get(), ca_cert.get(),
                                                 ca_key.get(), options.days));
  NOBUS_RETURN_IF_ERROR(WritePem(Cat(dir, "/ca.key"), nullptr, ca_key.get()));
  NOBUS_RETURN_IF_ERROR(WritePem(Cat(dir, "/ca.pem"), ca_cert.get(), nullptr));
  NOBUS_RETURN_IF_ERROR(WritePem(Cat(dir, "/server.key"), nullptr, server_key.get()));
  NOBUS_RETURN_IF_ERROR(WritePem(Cat(dir, "/server.pem"), server_cert.get(), nullptr));
  NOBUS_RETURN_IF_ERROR(WritePem(Cat(dir, "/client.key"), nullptr, client_key.get()));
  return WritePem(Cat(dir, "/client.pem"), client_cert.get(), nullptr);
}

}  // namespace nobus::auth
