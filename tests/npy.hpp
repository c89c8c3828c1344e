// Minimal reader for the NumPy .npy files under tests/data (written by tests/gen/*.py).
//
//   auto a = npy::load<float>(test_util::source_path("tests/data/detector/random_1.regressors.npy"));
//   REQUIRE_MESSAGE(a, a.status().message());
//   a->shape  // {1, 896, 16}
//   a->data   // 14336 floats, C order
//
// Supports format versions 1.0, 2.0 and 3.0, C order, dtypes '<f4' (float) and '|u1' (uint8_t).
// Anything else, and any damaged file, gives a Status naming the file, the item and its value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "facekit/status.hpp"

namespace npy {

template <class T>
struct Array {
  std::vector<size_t> shape;  // empty for a 0-d array (one element)
  std::vector<T> data;        // C order
  size_t size() const { return data.size(); }
};

namespace detail {

template <class T>
struct dtype_of;
template <>
struct dtype_of<float> {
  static bool accepts(const std::string& d) { return d == "<f4"; }
  static const char* name() { return "'<f4' (float32)"; }
};
template <>
struct dtype_of<uint8_t> {
  // A one-byte type has no byte order: NumPy writes '|u1', but '<u1' / '=u1' mean the same.
  static bool accepts(const std::string& d) { return d == "|u1" || d == "<u1" || d == "=u1" || d == "u1"; }
  static const char* name() { return "'|u1' (uint8)"; }
};

// For error messages: header text from a damaged file may hold any byte.
inline std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// The header is a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 896, 16), }
// This parser accepts exactly that grammar: string keys; values that are strings, True/False,
// or tuples of non-negative integers.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& what) : s_(text), what_(what) {}

  facekit::Status parse() {
    skip_ws();
    if (!eat('{')) return fail("header does not start with '{'");
    for (;;) {
      skip_ws();
      if (eat('}')) break;
      std::string key;
      if (auto st = parse_string(&key); !st) return st;
      skip_ws();
      if (!eat(':')) return fail("expected ':' after key '" + printable(key) + "'");
      skip_ws();
      if (key == "descr") {
        if (auto st = parse_string(&descr); !st) return st;
        have_descr = true;
      } else if (key == "fortran_order") {
        if (auto st = parse_bool(&fortran_order); !st) return st;
        have_order = true;
      } else if (key == "shape") {
        if (auto st = parse_shape(); !st) return st;
        have_shape = true;
      } else {
        return fail("unknown header key '" + printable(key) + "'");
      }
      skip_ws();
      if (eat(',')) continue;
      skip_ws();
      if (eat('}')) break;
      return fail("expected ',' or '}' after the value of '" + printable(key) + "'");
    }
    skip_ws();
    if (pos_ != s_.size()) return fail("unexpected text after the header dict");
    if (!have_descr) return fail("header has no 'descr'");
    if (!have_order) return fail("header has no 'fortran_order'");
    if (!have_shape) return fail("header has no 'shape'");
    return facekit::Status::ok();
  }

  std::string descr;
  bool fortran_order = false;
  std::vector<size_t> shape;
  bool have_descr = false, have_order = false, have_shape = false;

 private:
  static constexpr size_t kMaxDims = 32;

  facekit::Status fail(const std::string& msg) const {
    return facekit::Status::error("%s: %s (at header character %zu)", what_.c_str(), msg.c_str(), pos_);
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  facekit::Status parse_string(std::string* out) {
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) return fail("expected a quoted string");
    const char q = s_[pos_++];
    const size_t end = s_.find(q, pos_);
    if (end == std::string::npos) return fail("unterminated string");
    *out = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return facekit::Status::ok();
  }
  facekit::Status parse_bool(bool* out) {
    if (s_.compare(pos_, 4, "True") == 0) {
      *out = true;
      pos_ += 4;
    } else if (s_.compare(pos_, 5, "False") == 0) {
      *out = false;
      pos_ += 5;
    } else {
      return fail("'fortran_order' is not True or False");
    }
    return facekit::Status::ok();
  }
  facekit::Status parse_shape() {
    shape.clear();
    if (!eat('(')) return fail("'shape' is not a tuple");
    for (;;) {
      skip_ws();
      if (eat(')')) return facekit::Status::ok();
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') return fail("'shape' holds a non-integer");
      size_t v = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        const size_t digit = static_cast<size_t>(s_[pos_] - '0');
        if (v > (std::numeric_limits<size_t>::max() - digit) / 10) return fail("'shape' dimension overflows");
        v = v * 10 + digit;
        ++pos_;
      }
      if (shape.size() == kMaxDims) return fail("'shape' has more than 32 dimensions");
      shape.push_back(v);
      skip_ws();
      if (eat(',')) continue;
      skip_ws();
      if (eat(')')) return facekit::Status::ok();
      return fail("expected ',' or ')' in 'shape'");
    }
  }

