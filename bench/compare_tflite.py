#!/usr/bin/env python3
"""Side-by-side timing: the TFLite interpreter vs facekit, in one run.

For each model in MODELS, alternately (several rounds, so that machine noise hits both):
  - TFLite (ai_edge_litert, default op resolver = XNNPACK delegate, num_threads = --threads,
    default 1): `invoke()` on a fixed input, timed one call at a time after a warm-up;
  - facekit: build/bench/facekit_bench --benchmark_filter='^NAME$' --benchmark_repetitions=N
    --benchmark_report_aggregates_only=true --benchmark_format=json, using the `median`
    aggregate's real_time.
Reports the median of all TFLite invokes, the median of facekit's per-round medians, and the
ratio facekit / TFLite (below 1: facekit is faster); the same for CPU time (TFLite: the invoking
thread's CPU time; facekit: Google Benchmark's cpu_time), which other load on the machine
disturbs much less than wall-clock time. With --threads N both run N threads (facekit_bench reads
FACEKIT_THREADS); the CPU columns then count the calling thread only, so compare the wall clock.

`--what detect` times facekit's whole detect call (preprocessing + network + decoding + NMS)
against TFLite's invoke alone, i.e. facekit carries extra work in that comparison.

`--what track` times one video frame with the face tracked (crop, landmark network, decoding,
next ROI) against native MediaPipe (PyPI mediapipe) doing the same in its own graph on the same
image (skimage_astronaut.png): the legacy Face Mesh with refine_landmarks (the Attention Mesh,
which TFLite cannot load alone because of its custom ops) and the Tasks FaceLandmarker in VIDEO
mode. MediaPipe runs its graph on its own threads, so its CPU column is the process CPU time.

  cmake -G Ninja -B build -DCMAKE_BUILD_TYPE=Release && ninja -C build facekit_bench
  tools/fetch-models.sh                               # facekit_bench reads weights/
  python3 bench/compare_tflite.py                     # face_detector network
  python3 bench/compare_tflite.py --what model,detect --rounds 5 --json out.json
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, ".."))


@dataclass
class Model:
    name: str
    # A file in the models folder, or "bundle.task:member.tflite" for a member of a zip bundle;
    # several joined by "+" are invoked one after the other (a pipeline of networks).
    source: str
    # What facekit times -> its Google Benchmark name. "model": the network alone.
    benchmarks: dict = field(default_factory=dict)


# Add a row per model as facekit grows. A source "mediapipe:KIND" times native MediaPipe instead
# of TFLite (MediaPipeTimer).
MODELS = [
    Model("face_detector", "face_landmarker.task:face_detector.tflite",
          {"model": "BM_face_detector_model", "detect": "BM_face_detector_detect"}),
    Model("full_range", "face_detection_full_range.tflite", {"model": "BM_face_detector_full_range_model"}),
    Model("full_range_sparse", "face_detection_full_range_sparse.tflite",
          {"model": "BM_face_detector_full_range_sparse_model",
           "detect": "BM_face_detector_full_range_sparse_detect"}),
    Model("landmarks", "face_landmarker.task:face_landmarks_detector.tflite",
          {"model": "BM_landmark_model/attention:0", "detect": "BM_face_landmarker_detect/attention:0"}),
    Model("face_blendshapes", "face_landmarker.task:face_blendshapes.tflite",
          {"model": "BM_face_blendshapes_model"}),
    # facekit's whole FaceLandmarker (detect + V2 + blendshapes + matrix, one face) against TFLite
    # invoking the same three networks back to back (no pre/post-processing on its side).
    Model("landmarker_pipeline",
          "face_landmarker.task:face_detector.tflite+face_landmarker.task:face_landmarks_detector.tflite"
          "+face_landmarker.task:face_blendshapes.tflite",
          {"detect": "BM_face_landmarker_detect_full"}),
    # One tracked video frame, against native MediaPipe's own pipeline.
    Model("legacy_mesh_track", "mediapipe:legacy_face_mesh", {"track": "BM_face_landmarker_track/attention:1"}),
    Model("v2_video_track", "mediapipe:face_landmarker_video", {"track": "BM_face_landmarker_track/attention:0"}),
]

TIME_UNIT_TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def load_model_bytes(models_dir, source):
    return [load_one_model(models_dir, part) for part in source.split("+")]


def load_one_model(models_dir, source):
    bundle, _, member = source.partition(":")
    path = os.path.join(models_dir, bundle)
    try:
        if member:
            with zipfile.ZipFile(path) as z:
                return z.read(member)
        with open(path, "rb") as f:
            return f.read()
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        raise SystemExit(f"error: cannot read {source} from {models_dir}: {e}")


def time_calls(call, warmup, invokes, cpu_clock_ns):
    """Wall and CPU milliseconds of each of `invokes` calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    wall, cpu = [], []
    for _ in range(invokes):
        c0 = cpu_clock_ns()
        t0 = time.perf_counter_ns()
        call()
        t1 = time.perf_counter_ns()
        cpu.append((cpu_clock_ns() - c0) * 1e-6)
        wall.append((t1 - t0) * 1e-6)
    return wall, cpu


