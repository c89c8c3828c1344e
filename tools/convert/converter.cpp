// tools/convert/converter.cpp - file handling around read -> lower -> metadata -> write.
#include "convert/converter.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert/face_geometry.hpp"
#include "convert/model_info.hpp"
#include "convert/model_writer.hpp"
#include "convert/task_bundle.hpp"
#include "convert/tflite_reader.hpp"
#include "facekit/landmarks/face_geometry.hpp"
#include "facekit/model/model.hpp"
#include "facekit/stages/blazeface_stage.hpp"
#include "facekit/stages/mesh_models.hpp"

namespace facekit {
namespace convert {

namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kMaxInputSize = std::uintmax_t(1) << 30;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Status read_file(const std::string& path, std::vector<uint8_t>* out) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) return Status::error("cannot read '%s': %s", path.c_str(), ec.message().c_str());
  if (size > kMaxInputSize)
    return Status::error("'%s' is %ju bytes, more than the 1 GiB accepted", path.c_str(), size);
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::error("cannot open '%s'", path.c_str());
  out->resize(std::size_t(size));
  if (size && !f.read(reinterpret_cast<char*>(out->data()), std::streamsize(size)))
    return Status::error("cannot read '%s'", path.c_str());
  return Status::ok();
}

// Writes a temporary file beside the target (a unique hidden name in the same directory, so the
// rename cannot cross file systems), flushes it to disk, then renames it over the target. A
// failed or interrupted run leaves a previous file byte for byte as it was, and a failure
// removes the temporary file.
Status write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes) {
  const fs::path target(path);
  std::string tmp = (target.parent_path() / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkstemp(&tmp[0]);
  if (fd < 0) return Status::error("cannot create a temporary file for '%s': %s", path.c_str(), std::strerror(errno));
  // mkstemp gives 0600: the file gets the mode of the file it replaces, else what a new file gets.
  struct stat st;
  mode_t mode = 0;
  if (::stat(path.c_str(), &st) == 0) {
    mode = st.st_mode & 07777;
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0666 & ~mask;
  }
  int err = ::fchmod(fd, mode) == 0 ? 0 : errno;
  for (std::size_t done = 0; !err && done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) err = n < 0 ? errno : EIO;
    else done += std::size_t(n);
  }
  if (!err && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && !err) err = errno;
  if (!err && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err) {
    ::unlink(tmp.c_str());
    return Status::error("cannot write '%s': %s", path.c_str(), std::strerror(err));
  }
  return Status::ok();
}

// The library is the contract: a file its loader or the stage for its kind refuses (a structural
// fault, or a value out of the range the stage reads it in) must never be written. The checks are
// the library's own, so the two cannot drift apart.
Status check_output(const std::vector<uint8_t>& bytes, const std::string& source) {
  Expected<Model> loaded = Model::copy_from_bytes(bytes.data(), bytes.size());
  if (!loaded) return Status(loaded.status()).prefix(source + ": the converted model fails the loader's checks");
  auto model = std::make_shared<const Model>(std::move(*loaded));
  const std::string kind = model->kind();
  Status s;
  if (kind == "face_detector") {
    s = BlazeFaceStage::check_model(*model);
  } else if (kind == "face_geometry") {
    Expected<FaceGeometry> g = FaceGeometry::create(model);
    if (!g) s = g.status();
  } else {
    std::size_t count = 0;
    const MeshModelEntry* meshes = mesh_models(&count);
    for (std::size_t i = 0; i < count; ++i)
      if (kind == meshes[i].info->kind) s = MeshStage::check_model(*meshes[i].info, *model);
  }
  if (!s) return s.prefix(source + ": the converted model fails the " + kind + " stage's checks");
  return Status::ok();
}

std::string stem_of(const std::string& name) {
  const std::size_t dot = name.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

void convert_one(std::vector<uint8_t> bytes, const std::string& source, const std::string& meta_source,
                 const std::string& out_dir, const ConvertOptions& options, std::set<std::string>* used_stems,
                 NetworkResult* r) {
  r->source = source;
  // The canonical face geometry is data, not a network; it becomes face_geometry.fkm.
  const bool geometry = is_face_geometry_source(source);
  Expected<Converted> c = geometry ? convert_face_geometry(bytes, source, meta_source)
                                   : convert_tflite(std::move(bytes), source, meta_source, options);
  if (!c) {
    r->status = c.status();
    return;
  }
  r->kind = c->kind;
  r->stats = c->stats;
  r->op_counts = c->op_counts;
  if (geometry) {
    // convert_tflite checks its own output; the geometry file is checked here.
    Status s = check_output(c->bytes, source);
    if (!s) {
      r->status = s;
      return;
    }
  }
  const std::string stem = geometry ? std::string("face_geometry") : stem_of(source);
  if (!used_stems->insert(stem).second) {
    r->status = Status::error("%s: another network of the input also converts to %s.fkm", source.c_str(),
                              stem.c_str());
    return;
  }
  const std::string path = (fs::path(out_dir) / (stem + ".fkm")).string();
  Status s = write_file_atomic(path, c->bytes);
  if (!s) {
    r->status = s;
    return;
  }
  r->output_path = path;
  r->file_size = c->bytes.size();
}

}  // namespace

