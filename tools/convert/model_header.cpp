#include "convert/model_header.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

#include "facekit/model/model.hpp"
#include "facekit/runtime/activation_plan.hpp"

namespace fs = std::filesystem;

namespace facekit {
namespace convert {

std::string header_symbol(const std::string& fkm_path) {
  std::string stem = fs::path(fkm_path).stem().string();
  if (stem.empty()) stem = "model";
  for (char& c : stem)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) c = '_';
  if (stem[0] >= '0' && stem[0] <= '9') stem = "_" + stem;
  return stem;
}

Status write_model_header(const std::string& fkm_path, const std::string& out_dir, std::string* written) {
  Expected<Model> model = Model::load_file(fkm_path);
  if (!model) return model.status();
  const std::size_t arena = plan_activations(*model).arena_size;

  // The bytes again, exactly as on disk (the Model keeps its own copy private).
  std::vector<unsigned char> bytes(model->file_size());
  {
    std::ifstream f(fkm_path, std::ios::binary);
    if (!f.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(bytes.size())))
      return Status::error("cannot read model file '%s'", fkm_path.c_str());
  }

  const std::string sym = header_symbol(fkm_path);
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return Status::error("cannot create directory '%s': %s", out_dir.c_str(), ec.message().c_str());
  const std::string path = (fs::path(out_dir) / (sym + "_fkm.hpp")).string();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Status::error("cannot create '%s'", tmp.c_str());
    f << "// " << sym << "_fkm.hpp - written by `facekit convert --emit-header` from "
      << fs::path(fkm_path).filename().string() << " (model kind '" << model->kind() << "', " << bytes.size()
      << " bytes). Do not edit.\n"
      << "//\n"
      << "//   auto model = facekit::Model::from_bytes(" << sym << "_fkm, sizeof " << sym
      << "_fkm);  // used in place, no copy\n"
      << "//   alignas(64) static unsigned char arena[" << sym << "_arena_size];  // caller activation memory\n"
      << "#pragma once\n\n#include <cstddef>\n\n"
      << "/// The model file, verbatim, aligned as Model::from_bytes requires.\n"
      << "alignas(64) inline constexpr unsigned char " << sym << "_fkm[" << bytes.size() << "] = {\n";
    // Decimal, 24 a line: about 4 characters a byte.
    char buf[8];
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%u,", unsigned(bytes[i]));
      f << buf;
      if (i % 24 == 23 || i + 1 == bytes.size()) f << '\n';
    }
    f << "};\n\n"
      << "/// Bytes of activation memory a CPU session of this model needs (Program::arena_size).\n"
      << "inline constexpr std::size_t " << sym << "_arena_size = " << arena << ";\n";
    f.close();
    if (!f) {
      std::remove(tmp.c_str());
      return Status::error("cannot write '%s' (disk full?)", tmp.c_str());
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    return Status::error("cannot rename '%s' to '%s': %s", tmp.c_str(), path.c_str(), ec.message().c_str());
  }
  if (written) *written = path;
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
