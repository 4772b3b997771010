// Internal to src/client: where queued records live between Ingest and their acknowledgement.
// Records are stored already encoded as protobuf repeated-field items (tag 0x0a, varint length,
// bytes — the body of JsonRecordBatch / ProtoEncodedRecordBatch), packed into reference-counted
// chunks, so that a wire message is built from slices pointing into the chunks (no copy, no
// per-record allocation) and a resend after a reconnect reuses the same bytes.
//
// Ownership: a Chunk is freed when its last reference goes: the arena holds one while it may
// still append to it, each queued request holds one, each gRPC slice built from it holds one (and
// drops it on a gRPC thread). Thread-safety: Chunk reference counting is thread-safe; RecordArena
// is not (the stream's mutex guards it).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace nobus::client {

class Chunk {
 public:
  // A chunk with one reference held by the caller.
  static Chunk* New(size_t capacity);
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) Free(this);
  }
  char* data() { return reinterpret_cast<char*>(this + 1); }
  size_t capacity() const { return capacity_; }
  size_t used() const { return used_; }
  int32_t refs_for_test() const { return refs_.load(); }

 private:
  friend class RecordArena;
  explicit Chunk(size_t capacity) : capacity_(capacity) {}
  static void Free(Chunk* chunk);

  std::atomic<int32_t> refs_{1};
  size_t capacity_;
  size_t used_ = 0;
};

// Where one queued request's encoded records are: `size` bytes at `chunk->data() + pos`.
struct RecordSpan {
  Chunk* chunk = nullptr;
  uint32_t pos = 0;
  uint32_t size = 0;
  const char* data() const { return chunk->data() + pos; }
};

class RecordArena {
 public:
  static constexpr size_t kDefaultChunkBytes = 1 << 20;

  explicit RecordArena(size_t chunk_bytes = kDefaultChunkBytes) : chunk_bytes_(chunk_bytes) {}
  ~RecordArena();
  RecordArena(const RecordArena&) = delete;
  RecordArena& operator=(const RecordArena&) = delete;

  // Reserves `size` contiguous bytes (size < 4 GiB) for the caller to fill. The returned span
  // holds one chunk reference, which the caller releases with span.chunk->Unref(). Requests larger
  // than half a chunk get a chunk of their own, so a regular chunk is always at least half used
  // before the next one starts.
  RecordSpan Allocate(size_t size);

  // Chunks allocated so far (for tests and stats).
  int64_t chunks_allocated() const { return chunks_allocated_; }

 private:
  const size_t chunk_bytes_;
  Chunk* current_ = nullptr;
  int64_t chunks_allocated_ = 0;
};

// Protobuf varint helpers for the encodings above.
inline size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
inline char* PutVarint(char* out, uint64_t v) {
  while (v >= 0x80) {
    *out++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<char>(v);
  return out;
}
// Bytes one record of `size` bytes takes as a repeated-field item: tag + varint length + bytes.
inline size_t EncodedRecordSize(size_t size) { return 1 + VarintSize(size) + size; }
// Writes the item header (tag 0x0a = field 1, length-delimited, and the length); returns the
// position of the record bytes.
inline char* PutRecordHeader(char* out, size_t size) {
  *out++ = 0x0a;
  return PutVarint(out, size);
}

}  // namespace nobus::client
