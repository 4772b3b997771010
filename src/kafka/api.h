// Kafka protocol constants for nobus's producer-only endpoint: the API keys the endpoint answers or
// advertises, the first flexible version of each (../shared/specs/kafka-produce.md 2.1), which
// header versions go with a request, and the error codes it returns (spec 2.9). Pure constants and
// constexpr functions: no state, thread-safe.
//
// Where it sits: the Kafka listener parses a request header (request_header.h), asks IsFlexible
// to pick the encodings of the body and ResponseHeaderFlexible for its answer, and writes an
// ErrorCode per partition or per request. Both enums are unscoped with int16_t underneath, so
// their values are the wire's INT16s: `case kProduce:`, `w.Int16(kInvalidRecord)`.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace nobus::kafka {

// The API keys nobus serves or advertises. Other keys are legal on the wire (RequestHeader keeps
// the raw int16_t); they are answered with an error by the listener.
enum ApiKey : int16_t {
  kProduce = 0,
  kFetch = 1,  // advertised (old librdkafka needs it for RecordBatch v2), never served
  kMetadata = 3,
  kFindCoordinator = 10,  // advertised (old librdkafka gates lz4 on it), answered with an error
  kSaslHandshake = 17,
  kApiVersions = 18,
  kInitProducerId = 22,
  kSaslAuthenticate = 36,
};

// The first version of `api_key` that uses the flexible encodings (compact strings, bytes and
// arrays, tag buffers, request header v2), or nullopt if it has none (SaslHandshake) or the key is
// not one of ApiKey.
constexpr std::optional<int16_t> FlexibleFromVersion(int16_t api_key) {
  switch (static_cast<ApiKey>(api_key)) {
    case ApiKey::kProduce: return 9;
    case ApiKey::kFetch: return 12;
    case ApiKey::kMetadata: return 9;
    case ApiKey::kFindCoordinator: return 3;
    case ApiKey::kSaslHandshake: return std::nullopt;
    case ApiKey::kApiVersions: return 3;
    case ApiKey::kInitProducerId: return 2;
    case ApiKey::kSaslAuthenticate: return 2;
  }
  return std::nullopt;
}

// True if `version` of `api_key` is flexible: its request carries header v2 and its body uses the
// compact forms and tag buffers. False for unknown keys (their body is never parsed).
constexpr bool IsFlexible(int16_t api_key, int16_t version) {
  std::optional<int16_t> from = FlexibleFromVersion(api_key);
  return from.has_value() && version >= *from;
}

// True if the response to `version` of `api_key` starts with response header v1 (correlation id
// plus a tag buffer). Flexible versions do, except ApiVersions: its response always uses header
// v0, so that a client can read the answer whatever version it asked for.
constexpr bool ResponseHeaderFlexible(int16_t api_key, int16_t version) {
  return api_key != kApiVersions && IsFlexible(api_key, version);
}

// "Produce", "ApiVersions", ...; "Unknown" for a key not in ApiKey. For logs and metric labels.
std::string_view ApiKeyName(int16_t api_key);

// The Kafka error codes the endpoint uses (INT16 on the wire; Kafka's Errors.java numbering).
enum ErrorCode : int16_t {
  kUnknownServerError = -1,          // internal failure
  kNone = 0,                         // success, also for a de-duplicated retry
  kCorruptMessage = 2,               // CRC mismatch or undecodable batch (retriable)
  kUnknownTopicOrPartition = 3,      // table missing or bad partition (retriable)
  kNotLeaderOrFollower = 6,          // the node is recovering or draining (retriable)
  kRequestTimedOut = 7,              // durability not reached within timeout_ms
  kMessageTooLarge = 10,             // batch over our limit
  kCoordinatorNotAvailable = 15,     // FindCoordinator: there is no coordinator
  kInvalidTopicException = 17,       // malformed table name
  kInvalidRequiredAcks = 21,         // acks not in {-1, 0, 1}
  kTopicAuthorizationFailed = 29,    // token lacks MODIFY on the table
  kUnsupportedSaslMechanism = 33,    // not OAUTHBEARER / PLAIN
  kIllegalSaslState = 34,            // request before authentication
  kUnsupportedVersion = 35,          // version outside our range
  kInvalidRequest = 42,              // malformed request
  kOutOfOrderSequenceNumber = 45,    // sequence gap
  kDuplicateSequenceNumber = 46,     // duplicate older than the retained batches
  kInvalidProducerEpoch = 47,        // stale epoch
  kTransactionalIdAuthorizationFailed = 53,  // a non-null transactional_id
  kKafkaStorageError = 56,           // the WAL refused or failed the append (retriable)
  kSaslAuthenticationFailed = 58,    // bad or expired token
  kUnknownProducerId = 59,           // producer state lost
  kUnsupportedCompressionType = 76,  // zstd before Produce v7, or a codec we do not know
  kInvalidRecord = 87,               // bad value, magic != 2, more than one batch
  kThrottlingQuotaExceeded = 89,     // quota
};

// "NONE", "CORRUPT_MESSAGE", ... (Kafka's names); "UNKNOWN" for a value not in ErrorCode.
std::string_view ErrorName(int16_t code);

}  // namespace nobus::kafka
