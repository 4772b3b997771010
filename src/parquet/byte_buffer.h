// ByteBuffer: the growable byte array behind a leaf column's values (LeafBuffer::values).
//
// Why not std::string: a commit decodes up to flush_threshold_bytes (128 MiB) of rows into one
// RowBatch, most of it in one string column. Growing a std::string allocates a new buffer of twice
// the size and copies, so for a moment the old and the new buffer both exist: ~3x the data at peak
// and a full copy per doubling. ByteBuffer grows with realloc, which glibc serves for large blocks
// (above its mmap threshold, at most 32 MiB) with mremap: the pages move without a copy and the
// peak stays at the capacity. Untouched capacity of such blocks is not resident either.
//
// Not thread-safe (one owner, like std::string). Throws std::bad_alloc when memory runs out, as
// the standard containers do.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>

namespace nobus::parquet {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ~ByteBuffer() { std::free(data_); }
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
      std::free(data_);
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
  void Grow(size_t min_capacity) {
    size_t capacity = capacity_ < 64 ? 64 : capacity_ * 2;
    if (capacity < min_capacity) capacity = min_capacity;
    void* grown = std::realloc(data_, capacity);
    if (grown == nullptr) throw std::bad_alloc();
    data_ = static_cast<char*>(grown);
    capacity_ = capacity;
  }

  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace nobus::parquet
