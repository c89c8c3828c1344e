// facekit - command-line tool.
//
//   facekit convert IN.(tflite|task|fkm)... -o OUT_DIR [--emit-header] [--dump-passes]
//   facekit detect IMAGE... --models DIR [--json] [--overlay OUT.png] [--min-score S] [--nms S] [--threads N]
//   facekit landmarks|track IMAGE... (see facekit landmarks --help)
//   facekit profile MODEL.fkm... [--runs N] [--warmup N] [--device D]... [--threads N]
//   facekit devices
//
// Errors go to stderr with a non-zero exit status.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.hpp"

namespace {

int usage(std::FILE* f) {
  std::fprintf(f,
               "usage:\n"
               "  facekit convert IN.(tflite|task|fkm)... -o OUT_DIR [--emit-header] [--dump-passes]\n"
               "      convert MediaPipe models into facekit model files (.fkm); a .task bundle\n"
               "      yields one file per network. Exit 0: all converted; 2: some networks of a\n"
               "      bundle use ops facekit cannot run yet (the others were written); 1: error.\n"
               "      --emit-header also writes OUT_DIR/<name>_fkm.hpp per model (an .fkm input: only\n"
               "      that): the file as an alignas(64) byte array the loader uses in place, and\n"
               "      <name>_arena_size, the activation memory a CPU session needs (firmware).\n"
               "      Each file is written under a temporary name and renamed into place: a failure\n"
               "      leaves an existing .fkm as it was. A bad input is reported and the rest go on.\n"
               "  facekit detect IMAGE... --models DIR [--json] [--overlay OUT.png]\n"
               "                [--min-score S] [--nms IOU] [--max-faces N] [--model-file FKM] [--device D]\n"
               "                [--threads N] [--max-pixels N] [--time]\n"
               "      detect faces with DIR/face_detector.fkm (--model-file: another detector, e.g.\n"
               "      weights/face_detection_full_range_sparse.fkm); --json prints one JSON object per\n"
               "      image per line; --overlay draws boxes and keypoints (with several images,\n"
               "      OUT.png gets the image's name inserted: OUT-<name>.png). --threads N: one image's\n"
               "      ops split over N threads, or N images at a time side by side (output in order).\n"
               "      --max-pixels N (default 67108864, also for landmarks and track): an image whose\n"
               "      header claims more pixels is refused before decoding; the other images still run.\n"
               "  facekit landmarks IMAGE... [--models DIR] [--mesh v2|attention] [--json] [--overlay OUT.png]\n"
               "                [--num-faces N] [--blendshapes] [--matrix] [--threads N] ...\n"
               "      478 face landmarks per face (MediaPipe's FaceLandmarker or, with --mesh attention,\n"
               "      the legacy Face Mesh), optionally blendshapes and the transformation matrix.\n"
               "  facekit track FRAME... [--fps F] (options of landmarks)\n"
               "      the same on consecutive video frames, tracking faces; one line per frame.\n"
               "  facekit profile MODEL.fkm... [--runs N] [--warmup N] [--device D]... [--threads N]\n"
               "      every op of a converted model: output shape, median time, GFLOP/s and share.\n"
               "  facekit devices\n"
               "      the devices --device D takes: cpu, and each OpenCL platform's devices as\n"
               "      opencl:P:D (when built with FACEKIT_WITH_OPENCL). FACEKIT_DEVICE=D overrides --device.\n"
               "  facekit COMMAND --help shows a command's options.\n");
  return f == stderr ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(stderr);
  const std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "-h" || cmd == "--help" || cmd == "help") return usage(stdout);
  if (cmd == "convert") return facekit_cli::cmd_convert(args);
  if (cmd == "detect") return facekit_cli::cmd_detect(args);
  if (cmd == "landmarks") return facekit_cli::cmd_landmarks(args);
  if (cmd == "track") return facekit_cli::cmd_track(args);
  if (cmd == "profile") return facekit_cli::cmd_profile(args);
  if (cmd == "devices") return facekit_cli::cmd_devices(args);
  std::fprintf(stderr, "facekit: unknown command '%s'\n", cmd.c_str());
  return usage(stderr);
}
