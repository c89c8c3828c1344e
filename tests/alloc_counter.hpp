// Counts heap allocations made by this program while a counter is armed: a replaced global
// operator new (all C++ allocation) and, outside sanitizer builds (whose runtime owns malloc),
// interposed malloc/calloc/realloc forwarding to glibc.
#pragma once

#include <atomic>
#include <cstddef>

namespace alloc_counter {

std::atomic<bool>& armed();
std::atomic<long>& count();
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

}  // namespace alloc_counter
