#!/usr/bin/env python3
"""Images per second over many images: facekit's CLI against native MediaPipe, in one run.

Both sides run the whole Face Landmarker (detector, Face Mesh V2, blendshapes, transformation
matrix; one face per image, MediaPipe's image mode) on the same files, decoding included, with N
workers on the same cores:
  - facekit: `build/tools/facekit landmarks FILES... --threads N --blendshapes --matrix --time`
    (N pipelines side by side, output kept in order); the rate is the one it prints on stderr
    (model loading excluded);
  - MediaPipe (PyPI mediapipe, Tasks FaceLandmarker): N processes, each with its own landmarker,
    taking every N-th file (mp.Image.create_from_file, then detect()); timed from a common start,
    after each process has loaded its models and run one warm-up image, to the last one's end.
Two sets: skimage_astronaut.png repeated, and the folder of test images (tests/data/images)
repeated. The rounds alternate which side goes first; the medians are reported with the ratio
(facekit's images/s over MediaPipe's: above 1, facekit does more).

  tools/setup.sh                      # builds build/tools/facekit, fetches the models
  python3 -m venv venv && venv/bin/pip install mediapipe==0.10.21
  venv/bin/python bench/throughput.py --threads 2
"""
import argparse
import glob
import multiprocessing as mproc
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, ".."))


def facekit_rate(binary, models, files, threads):
    cmd = [binary, "landmarks", *files, "--models", models, "--threads", str(threads), "--blendshapes", "--matrix",
           "--time"]
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    m = re.search(r"([0-9.]+) images/s", p.stderr)
    if p.returncode != 0 or not m:
        raise SystemExit(f"error: {' '.join(cmd[:3])} ... failed (exit {p.returncode}): {p.stderr.strip()[-300:]}")
    return float(m.group(1))


def _mediapipe_worker(task, files, barrier, out):
    from mediapipe.tasks.python import BaseOptions
    from mediapipe.tasks.python import vision
    import mediapipe as mp
    opts = vision.FaceLandmarkerOptions(base_options=BaseOptions(model_asset_path=task),
                                        running_mode=vision.RunningMode.IMAGE, num_faces=1,
                                        output_face_blendshapes=True, output_facial_transformation_matrixes=True)
    lm = vision.FaceLandmarker.create_from_options(opts)
    lm.detect(mp.Image.create_from_file(files[0]))  # warm-up
    barrier.wait()
    t0 = time.perf_counter()
    for f in files:
        lm.detect(mp.Image.create_from_file(f))
    out.put((t0, time.perf_counter()))


def mediapipe_rate(task, files, workers):
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's start-up chatter, in the children too
    ctx = mproc.get_context("spawn")
    barrier, out = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=_mediapipe_worker, args=(task, files[w::workers], barrier, out))
             for w in range(workers)]
    for p in procs:
        p.start()
    spans = [out.get() for _ in procs]
    for p in procs:
        p.join()
    t0 = min(s for s, _ in spans)
    t1 = max(e for _, e in spans)
    return len(files) / (t1 - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="workers on each side (default: 2)")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    ap.add_argument("--models", default=os.path.join(REPO, "weights"), help="facekit's .fkm folder")
    ap.add_argument("--task", default=os.path.join(REPO, "weights", "originals", "face_landmarker.task"),
                    help="MediaPipe's face_landmarker.task")
    ap.add_argument("--repeat", type=int, default=40, help="copies of the astronaut image (default: 40)")
    ap.add_argument("--folder-repeat", type=int, default=4, help="passes over the test images (default: 4)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    binary = os.path.join(args.build_dir, "tools", "facekit")
    if not os.access(binary, os.X_OK):
        sys.exit(f"error: {binary} not found: build it (tools/setup.sh)")
    if not os.path.exists(args.task):
        sys.exit(f"error: {args.task} not found: tools/fetch-models.sh keeps it in weights/originals")
    images = os.path.join(REPO, "tests", "data", "images")
    sets = {
        f"astronaut x{args.repeat}": [os.path.join(images, "skimage_astronaut.png")] * args.repeat,
        f"test images ({len(os.listdir(images))}) x{args.folder_repeat}":
            sorted(glob.glob(os.path.join(images, "*"))) * args.folder_repeat,
    }
    rates = {name: {"facekit": [], "mediapipe": []} for name in sets}
    for r in range(args.rounds):
        for name, files in sets.items():
            sides = ["facekit", "mediapipe"] if r % 2 == 0 else ["mediapipe", "facekit"]
            for side in sides:
                rate = (facekit_rate(binary, args.models, files, args.threads) if side == "facekit"
                        else mediapipe_rate(args.task, files, args.threads))
                rates[name][side].append(rate)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    import mediapipe
    print(f"\nworkers: {args.threads} on each side; {os.cpu_count()} cpus; mediapipe {mediapipe.__version__}; "
          f"median of {args.rounds} rounds; decoding included, model loading not")
    print(f"{'set':<28} {'facekit img/s':>14} {'MediaPipe img/s':>16} {'ratio':>7}")
    for name in sets:
        f = statistics.median(rates[name]["facekit"])
        m = statistics.median(rates[name]["mediapipe"])
        print(f"{name:<28} {f:>14.1f} {m:>16.1f} {f / m:>6.2f}x")


if __name__ == "__main__":
    main()
