// libFuzzer target: the .task (zip) reader, which reads from a path: the input goes to a file
// in /dev/shm (or TMPDIR) first.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "convert/task_bundle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static const std::string path = [] {
    const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
    return std::string(dir) + "/facekit_fuzz_task_" + std::to_string(getpid()) + ".task";
  }();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto members = facekit::convert::read_task_bundle(path);
  if (members)
    for (const auto& m : *members)
      if (m.name.empty()) __builtin_trap();
  std::remove(path.c_str());
  return 0;
}