class TfliteTimer:
    def __init__(self, models, threads):
        from ai_edge_litert.interpreter import Interpreter
        # Default op resolver: XNNPACK. Several models are invoked in sequence.
        self.its = [Interpreter(model_content=b, num_threads=threads) for b in models]
        for it in self.its:
            self.prepare(it)

    @staticmethod
    def prepare(it):
        it.allocate_tensors()
        for d in it.get_input_details():
            if d["dtype"] != np.float32:
                raise SystemExit(f"error: input {d['name']} is {d['dtype']}, only float32 inputs are handled")
            # The fixed input of facekit's benchmarks (bench/bench_detector.cpp): a ramp in [-1, 1],
            # x[i] = (i % 255) * (2/255) - 1 over the flat tensor.
            n = int(np.prod(d["shape"]))
            ramp = (np.arange(n) % 255).astype(np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0)
            it.set_tensor(d["index"], ramp.reshape(d["shape"]))

    def invoke(self):
        for it in self.its:
            it.invoke()

    def run(self, warmup, invokes):
        # num_threads=1: all work is on this thread, so its CPU time is the whole cost.
        return time_calls(self.invoke, warmup, invokes, time.thread_time_ns)


class MediaPipeTimer:
    """Native MediaPipe (PyPI mediapipe) tracking a face from frame to frame on one image."""

    def __init__(self, kind, models_dir):
        import cv2
        import mediapipe as mp
        path = os.path.join(REPO, "tests", "data", "images", "skimage_astronaut.png")
        bgr = cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)  # PNG: as stb_image
        if bgr is None:
            raise SystemExit(f"error: cannot read {path}")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if kind == "legacy_face_mesh":
            mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1, refine_landmarks=True)
            self.call = lambda: mesh.process(rgb)
            self.keep = mesh
        elif kind == "face_landmarker_video":
            from mediapipe.tasks.python import BaseOptions
            from mediapipe.tasks.python import vision
            opts = vision.FaceLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=os.path.join(models_dir, "face_landmarker.task")),
                running_mode=vision.RunningMode.VIDEO, num_faces=1)
            lm = vision.FaceLandmarker.create_from_options(opts)
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
            self.t = 0

            def call():
                self.t += 33
                return lm.detect_for_video(image, self.t)
            self.call = call
            self.keep = lm
        else:
            raise SystemExit(f"error: unknown MediaPipe timer {kind}")

    def run(self, warmup, invokes):
        # MediaPipe's graph works on its own threads: count the whole process's CPU time.
        return time_calls(self.call, warmup, invokes, time.process_time_ns)


def make_timer(m, models_dir, threads):
    if m.source.startswith("mediapipe:"):
        return MediaPipeTimer(m.source.partition(":")[2], models_dir)
    return TfliteTimer(load_model_bytes(models_dir, m.source), threads)


