// Heap accounting for the firmware-style examples: replaces the global operator new and delete,
// through which all C++ allocation (all of facekit's) goes, counting calls and bytes. Include it in
// one translation unit of a program.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace {
long g_allocations = 0;
std::size_t g_bytes = 0;
// Not inlined: Eigen, without exceptions, signals a size overflow by asking operator new for
// SIZE_MAX bytes, which inlined would warn at compile time (it aborts here at run time).
__attribute__((noinline)) void* counted(std::size_t n, std::size_t align) {
  ++g_allocations;
  g_bytes += n;
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                              : std::malloc(n ? n : 1);
  if (!p) std::abort();  // no exceptions: out of memory is fatal
  return p;
}
}  // namespace
void* operator new(std::size_t n) { return counted(n, 0); }
void* operator new[](std::size_t n) { return counted(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted(n, std::size_t(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted(n, 0); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