  const std::string& s_;
  const std::string& what_;
  size_t pos_ = 0;
};

inline uint32_t read_le32(const unsigned char* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

}  // namespace detail

/// Parse .npy bytes; `what` names the source in error messages.
template <class T>
facekit::Expected<Array<T>> parse(const void* bytes, size_t n, const std::string& what = "npy") {
  static_assert(std::is_same<T, float>::value || std::is_same<T, uint8_t>::value,
                "npy::parse supports float and uint8_t");
  const auto* b = static_cast<const unsigned char*>(bytes);
  static const unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (b == nullptr || n < 10 || std::memcmp(b, kMagic, 6) != 0)
    return facekit::Status::error("%s: not a .npy file (magic \\x93NUMPY missing, %zu bytes)", what.c_str(), n);
  const unsigned major = b[6], minor = b[7];
  size_t header_len = 0, header_at = 0;
  if (major == 1) {
    header_len = size_t(b[8]) | (size_t(b[9]) << 8);
    header_at = 10;
  } else if (major == 2 || major == 3) {
    if (n < 12) return facekit::Status::error("%s: truncated header length (%zu bytes)", what.c_str(), n);
    header_len = detail::read_le32(b + 8);
    header_at = 12;
  } else {
    return facekit::Status::error("%s: format version %u.%u is not supported (1.0, 2.0, 3.0)", what.c_str(),
                                  major, minor);
  }
  if (header_len > n - header_at)
    return facekit::Status::error("%s: header length %zu exceeds the file (%zu bytes)", what.c_str(), header_len, n);

  const std::string text(reinterpret_cast<const char*>(b + header_at), header_len);
  detail::HeaderParser hp(text, what);
  if (auto st = hp.parse(); !st) return st;
  if (!detail::dtype_of<T>::accepts(hp.descr))
    return facekit::Status::error("%s: descr '%s' is not %s", what.c_str(), detail::printable(hp.descr).c_str(),
                                  detail::dtype_of<T>::name());
  if (hp.fortran_order) return facekit::Status::error("%s: fortran_order True is not supported", what.c_str());

  size_t count = 1;
  for (size_t d : hp.shape) {
    if (d != 0 && count > std::numeric_limits<size_t>::max() / sizeof(T) / d)
      return facekit::Status::error("%s: element count overflows (dimension %zu)", what.c_str(), d);
    count *= d;
  }
  const size_t data_at = header_at + header_len;
  const size_t have = n - data_at;
  if (have != count * sizeof(T))
    return facekit::Status::error("%s: data is %zu bytes, shape needs %zu", what.c_str(), have, count * sizeof(T));

  Array<T> out;
  out.shape = hp.shape;
  out.data.resize(count);
  const unsigned char* p = b + data_at;
  if constexpr (std::is_same<T, float>::value) {
    // Assemble little-endian words so the reader is right on any host byte order.
    for (size_t i = 0; i < count; ++i) {
      const uint32_t u = detail::read_le32(p + 4 * i);
      std::memcpy(&out.data[i], &u, 4);
    }
  } else if (count != 0) {
    std::memcpy(out.data.data(), p, count);
  }
  return out;
}

/// Read and parse a .npy file.
template <class T>
facekit::Expected<Array<T>> load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return facekit::Status::error("%s: cannot open", path.c_str());
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) return facekit::Status::error("%s: read error", path.c_str());
  return parse<T>(bytes.data(), bytes.size(), path);
}

}  // namespace npy
