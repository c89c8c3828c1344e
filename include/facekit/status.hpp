// facekit/status.hpp - error reporting without exceptions.
//
//   facekit::Expected<facekit::Model> m = facekit::Model::load_file("face_detector.fkm");
//   if (!m) { std::fprintf(stderr, "%s\n", m.status().message()); return 1; }
#pragma once

#include <cstdarg>
#include <cstdio>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

namespace facekit {

/// Success, or an error with a message that names the offending item and value.
class Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  /// printf-style error message.
  static Status error(const char* fmt, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 1, 2)))
#endif
  {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    Status s;
    s.failed_ = true;
    s.message_ = buf;
    return s;
  }
  bool is_ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return !failed_; }
  const char* message() const noexcept { return failed_ ? message_.c_str() : "ok"; }
  /// Prefix the message with context ("model face_detector.fkm: ...").
  Status& prefix(const std::string& what) {
    if (failed_) message_ = what + ": " + message_;
    return *this;
  }

 private:
  bool failed_ = false;
  std::string message_;
};

/// A value or the Status that explains why there is none.
template <class T>
class Expected {
 public:
  Expected(T value) : has_(true) { new (&storage_) T(std::move(value)); }  // NOLINT
  Expected(Status status) : status_(std::move(status)) {                    // NOLINT
    if (status_.is_ok()) status_ = Status::error("internal: Expected built from an ok Status");
  }
  Expected(const Expected&) = delete;
  Expected& operator=(const Expected&) = delete;
  Expected(Expected&& o) noexcept : has_(o.has_), status_(std::move(o.status_)) {
    if (has_) new (&storage_) T(std::move(*o.ptr()));
  }
  ~Expected() {
    if (has_) ptr()->~T();
  }
  explicit operator bool() const noexcept { return has_; }
  bool has_value() const noexcept { return has_; }
  const Status& status() const noexcept { return status_; }
  T& value() & { return *ptr(); }
  const T& value() const& { return *ptr(); }
  T&& value() && { return std::move(*ptr()); }
  T* operator->() { return ptr(); }
  const T* operator->() const { return ptr(); }
  T& operator*() & { return *ptr(); }
  const T& operator*() const& { return *ptr(); }

 private:
  T* ptr() { return std::launder(reinterpret_cast<T*>(&storage_)); }
  const T* ptr() const { return std::launder(reinterpret_cast<const T*>(&storage_)); }
  bool has_ = false;
  Status status_;
  typename std::aligned_storage<sizeof(T), alignof(T)>::type storage_;
};

}  // namespace facekit

#define FACEKIT_RETURN_IF_ERROR(expr)      \
  do {                                     \
    ::facekit::Status facekit_s_ = (expr); \
    if (!facekit_s_) return facekit_s_;    \
  } while (0)
