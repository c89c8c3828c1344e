// facekit/runtime/cpu_backend.hpp - the CPU backend: Program and Session (runtime/executor.hpp)
// behind the Backend interface, with the kernels of one SIMD architecture.
//
//   auto program = facekit::cpu_backend()->prepare(model);
#pragma once

#include <memory>
#include <string>

#include "backend.hpp"
#include "executor.hpp"

namespace facekit {

template <class Arch = default_arch>
class CpuBackend final : public Backend {
 public:
  CpuBackend() : name_(std::string("cpu (") + Arch::name() + ")") {}
  const char* name() const noexcept override { return name_.c_str(); }
  Delegate delegate() const noexcept override { return Delegate::cpu; }
  Expected<std::shared_ptr<const BackendProgram>> prepare(std::shared_ptr<const Model> model) const override {
    auto p = Program::create<Arch>(std::move(model));
    if (!p) return p.status();
    return std::shared_ptr<const BackendProgram>(std::move(*p));
  }

 private:
  std::string name_;
};

/// The process's CPU backend for the build's architecture (stateless; shared).
inline std::shared_ptr<const Backend> cpu_backend() {
  static const std::shared_ptr<const Backend> backend = std::make_shared<CpuBackend<default_arch>>();
  return backend;
}

}  // namespace facekit
