// The one error mechanism of nobus: absl::Status / absl::StatusOr<T> plus the macros below.
// Choose the status code by what the caller should do (see DESIGN.md, "Errors"):
//   InvalidArgument  - the input is wrong; retrying the same input cannot help.
//   NotFound         - a named thing (table, file) does not exist.
//   FailedPrecondition - state forbids the operation (sticky WAL error, unsupported protocol).
//   ResourceExhausted - a size or memory limit; may succeed later or with smaller input.
//   Unavailable      - transient; retry.
//   DataLoss         - bytes on disk are corrupt.
//   Internal         - a bug in nobus.
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define NOBUS_STATUS_CONCAT_INNER_(a, b) a##b
#define NOBUS_STATUS_CONCAT_(a, b) NOBUS_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define NOBUS_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::absl::Status nobus_status_ = (expr);         \
    if (!nobus_status_.ok()) return nobus_status_; \
  } while (0)

// `NOBUS_ASSIGN_OR_RETURN(auto x, Foo());` assigns the value of a StatusOr or returns its error.
// It expands to several statements: inside an `if`, use braces.
#define NOBUS_ASSIGN_OR_RETURN(lhs, expr) \
  NOBUS_ASSIGN_OR_RETURN_IMPL_(NOBUS_STATUS_CONCAT_(nobus_statusor_, __LINE__), lhs, expr)

#define NOBUS_ASSIGN_OR_RETURN_IMPL_(var, lhs, expr) \
  auto var = (expr);                                 \
  if (!var.ok()) return std::move(var).status();     \
  lhs = std::move(var).value()

namespace nobus {

namespace internal {
inline void AppendPiece(std::string* out, std::string_view v) { out->append(v); }
inline void AppendPiece(std::string* out, absl::string_view v) { out->append(v.data(), v.size()); }
inline void AppendPiece(std::string* out, const char* v) { out->append(v); }
inline void AppendPiece(std::string* out, const std::string& v) { out->append(v); }
inline void AppendPiece(std::string* out, char v) { out->push_back(v); }
template <typename T>
requires(std::integral<T> || std::floating_point<T>) &&
    (!std::same_as<T, char>)void AppendPiece(std::string* out, T v) {
  out->append(std::to_string(v));
}
}  // namespace internal

// Concatenates strings and numbers into one std::string (for messages). Debian's abseil has its
// own absl::string_view, so absl::StrCat does not take std::string_view; use this instead.
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (internal::AppendPiece(&out, args), ...);
  return out;
}

// Returns `status` with `context` prepended to its message ("context: message"); OK stays OK.
// A status's message as a std::string_view (Debian's abseil has its own absl::string_view).
inline std::string_view MessageOf(const absl::Status& status) {
  return {status.message().data(), status.message().size()};
}

inline absl::Status Annotate(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), Cat(context, ": ", status.message()));
}

// Builds a Status from errno after a failed system call on `path`, with a code the caller can act
// on (ENOENT -> NotFound, EEXIST -> AlreadyExists, ENOSPC -> ResourceExhausted, ...).
absl::Status ErrnoToStatus(int err, std::string_view op, std::string_view path);

}  // namespace nobus
