// nobus C++ SDK: the two kinds of error. Every SDK call reports failure as an absl::Status (or an
// absl::StatusOr<T> holding one); there are no exceptions. A failed Status is of one of two kinds,
// the same split the official Zerobus SDKs make with NonRetriableException / ZerobusException:
//
//   non-retriable  IsNonRetriable(status) == true. The request itself is wrong (a record that does
//                  not match the table schema, an unknown table, bad credentials, a record larger
//                  than the server accepts, a call on a closed stream, a bad option). Sending the
//                  same records again, on this stream or a new one, fails the same way: fix the
//                  input or the configuration first.
//   retriable      IsNonRetriable(status) == false. A transient condition outlasted the SDK's own
//                  recovery (server unreachable for longer than the retry budget, a flush timeout,
//                  a full in-flight window in fail-fast mode). The records are intact: try again
//                  later, e.g. Client::RecreateStream(failed_stream) re-sends every unacked record.
//
// The status code is kept as the server sent it (INVALID_ARGUMENT, NOT_FOUND, ...) and the
// message carries the server's own text, so `status.ToString()` is a complete diagnosis.
//
// Server status codes and what the SDK does with them (specs: "Status codes"):
//   INVALID_ARGUMENT, NOT_FOUND, UNAUTHENTICATED, OUT_OF_RANGE, PERMISSION_DENIED, UNIMPLEMENTED
//     -> the stream fails at once with a non-retriable status.
//   everything else (UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, DEADLINE_EXCEEDED,
//   CANCELLED, UNKNOWN, a call ended with OK, a dropped connection, a close_stream_signal, no ack
//   within server_lack_of_ack_timeout_ms) -> the SDK reconnects and re-sends every unacknowledged
//   record by itself; the application sees an error only if recovery gives up.
//   Persistent streams (stream.h) except: ABORTED (another producer resumed the stream, or it was
//   retired) and FAILED_PRECONDITION while opening a call (retired, expired) -> the stream fails
//   at once with a non-retriable status.
//
// Thread-safety: pure functions on values.
#pragma once

#include "absl/status/status.h"

namespace nobus {

// True if `status` is a non-retriable SDK error (see above). False for OK and for retriable errors.
bool IsNonRetriable(const absl::Status& status);

// True if a server status with this code fails a stream without recovery (the table above).
bool IsNonRetriableCode(absl::StatusCode code);

// Returns `status` marked non-retriable (OK stays OK). Used by the SDK; also useful in a custom
// HeadersProvider to say "these credentials will never work" (e.g. a revoked secret).
absl::Status MakeNonRetriable(absl::Status status);

}  // namespace nobus
