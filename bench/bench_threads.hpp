// The thread count of the facekit_bench benchmarks that run networks: the environment variable
// FACEKIT_THREADS (default 1), which bench/compare_tflite.py --threads N sets to match TFLite's
// num_threads. Results are bit-identical for any count; only the time changes.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "facekit/runtime/thread_pool.hpp"

namespace bench_threads {

inline int count() {
  static const int n = [] {
    const char* v = std::getenv("FACEKIT_THREADS");
    const int t = v && *v ? std::atoi(v) : 1;
    if (t < 1 || t > 256) {
      std::fprintf(stderr, "FACEKIT_THREADS=%s is not a thread count in 1..256; using 1\n", v);
      return 1;
    }
    return t;
  }();
  return n;
}

/// A pool of count() threads shared by the benchmarks that drive a session directly (null: 1).
inline facekit::ThreadPoolInterface* pool() {
  static facekit::ThreadPool p(count());
  return count() > 1 ? &p : nullptr;
}

}  // namespace bench_threads
