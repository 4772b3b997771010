#include "auth/auth_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "auth/crypto.h"

namespace nobus::auth {
namespace {

constexpr std::string_view kKeySuffix = ".key";

// An exclusive flock on <dir>/.lock for the object's lifetime.
class DirLock {
 public:
  static absl::StatusOr<DirLock> Acquire(const std::string& dir) {
    std::string path = env::JoinPath(dir, ".lock");
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || ::flock(fd, LOCK_EX) != 0) {
      int err = errno;
      if (fd >= 0) ::close(fd);
      return absl::UnavailableError(Cat("cannot lock ", path, ": ", std::strerror(err)));
    }
    return DirLock(fd);
  }
  DirLock(DirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

int64_t KeyCreatedMs(std::string_view id) {
  int64_t v = 0;
  for (char c : id.substr(1)) v = v * 10 + (c - '0');
  return v;
}

bool IsKeyFileName(std::string_view name) {
  if (name.size() <= kKeySuffix.size() + 1 || name[0] != 'k' || !name.ends_with(kKeySuffix))
    return false;
  std::string_view digits = name.substr(1, name.size() - 1 - kKeySuffix.size());
  return digits.size() <= 18 &&
         std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

absl::Status WritePrivate(env::FileSystem* fs, const std::string& path, std::string_view data) {
  NOBUS_RETURN_IF_ERROR(fs->PutAtomically(path, data));
  ::chmod(path.c_str(), 0600);
  return absl::OkStatus();
}

absl::StatusOr<std::string> AddKey(env::FileSystem* fs, env::Clock* clock, const std::string& dir,
                                   int64_t not_before_ms) {
  int64_t created = std::max(clock->NowMillis(), not_before_ms + 1);
  std::string id = Cat("k", created);
  NOBUS_RETURN_IF_ERROR(WritePrivate(fs, env::JoinPath(SigningKeyDir(dir), Cat(id, kKeySuffix)),
                                     Base64UrlEncode(RandomBytes(32)) + "\n"));
  return id;
}

}  // namespace

std::string PolicyFile(const std::string& dir) { return env::JoinPath(dir, "principals.json"); }
std::string SigningKeyDir(const std::string& dir) { return env::JoinPath(dir, "signing-keys"); }

absl::Status InitAuthDir(env::FileSystem* fs, env::Clock* clock, const std::string& dir) {
  NOBUS_RETURN_IF_ERROR(fs->CreateDirs(SigningKeyDir(dir)));
  ::chmod(dir.c_str(), 0700);
  NOBUS_ASSIGN_OR_RETURN(DirLock lock, DirLock::Acquire(dir));
  NOBUS_ASSIGN_OR_RETURN(std::vector<SigningKey> keys, LoadSigningKeys(fs, dir));
  if (keys.empty()) NOBUS_RETURN_IF_ERROR(AddKey(fs, clock, dir, 0).status());
  return absl::OkStatus();
}

absl::StatusOr<Policy> LoadPolicyFile(env::FileSystem* fs, const std::string& dir) {
  std::string path = PolicyFile(dir);
  absl::StatusOr<std::string> text = env::ReadFile(fs, path);
  if (absl::IsNotFound(text.status())) return Policy{};
  NOBUS_RETURN_IF_ERROR(text.status());
  return PolicyFromJson(*text, path, /*declared=*/false);
}

absl::Status UpdatePolicyFile(env::FileSystem* fs, const std::string& dir,
                              const std::function<absl::Status(Policy*)>& change) {
  NOBUS_RETURN_IF_ERROR(fs->CreateDirs(dir));
  ::chmod(dir.c_str(), 0700);
  NOBUS_ASSIGN_OR_RETURN(DirLock lock, DirLock::Acquire(dir));
  NOBUS_ASSIGN_OR_RETURN(Policy policy, LoadPolicyFile(fs, dir));
  NOBUS_RETURN_IF_ERROR(change(&policy));
  return WritePrivate(fs, PolicyFile(dir), PolicyToJson(policy));
}

absl::StatusOr<std::vector<SigningKey>> LoadSigningKeys(env::FileSystem* fs,
                                                        const std::string& dir) {
  std::string key_dir = SigningKeyDir(dir);
  absl::StatusOr<std::vector<std::string>> names = fs->ListDir(key_dir);
  if (absl::IsNotFound(names.status())) return std::vector<SigningKey>{};
  NOBUS_RETURN_IF_ERROR(names.status());
  std::vector<SigningKey> keys;
  for (const std::string& name : *names) {
    if (!IsKeyFileName(name)) continue;
    std::string path = env::JoinPath(key_dir, name);
    NOBUS_ASSIGN_OR_RETURN(std::string text, env::ReadFile(fs, path));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    std::optional<std::string> secret = Base64UrlDecode(text);
    if (!secret || secret->size() < 32)
      return absl::DataLossError(Cat("signing key ", path,
                                     " is not 32+ base64url bytes: delete it and run `nobus key "
                                     "rotate`"));
    keys.push_back({name.substr(0, name.size() - kKeySuffix.size()), *secret});
  }
  std::sort(keys.begin(), keys.end(), [](const SigningKey& a, const SigningKey& b) {
    return KeyCreatedMs(a.id) < KeyCreatedMs(b.id);
  });
  return keys;
}

absl::StatusOr<std::string> RotateSigningKey(env::FileSystem* fs, env::Clock* clock,
                                             const std::string& dir, int64_t retire_after_s) {
  NOBUS_RETURN_IF_ERROR(fs->CreateDirs(SigningKeyDir(dir)));
  NOBUS_ASSIGN_OR_RETURN(DirLock lock, DirLock::Acquire(dir));
  NOBUS_ASSIGN_OR_RETURN(std::vector<SigningKey> keys, LoadSigningKeys(fs, dir));
  NOBUS_ASSIGN_OR_RETURN(std::string id,
                         AddKey(fs, clock, dir, keys.empty() ? 0 : KeyCreatedMs(keys.back().id)));
  // Key i was superseded when key i+1 was created.
  const int64_t now_ms = clock->NowMillis();
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    if (now_ms - KeyCreatedMs(keys[i + 1].id) < retire_after_s * 1000) continue;
    NOBUS_RETURN_IF_ERROR(
        fs->Delete(env::JoinPath(SigningKeyDir(dir), Cat(keys[i].id, kKeySuffix))));
  }
  NOBUS_RETURN_IF_ERROR(fs->SyncDir(SigningKeyDir(dir)));
  return id;
}

}  // namespace nobus::auth
