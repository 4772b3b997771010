#include "client/record_arena.h"

#include <new>

namespace nobus::client {

Chunk* Chunk::New(size_t capacity) {
  void* memory = ::operator new(sizeof(Chunk) + capacity);
  return new (memory) Chunk(capacity);
}

void Chunk::Free(Chunk* chunk) {
  chunk->~Chunk();
  ::operator delete(static_cast<void*>(chunk));
}

RecordArena::~RecordArena() {
  if (current_ != nullptr) current_->Unref();
}

RecordSpan RecordArena::Allocate(size_t size) {
  if (size > chunk_bytes_ / 2) {
    Chunk* own = Chunk::New(size);
    ++chunks_allocated_;
    own->used_ = size;
    return RecordSpan{own, 0, static_cast<uint32_t>(size)};
  }
  if (current_ == nullptr || current_->capacity_ - current_->used_ < size) {
    if (current_ != nullptr) current_->Unref();
    current_ = Chunk::New(chunk_bytes_);
    ++chunks_allocated_;
  }
  RecordSpan span{current_, static_cast<uint32_t>(current_->used_), static_cast<uint32_t>(size)};
  current_->used_ += size;
  current_->Ref();
  return span;
}

}  // namespace nobus::client
