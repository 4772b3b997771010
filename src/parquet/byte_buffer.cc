#include "parquet/byte_buffer.h"

#include <algorithm>
#include <mutex>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define NOBUS_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define NOBUS_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define NOBUS_POISON(p, n) ((void)(p), (void)(n))
#define NOBUS_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace nobus::parquet {

namespace {

using Clock = std::chrono::steady_clock;

// Large blocks freed by ByteBuffers, for the next buffers to grow into, oldest given first (at most
// 128: the cap over the smallest pooled size, so a vector). A pooled block is poisoned for
// AddressSanitizer: a use after Release still shows.
class BlockPool {
 public:
  // The smallest block of at least `min`, or nullptr. A larger block than needed saves the
  // buffer its next growths (each a copy) and returns at the buffer's end like any other.
  char* Take(size_t min, size_t* capacity) {
    std::lock_guard<std::mutex> l(mu_);
    auto best = blocks_.end();
    for (auto it = blocks_.begin(); it != blocks_.end(); ++it)
      if (it->capacity >= min && (best == blocks_.end() || it->capacity < best->capacity))
        best = it;
    if (best == blocks_.end()) return nullptr;
    char* data = best->data;
    *capacity = best->capacity;
    bytes_ -= best->capacity;
    blocks_.erase(best);
    NOBUS_UNPOISON(data, *capacity);
    return data;
  }

  // Keeps the block, making room by freeing the blocks given longest ago: a commit's buffers
  // give their small blocks while they grow and their largest at the end, and the largest are the
  // ones worth keeping. A block larger than the whole pool is freed.
  void Give(char* data, size_t capacity) {
    std::vector<char*> freed;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (capacity <= kBlockPoolCapBytes) {
        while (bytes_ + capacity > kBlockPoolCapBytes) {
          NOBUS_UNPOISON(blocks_.front().data, blocks_.front().capacity);
          freed.push_back(blocks_.front().data);
          bytes_ -= blocks_.front().capacity;
          blocks_.erase(blocks_.begin());
        }
        NOBUS_POISON(data, capacity);
        blocks_.push_back(Block{data, capacity, Clock::now()});
        bytes_ += capacity;
      } else {
        freed.push_back(data);
      }
    }
    for (char* block : freed) std::free(block);
  }

  void Trim(Clock::duration idle) {
    std::vector<char*> freed;
    {
      std::lock_guard<std::mutex> l(mu_);
      const Clock::time_point now = Clock::now();
      auto keep = std::stable_partition(blocks_.begin(), blocks_.end(),
                                 [&](const Block& b) { return now - b.given < idle; });
      for (auto it = keep; it != blocks_.end(); ++it) {
        NOBUS_UNPOISON(it->data, it->capacity);
        freed.push_back(it->data);
        bytes_ -= it->capacity;
      }
      blocks_.erase(keep, blocks_.end());
    }
    for (char* data : freed) std::free(data);
  }

  size_t bytes() {
    std::lock_guard<std::mutex> l(mu_);
    return bytes_;
  }

 private:
  struct Block {
    char* data;
    size_t capacity;
    Clock::time_point given;
  };
  std::mutex mu_;
  std::vector<Block> blocks_;
  size_t bytes_ = 0;
};

BlockPool& Pool() {
  static BlockPool* pool = new BlockPool();  // never destroyed: buffers may outlive statics
  return *pool;
}

}  // namespace

void TrimBlockPool(Clock::duration idle) { Pool().Trim(idle); }

size_t BlockPoolBytes() { return Pool().bytes(); }

void ByteBuffer::Grow(size_t min_capacity) {
  size_t capacity = capacity_ < 64 ? 64 : capacity_ * 2;
  if (capacity < min_capacity) capacity = min_capacity;
  if (capacity < kPooledBlockBytes) {
    void* grown = std::realloc(data_, capacity);
    if (grown == nullptr) throw std::bad_alloc();
    data_ = static_cast<char*>(grown);
    capacity_ = capacity;
    return;
  }
  char* grown = Pool().Take(capacity, &capacity);
  if (grown == nullptr) grown = static_cast<char*>(std::malloc(capacity));
  if (grown == nullptr) throw std::bad_alloc();
  if (size_ > 0) std::memcpy(grown, data_, size_);
  Release(data_, capacity_);
  data_ = grown;
  capacity_ = capacity;
}

void ByteBuffer::Release(char* data, size_t capacity) {
  if (data == nullptr) return;
  if (capacity >= kPooledBlockBytes)
    Pool().Give(data, capacity);
  else
    std::free(data);
}

}  // namespace nobus::parquet
