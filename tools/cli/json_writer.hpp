// A minimal JSON line writer for the CLI: numbers as the shortest text that reads back as the
// same float, strings escaped.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace facekit_cli {

class JsonWriter {
 public:
  std::string str;

  void begin_object() { sep(); str += '{'; first_ = true; }
  void end_object() { str += '}'; first_ = false; }
  void begin_array() { sep(); str += '['; first_ = true; }
  void end_array() { str += ']'; first_ = false; }
  void key(const char* k) {
    sep();
    quote(k);
    str += ':';
    first_ = true;
  }
  void value(const std::string& s) { sep(); quote(s.c_str()); }
  void value(int v) { sep(); str += std::to_string(v); }
  void value(long long v) { sep(); str += std::to_string(v); }
  void value(bool v) { sep(); str += v ? "true" : "false"; }
  void value(float v) {
    sep();
    char buf[32];
    // 9 significant digits always round-trip a float; try shorter first.
    for (int prec = 6; prec <= 9; ++prec) {
      std::snprintf(buf, sizeof buf, "%.*g", prec, double(v));
      if (std::strtof(buf, nullptr) == v) break;
    }
    str += buf;
  }

 private:
  void sep() {
    if (!first_) str += ',';
    first_ = false;
  }
  void quote(const char* s) {
    str += '"';
    for (; *s; ++s) {
      const unsigned char c = static_cast<unsigned char>(*s);
      if (c == '"' || c == '\\') { str += '\\'; str += char(c); }
      else if (c < 0x20) { char b[8]; std::snprintf(b, sizeof b, "\\u%04x", c); str += b; }
      else str += char(c);
    }
    str += '"';
  }
  bool first_ = true;
};

}  // namespace facekit_cli
