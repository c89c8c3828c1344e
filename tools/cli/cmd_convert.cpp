#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "convert/converter.hpp"
#include "convert/graph.hpp"
#include "convert/model_header.hpp"

namespace facekit_cli {

int cmd_convert(const std::vector<std::string>& args) {
  std::vector<std::string> inputs;
  std::string out_dir;
  facekit::convert::ConvertOptions options;
  bool emit_header = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--emit-header") {
      emit_header = true;
    } else if (args[i] == "--dump-passes") {
      // The graph after each pass, on stdout: where an unfamiliar model stops, and what each
      // pass made of it up to there.
      options.after_pass = [](const char* pass, const facekit::convert::LoweringGraph& g) {
        std::printf("== %s: after %s ==\n%s", g.source->source.c_str(), pass,
                    facekit::convert::dump_graph(g).c_str());
      };
    } else if (args[i] == "-o" || args[i] == "--output") {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "facekit convert: %s needs a directory\n", args[i].c_str());
        return 1;
      }
      out_dir = args[++i];
    } else if (args[i].size() > 1 && args[i][0] == '-') {
      std::fprintf(stderr, "facekit convert: unknown option '%s'\n", args[i].c_str());
      return 1;
    } else {
      inputs.push_back(args[i]);
    }
  }
  // Past a file size limit a write fails (and its temporary file is removed) instead of the
  // signal killing the program with a partial file left behind.
  std::signal(SIGXFSZ, SIG_IGN);
  if (inputs.empty() || out_dir.empty()) {
    std::fprintf(stderr, "usage: facekit convert IN.(tflite|task|fkm)... -o OUT_DIR [--emit-header] [--dump-passes]\n");
    return 1;
  }
  // Each input on its own: a bad one is reported, naming it, and the rest still convert.
  int converted = 0, failed = 0;
  bool unreadable = false;
  // --emit-header: OUT_DIR/<name>_fkm.hpp beside each model written (or for each .fkm given).
  const auto header = [&](const std::string& fkm) {
    std::string written;
    const facekit::Status s = facekit::convert::write_model_header(fkm, out_dir, &written);
    if (!s) {
      std::fprintf(stderr, "facekit convert: %s\n", s.message());
      unreadable = true;
      return;
    }
    std::printf("%s -> %s\n", fkm.c_str(), written.c_str());
  };
  for (const std::string& in : inputs) {
    if (in.size() > 4 && in.compare(in.size() - 4, 4, ".fkm") == 0) {
      if (!emit_header) {
        std::fprintf(stderr, "facekit convert: %s is a facekit model already (--emit-header makes a header of it)\n",
                     in.c_str());
        unreadable = true;
        continue;
      }
      header(in);
      if (!unreadable) ++converted;
      continue;
    }
    const facekit::convert::ConvertResult r = facekit::convert::convert_path(in, out_dir, options);
    if (!r.status) {
      std::fprintf(stderr, "facekit convert: %s: %s\n", in.c_str(), r.status.message());
      unreadable = true;
      continue;
    }
    for (const auto& n : r.networks) {
      if (n.status) {
        std::printf("%s\n", facekit::convert::describe(n).c_str());
        if (emit_header && !n.output_path.empty()) header(n.output_path);
      } else {
        std::fprintf(stderr, "facekit convert: %s: %s\n", in.c_str(), facekit::convert::describe(n).c_str());
      }
    }
    for (const auto& s : r.skipped) std::printf("%s: skipped (not a network)\n", s.c_str());
    converted += r.converted();
    failed += r.failed();
  }
  // 0: everything converted; 2: some networks use ops facekit cannot run yet; 1: nothing usable.
  if (unreadable || converted == 0) return 1;
  return failed ? 2 : 0;
}

}  // namespace facekit_cli
