// ByteBuffer: the growable byte array behind a leaf column's values (LeafBuffer::values).
//
// Why not std::string: a commit decodes up to flush_threshold_bytes (128 MiB) of rows into one
// RowBatch, most of it in one string column, and where that memory comes from matters. Small
// buffers grow with realloc. Large blocks (kPooledBlockBytes and up) come from, and go back to, a
// process-wide pool: fresh memory costs a page fault and the kernel zeroing the page at first
// touch, and with every commit decoding into new column buffers that was 11 % of nobusd's CPU at
// 1,000 streams × 50 records/s and 7-9 % at full speed (under 1 % with the pool;
// doc/performance.md "CPU per record"). The pool holds at most kBlockPoolCapBytes, keeping the
// blocks given last (a commit's largest); TrimBlockPool frees those no buffer took for a while
// (nobusd's flusher calls it every flush interval with 10 s).
//
// ByteBuffer is not thread-safe (one owner, like std::string); the pool is. Throws std::bad_alloc
// when memory runs out, as the standard containers do.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>

namespace nobus::parquet {

inline constexpr size_t kPooledBlockBytes = size_t{2} << 20;
inline constexpr size_t kBlockPoolCapBytes = size_t{256} << 20;

// Frees the pooled blocks that no buffer took for at least `idle` (0: all of them).
void TrimBlockPool(std::chrono::steady_clock::duration idle);
// Bytes the pool holds now.
size_t BlockPoolBytes();

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ~ByteBuffer() { Release(data_, capacity_); }
  ByteBuffer(const ByteBuffer& other) { append(other.data_, other.size_); }
  ByteBuffer& operator=(const ByteBuffer& other) {
    if (this != &other) {
      clear();
      append(other.data_, other.size_);
    }
    return *this;
  }
  ByteBuffer(ByteBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  // A moved-from buffer is empty.
  ByteBuffer& operator=(ByteBuffer&& other) noexcept {
    if (this != &other) {
      Release(data_, capacity_);
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data_, size_}; }

  void append(const char* bytes, size_t n) {
    if (n == 0) return;
    if (size_ + n > capacity_) Grow(size_ + n);
    std::memcpy(data_ + size_, bytes, n);
    size_ += n;
  }
  void append(std::string_view bytes) { append(bytes.data(), bytes.size()); }
  void push_back(char c) { append(&c, 1); }
  // Shrinking keeps the capacity; growing zero-fills.
  void resize(size_t n) {
    if (n > capacity_) Grow(n);
    if (n > size_) std::memset(data_ + size_, 0, n - size_);
    size_ = n;
  }
  void clear() { size_ = 0; }

 private:
  void Grow(size_t min_capacity);
  static void Release(char* data, size_t capacity);

  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace nobus::parquet
