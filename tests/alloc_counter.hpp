// Counts heap allocations made by this program while a counter is armed: a replaced global
// operator new (all C++ allocation) and, outside sanitizer builds (whose runtime owns malloc),
// interposed malloc/calloc/realloc forwarding to glibc.
#pragma once

#include <atomic>
#include <cstddef>
#include <utility>

namespace alloc_counter {

std::atomic<bool>& armed();
std::atomic<long>& count();
/// While set, malloc/calloc/realloc are not counted, only operator new (see count_new).
std::atomic<bool>& new_only();
/// True when malloc itself is counted (not under ASan).
bool counts_malloc();

struct Scope {
  Scope() {
    count() = 0;
    armed() = true;
  }
  ~Scope() { armed() = false; }
  long allocations() const { return count().load(); }
};

/// Heap allocations made while `f()` runs; `f`'s result (e.g. a Status) goes to *result.
template <class F, class R>
long count(F&& f, R* result) {
  Scope scope;
  *result = f();
  return scope.allocations();
}

/// Like count(), but counting operator new only: C++ allocation, which is all of facekit's own.
/// For code that calls into a C driver that mallocs per call (an OpenCL ICD's enqueue), which no
/// caller can prevent.
template <class F, class R>
long count_new(F&& f, R* result) {
  new_only() = true;
  const long n = count(std::forward<F>(f), result);
  new_only() = false;
  return n;
}

}  // namespace alloc_counter
