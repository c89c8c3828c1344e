// tools/convert/task_bundle.cpp - .task (zip) reading with minizip.
#include "convert/task_bundle.hpp"

#include <algorithm>
#include <memory>

#include <unzip.h>

namespace facekit {
namespace convert {

namespace {

constexpr uint64_t kMaxMemberSize = uint64_t(512) << 20;
constexpr uint64_t kMaxMembers = 4096;

struct UnzCloser {
  void operator()(void* z) const { unzClose(static_cast<unzFile>(z)); }
};

std::string base_name(const std::string& p) {
  const std::size_t slash = p.find_last_of("/\\");
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

}  // namespace

Expected<std::vector<BundleMember>> read_task_bundle(const std::string& path) {
  const std::string archive = base_name(path);
  std::unique_ptr<void, UnzCloser> zip(unzOpen64(path.c_str()));
  if (!zip)
    return Status::error("%s: not a zip archive (a .task bundle is a zip of .tflite files), or it cannot be read",
                         archive.c_str());
  unzFile z = static_cast<unzFile>(zip.get());
  unz_global_info64 info;
  if (unzGetGlobalInfo64(z, &info) != UNZ_OK)
    return Status::error("%s: cannot read the zip central directory", archive.c_str());
  if (info.number_entry > kMaxMembers)
    return Status::error("%s: %llu members is more than the %llu accepted", archive.c_str(),
                         static_cast<unsigned long long>(info.number_entry),
                         static_cast<unsigned long long>(kMaxMembers));
  std::vector<BundleMember> members;
  int rc = unzGoToFirstFile(z);
  while (rc == UNZ_OK) {
    unz_file_info64 fi;
    char name_buf[1024];
    if (unzGetCurrentFileInfo64(z, &fi, name_buf, sizeof name_buf, nullptr, 0, nullptr, 0) != UNZ_OK)
      return Status::error("%s: cannot read a member's header", archive.c_str());
    name_buf[sizeof name_buf - 1] = 0;
    const std::string full = name_buf;
    if (!full.empty() && full.back() != '/' && full.back() != '\\') {
      BundleMember m;
      m.name = base_name(full);
      if (fi.uncompressed_size > kMaxMemberSize)
        return Status::error("%s: member '%s' is %llu bytes uncompressed, more than the %llu accepted",
                             archive.c_str(), full.c_str(), static_cast<unsigned long long>(fi.uncompressed_size),
                             static_cast<unsigned long long>(kMaxMemberSize));
      if (unzOpenCurrentFile(z) != UNZ_OK)
        return Status::error("%s: cannot open member '%s' (encrypted or unsupported compression?)", archive.c_str(),
                             full.c_str());
      m.bytes.resize(std::size_t(fi.uncompressed_size));
      std::size_t got = 0;
      int n = 1;
      while (got < m.bytes.size() && n > 0) {
        const std::size_t want = std::min<std::size_t>(m.bytes.size() - got, std::size_t(1) << 24);
        n = unzReadCurrentFile(z, m.bytes.data() + got, unsigned(want));
        if (n > 0) got += std::size_t(n);
      }
      // One more read must report the end: a member longer than its header says is damaged.
      char extra;
      const int tail = n < 0 ? n : unzReadCurrentFile(z, &extra, 1);
      const int close_rc = unzCloseCurrentFile(z);
      if (n < 0 || tail < 0 || got != m.bytes.size() || tail > 0)
        return Status::error("%s: member '%s' is damaged (read %zu of %zu bytes, error %d)", archive.c_str(),
                             full.c_str(), got, m.bytes.size(), n < 0 ? n : tail);
      if (close_rc == UNZ_CRCERROR)
        return Status::error("%s: member '%s' fails its CRC check (corrupted archive)", archive.c_str(), full.c_str());
      if (close_rc != UNZ_OK)
        return Status::error("%s: member '%s' cannot be read (error %d)", archive.c_str(), full.c_str(), close_rc);
      members.push_back(std::move(m));
    }
    rc = unzGoToNextFile(z);
  }
  if (rc != UNZ_END_OF_LIST_OF_FILE)
    return Status::error("%s: the zip directory is damaged (error %d)", archive.c_str(), rc);
  return members;
}

}  // namespace convert
}  // namespace facekit