Expected<Converted> convert_tflite(std::vector<uint8_t> tflite, const std::string& source,
                                   const std::string& meta_source, const ConvertOptions& options) {
  Expected<SourceGraph> g = read_tflite(std::move(tflite), source);
  if (!g) return g.status();
  Converted c;
  Expected<OutModel> m = lower_graph(*g, &c.stats, options.after_pass);
  if (!m) return m.status();
  c.kind = identify_model(*g);
  add_metadata(*g, c.kind, meta_source.empty() ? source : meta_source, &*m);
  Expected<std::vector<uint8_t>> bytes = write_model(*m);
  if (!bytes) return Status(bytes.status()).prefix(source);
  FACEKIT_RETURN_IF_ERROR(check_output(*bytes, source));
  c.bytes = std::move(*bytes);
  for (const OutOp& op : m->ops) ++c.op_counts[op_type_name(op.type)];
  c.tensor_count = int(m->tensors.size());
  for (const OutTensor& t : m->tensors) c.constant_count += t.kind == format::TensorKind::constant;
  return c;
}

int ConvertResult::converted() const {
  int n = 0;
  for (const NetworkResult& r : networks) n += r.status.is_ok();
  return n;
}

int ConvertResult::failed() const { return int(networks.size()) - converted(); }

ConvertResult convert_path(const std::string& in_path, const std::string& out_dir, const ConvertOptions& options) {
  ConvertResult result;
  const std::string name = fs::path(in_path).filename().string();
  std::vector<uint8_t> bytes;
  result.status = read_file(in_path, &bytes);
  if (!result.status) return result;
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    result.status = Status::error("cannot create output directory '%s': %s", out_dir.c_str(), ec.message().c_str());
    return result;
  }
  std::set<std::string> stems;
  const bool zip = bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4;
  if (!zip && !ends_with(lower(name), ".task")) {
    result.networks.emplace_back();
    convert_one(std::move(bytes), name, name, out_dir, options, &stems, &result.networks.back());
    return result;
  }
  bytes.clear();
  Expected<std::vector<BundleMember>> members = read_task_bundle(in_path);
  if (!members) {
    result.status = members.status();
    return result;
  }
  for (BundleMember& m : *members) {
    if (!ends_with(lower(m.name), ".tflite") && !is_face_geometry_source(m.name)) {
      result.skipped.push_back(m.name);
      continue;
    }
    result.networks.emplace_back();
    convert_one(std::move(m.bytes), m.name, name + "/" + m.name, out_dir, options, &stems,
                &result.networks.back());
  }
  if (result.networks.empty()) result.status = Status::error("%s: the bundle contains no .tflite network", name.c_str());
  return result;
}

std::string describe(const NetworkResult& n) {
  if (!n.status) return std::string("FAILED ") + n.status.message();
  if (n.kind == "face_geometry")
    return n.source + " -> " + n.output_path + ": face_geometry, canonical face model and Procrustes weights, " +
           std::to_string(n.file_size) + " bytes";
  int ops = 0;
  std::string counts;
  for (const auto& kv : n.op_counts) {
    ops += kv.second;
    counts += (counts.empty() ? "" : ", ") + kv.first + " " + std::to_string(kv.second);
  }
  const LoweringStats& s = n.stats;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%s -> %s: %s, %d ops (%s), %zu bytes; from %d TFLite ops: folded %d DEQUANTIZE%s, fused %d "
                "activations, %d residual ADDs, %d channel PADs, %d spatial PADs; %d dead ops, %d ops row-pruned",
                n.source.c_str(), n.output_path.c_str(), n.kind.c_str(), ops, counts.c_str(), n.file_size,
                s.source_ops, s.dequantize_folded,
                s.densify_folded ? (" and " + std::to_string(s.densify_folded) + " DENSIFY").c_str() : "",
                s.activations_fused, s.residual_adds_fused,
                s.channel_pads_absorbed, s.spatial_pads_folded, s.dead_ops, s.rows_pruned_ops);
  return buf;
}

Status convert_file(const std::string& in_path, const std::string& out_dir, std::vector<std::string>* written,
                    std::string* log) {
  ConvertResult r = convert_path(in_path, out_dir);
  if (!r.status) {
    if (log) *log += std::string(r.status.message()) + "\n";
    return r.status;
  }
  std::string failures;
  for (const NetworkResult& n : r.networks) {
    if (log) *log += describe(n) + "\n";
    if (n.status.is_ok()) {
      if (written) written->push_back(n.output_path);
    } else {
      failures += std::string(failures.empty() ? "" : "; ") + n.status.message();
    }
  }
  if (log)
    for (const std::string& s : r.skipped) *log += s + ": not a network, not converted\n";
  if (!failures.empty())
    return Status::error("%d of %zu networks converted; %s", r.converted(), r.networks.size(), failures.c_str());
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
