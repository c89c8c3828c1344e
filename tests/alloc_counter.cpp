#include "alloc_counter.hpp"

#include <cstdlib>
#include <new>

namespace alloc_counter {
std::atomic<bool>& armed() {
  static std::atomic<bool> a{false};
  return a;
}
std::atomic<long>& count() {
  static std::atomic<long> c{0};
  return c;
}
std::atomic<bool>& new_only() {
  static std::atomic<bool> a{false};
  return a;
}
}  // namespace alloc_counter

namespace {
inline void note() {
  if (alloc_counter::armed().load(std::memory_order_relaxed)) alloc_counter::count().fetch_add(1);
}
// malloc and friends: not counted while only operator new is.
inline void note_malloc() {
  if (!alloc_counter::new_only().load(std::memory_order_relaxed)) note();
}
void* counted_new(std::size_t n, std::size_t align) {
  note();
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                              : std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_new(n, 0); }
void* operator new[](std::size_t n) { return counted_new(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_new(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_new(n, std::size_t(a)); }
// The nothrow forms too: otherwise they stay the runtime's (ASan's) while their delete is ours.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  note();
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  note();
  return std::malloc(n ? n : 1);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  note();
  const std::size_t al = std::size_t(a);
  return std::aligned_alloc(al, (n + al - 1) / al * al);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  note();
  const std::size_t al = std::size_t(a);
  return std::aligned_alloc(al, (n + al - 1) / al * al);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

// ASan and TSan own malloc: interposing it too would bypass them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FACEKIT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FACEKIT_TEST_ASAN 1
#endif
#endif

#if !defined(FACEKIT_TEST_ASAN) && defined(__GLIBC__)
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* malloc(std::size_t n) {
  note_malloc();
  return __libc_malloc(n);
}
void* calloc(std::size_t a, std::size_t b) {
  note_malloc();
  return __libc_calloc(a, b);
}
void* realloc(void* p, std::size_t n) {
  note_malloc();
  return __libc_realloc(p, n);
}
}
namespace alloc_counter {
bool counts_malloc() { return true; }
}
#else
namespace alloc_counter {
bool counts_malloc() { return false; }
}
#endif