def run_facekit(binary, bench_name, repetitions, extra, threads=1):
    env = dict(os.environ, FACEKIT_THREADS=str(threads))  # bench/bench_threads.hpp
    cmd = [binary, f"--benchmark_filter=^{bench_name}$", f"--benchmark_repetitions={repetitions}",
           "--benchmark_report_aggregates_only=true", "--benchmark_format=json"] + extra
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        doc = json.loads(p.stdout) if p.stdout.strip() else {}
    except json.JSONDecodeError:
        doc = {}
    rows = [b for b in doc.get("benchmarks", []) if b.get("run_name", b.get("name")) == bench_name]
    for b in rows:
        if b.get("error_occurred"):
            raise RuntimeError(f"{bench_name}: {b.get('error_message', 'error')}")
    med = [b for b in rows if b.get("aggregate_name") == "median"]
    if not med:
        # A single repetition yields no aggregates: accept the plain run then.
        med = [b for b in rows if b.get("run_type", "iteration") == "iteration"] if repetitions == 1 else []
    if p.returncode != 0 or not med:
        tail = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"{bench_name}: no median from {binary} "
                           f"(exit {p.returncode}; {tail}); is the benchmark built under that name?")
    b = med[0]
    unit = TIME_UNIT_TO_MS[b.get("time_unit", "ns")]
    return b["real_time"] * unit, b.get("cpu_time", float("nan")) * unit, doc.get("context", {})


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build"), help="CMake build folder (default: build)")
    ap.add_argument("--bench-binary", help="facekit_bench path (default: BUILD_DIR/bench/facekit_bench)")
    ap.add_argument("--models-dir", default=os.path.join(REPO, "weights", "originals"),
                    help="folder with the original .tflite/.task files (default: weights/originals, "
                         "where tools/fetch-models.sh keeps them)")
    ap.add_argument("--model", action="append", choices=[m.name for m in MODELS],
                    help="model(s) to time (default: all)")
    ap.add_argument("--what", default="model",
                    help="comma list of facekit benchmark kinds: model, detect, track (default: model)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (default: 3)")
    ap.add_argument("--repetitions", type=int, default=10,
                    help="facekit --benchmark_repetitions per round (default: 10)")
    ap.add_argument("--invokes", type=int, default=200, help="timed TFLite invokes per round (default: 200)")
    ap.add_argument("--warmup", type=int, default=20, help="TFLite warm-up invokes per round (default: 20)")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads of both: TFLite's num_threads, facekit's num_threads (FACEKIT_THREADS) (default: 1)")
    ap.add_argument("--benchmark-arg", action="append", default=[],
                    help="extra argument for facekit_bench, e.g. --benchmark-arg=--benchmark_min_time=0.2")
    ap.add_argument("--tflite-only", action="store_true", help="time TFLite alone (no facekit build needed)")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args()

    kinds = [k.strip() for k in args.what.split(",") if k.strip()]
    # Without --model: every model that has all the requested kinds.
    models = [m for m in MODELS
              if (m.name in args.model if args.model else all(k in m.benchmarks for k in kinds))]
    pairs = []
    for m in models:
        for k in kinds:
            if k not in m.benchmarks:
                ap.error(f"model {m.name} has no facekit benchmark of kind '{k}' (has {sorted(m.benchmarks)})")
            pairs.append((m, k))
    if args.rounds < 1 or args.repetitions < 1 or args.invokes < 1 or args.warmup < 0:
        ap.error("--rounds, --repetitions and --invokes must be >= 1, --warmup >= 0")

    binary = args.bench_binary or os.path.join(args.build_dir, "bench", "facekit_bench")
    if not args.tflite_only and not os.access(binary, os.X_OK):
        sys.exit(f"error: {binary} not found; build it (cmake -G Ninja -B build -DCMAKE_BUILD_TYPE=Release && "
                 f"ninja -C build facekit_bench), pass --build-dir/--bench-binary, or use --tflite-only")

    import ai_edge_litert
    timers = {m.name: make_timer(m, args.models_dir, args.threads) for m in models}
    tfl = {m.name: [] for m in models}             # every timed invoke (ms, wall clock)
    tfl_cpu = {m.name: [] for m in models}         # the same invokes' thread CPU time (ms)
    fk = {(m.name, k): [] for m, k in pairs}        # one median per round (ms, real_time)
    fk_cpu = {(m.name, k): [] for m, k in pairs}    # the same rounds' median cpu_time (ms)
    context = {}
    errors = {}

    for r in range(args.rounds):
        facekit_first = r % 2 == 1  # alternate the order, so neither side always runs on a warm/cold machine
        for m in models:
            steps = ["tflite", "facekit"]
            if facekit_first:
                steps.reverse()
            for step in steps:
                if step == "tflite":
                    wall, cpu = timers[m.name].run(args.warmup, args.invokes)
                    tfl[m.name] += wall
                    tfl_cpu[m.name] += cpu
                elif not args.tflite_only:
                    for mm, k in pairs:
                        if mm is not m or (m.name, k) in errors:
                            continue
                        try:
                            ms, cpu_ms, context = run_facekit(binary, m.benchmarks[k], args.repetitions,
                                                              args.benchmark_arg, args.threads)
                            fk[(m.name, k)].append(ms)
                            fk_cpu[(m.name, k)].append(cpu_ms)
                        except RuntimeError as e:
                            errors[(m.name, k)] = str(e)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    results = []
    print(f"\npeer (unless noted): TFLite ai_edge_litert {ai_edge_litert.__version__}, XNNPACK delegate, num_threads={args.threads}; "
          f"{args.rounds} rounds x {args.invokes} invokes (median of all)")
    if not args.tflite_only:
        print(f"facekit: {binary}, num_threads={args.threads}, {args.rounds} rounds x {args.repetitions} repetitions "
              f"(median of the per-round medians)")
        if context:
            print(f"machine: {context.get('num_cpus', '?')} cpus @ {context.get('mhz_per_cpu', '?')} MHz, "
                  f"cpu scaling {'on' if context.get('cpu_scaling_enabled') else 'off'}, "
                  f"load average {context.get('load_avg', '?')}")
    print()
    header = f"{'model':18s} {'facekit benchmark':38s} {'peer ms':>10s} {'facekit ms':>11s} {'facekit/peer':>15s}"
    print(header)
    print("-" * len(header))
    for m in models:
        t = summary(tfl[m.name])
        row_kinds = kinds if not args.tflite_only else [None]
        for k in row_kinds:
            entry = {"model": m.name, "source": m.source, "tflite_ms": t,
                     "tflite_cpu_ms": summary(tfl_cpu[m.name])}
            bench = m.benchmarks[k] if k else "-"
            fk_txt, ratio_txt = "-", "-"
            if k:
                entry["facekit_benchmark"] = bench
                vals = fk[(m.name, k)]
                if (m.name, k) in errors:
                    entry["error"] = errors[(m.name, k)]
                    fk_txt, ratio_txt = "error", ""
                elif vals:
                    f = summary(vals)
                    entry["facekit_ms"] = f
                    entry["facekit_cpu_ms"] = summary(fk_cpu[(m.name, k)])
                    entry["ratio"] = f["median"] / t["median"]
                    entry["cpu_ratio"] = entry["facekit_cpu_ms"]["median"] / entry["tflite_cpu_ms"]["median"]
                    fk_txt = f"{f['median']:.3f}"
                    ratio_txt = f"{entry['ratio']:.2f}x"
            note = " (+pre/post-processing)" if k == "detect" else ""
            if m.source.startswith("mediapipe:"):
                note = f" (peer: native MediaPipe {m.source.partition(':')[2]}, whole frame)"
            print(f"{m.name:18s} {bench:38s} {t['median']:10.3f} {fk_txt:>11s} {ratio_txt:>15s}{note}")
            results.append(entry)
    print()
    # CPU time of the timing thread: much less affected by other processes on a shared machine.
    for e in results:
        if "facekit_cpu_ms" in e:
            print(f"cpu time: {e['model']} {e['facekit_benchmark']}: peer {e['tflite_cpu_ms']['median']:.3f} ms, "
                  f"facekit {e['facekit_cpu_ms']['median']:.3f} ms, facekit/peer {e['cpu_ratio']:.2f}x")
    for m in models:
        t = summary(tfl[m.name])
        print(f"spread: {m.name} peer calls {t['min']:.3f}..{t['max']:.3f} ms")
        for k in kinds:
            vals = fk.get((m.name, k), [])
            if vals:
                print(f"spread: {m.name} facekit {m.benchmarks[k]} round medians "
                      + ", ".join(f"{v:.3f}" for v in vals) + " ms")
    for (name, k), msg in errors.items():
        print(f"error: {msg}", file=sys.stderr)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"tflite": {"ai_edge_litert": ai_edge_litert.__version__, "threads": args.threads,
                                  "invokes_per_round": args.invokes, "warmup": args.warmup},
                       "facekit": {"binary": binary, "repetitions": args.repetitions, "context": context},
                       "rounds": args.rounds, "results": results}, f, indent=2)
            f.write("\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
