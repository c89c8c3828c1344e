// The one translation unit of the project's own programs (tests, tools, benchmarks, examples) that
// compiles the CPU kernels behind Program::create<default_arch>; the others see an extern template
// (FACEKIT_EXTERN_PROGRAM). A program that includes facekit normally needs nothing like this.
#include "facekit/runtime/executor.hpp"

FACEKIT_INSTANTIATE_PROGRAM();
