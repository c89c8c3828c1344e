#!/usr/bin/env python3
"""Video-mode golden data from native MediaPipe (PyPI mediapipe, CPU) for facekit's detect_for_video test.

The sequence: NFRAMES synthetic frames of W x H pixels, each a nearest-neighbour affine warp of
tests/data/images/skimage_astronaut.png (512 x 512 PNG, so cv2 and stb_image decode the same RGB8
bytes) done in exact integer arithmetic, so that tests/video_frames.hpp rebuilds byte-identical
frames in C++. Output pixel (x, y) of a frame takes source pixel

    sx = (a*x + b*y + c) >> 16,   sy = (d*x + e*y + f) >> 16      (floor shift, int64)

or the grey GREY when (sx, sy) falls outside the source. The integers a..f are the frame's path
pose (shift, rotation, zoom; see PATH) in 16.16 fixed point; pixel centres map to pixel centres
(the +0.5 offsets are folded into c and f). One frame, NO_FACE_FRAME, is uniform GREY (no face),
after which the face comes back. Every frame's RGB bytes (row-major, 3 bytes a pixel, no padding)
are hashed with 64-bit FNV-1a so the C++ side can prove it rebuilt the same pixels.

Three MediaPipe runs over the frames, in order:
  tasks_video   Tasks FaceLandmarker (face_landmarker.task), running_mode VIDEO, num_faces 1,
                other options default; detect_for_video(frame, timestamp_ms), timestamps
                0, 33, 66, ... ms. With num_faces 1 MediaPipe applies its one-euro landmark
                smoothing in this mode (wanted: that is what facekit reproduces).
  legacy_video  legacy mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1,
                refine_landmarks=True, min_detection/tracking_confidence=0.5): the wheel's own
                face_detection_short_range.tflite and face_landmark_with_attention.tflite
                (their sha256 go into the manifest). No smoothing in that graph.
  tasks_image   Tasks FaceLandmarker in IMAGE mode on each frame (sanity reference: shows how far
                tracking + smoothing moves the points).

Written into tests/data/video/:
  <run>.landmarks.npy   float32 [NFRAMES, 478, 3]: x, y normalised by W, H; z as MediaPipe gives it.
                        Frames where the run found no face hold NaN.
  video_golden.json     source image + sha256, frame size, per-frame coefficients / hash /
                        timestamp / no-face flag, per-run face counts and detector-run frames
                        (derived by MediaPipe's rule), options, versions, model sha256s.

  python3 tests/gen/make_video_golden.py                    # (re)generate
  python3 tests/gen/make_video_golden.py --check            # regenerate in memory, compare, exit 1 on a difference
  python3 tests/gen/make_video_golden.py --write-frames DIR # also write DIR/frame_NN.png (for `facekit track`)
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import add_input_args, exit_code, sha256  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

SOURCE = "skimage_astronaut.png"
W, H = 384, 320            # deliberately non-square
FRAC_BITS = 16             # fixed point of the warp coefficients
GREY = (114, 114, 114)     # out-of-source pixels and the whole no-face frame
NUM_LANDMARKS = 478
FRAME_MS = 33              # timestamp of frame k: k * FRAME_MS
# The source point that the path moves around (between the eyes and the chin of the astronaut,
# MediaPipe's detection box there is about (177, 82) + 95 x 95 px), and where it sits in frame 0.
ANCHOR_SRC = (224.0, 150.0)
ANCHOR_OUT = (W / 2.0, H / 2.0)
NO_FACE_FRAME = 6
# Per frame: (shift x px, shift y px, rotation of the face in the frame in degrees (counter-
# clockwise on screen), zoom). None = the no-face frame. Steps are a few px / degrees / percent;
# rotation stays within about +-15 degrees, zoom within 0.85..1.15.
PATH = [
    (0, 0, 0.0, 1.00),
    (3, 1, 2.5, 1.03),
    (6, 3, 5.0, 1.06),
    (9, 4, 7.5, 1.09),
    (11, 6, 10.0, 1.12),
    (13, 7, 12.0, 1.14),
    None,
    (8, 5, 9.0, 1.10),
    (4, 2, 5.0, 1.04),
    (0, -1, 1.0, 0.98),
    (-4, -3, -3.0, 0.92),
    (-7, -4, -6.0, 0.87),
]
NFRAMES = len(PATH)
assert PATH[NO_FACE_FRAME] is None and sum(p is None for p in PATH) == 1

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = 0xFFFFFFFFFFFFFFFF

TASKS_OPTIONS = {"num_faces": 1, "min_face_detection_confidence": 0.5, "min_face_presence_confidence": 0.5,
                 "min_tracking_confidence": 0.5, "output_face_blendshapes": False,
                 "output_facial_transformation_matrixes": False, "delegate": "CPU"}
LEGACY_OPTIONS = {"static_image_mode": False, "max_num_faces": 1, "refine_landmarks": True,
                  "min_detection_confidence": 0.5, "min_tracking_confidence": 0.5}
RUNS = ("tasks_video", "legacy_video", "tasks_image")


def fnv1a64(data):
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & MASK64
    return h


def coefficients(pose):
    """16.16 integers (a, b, c, d, e, f) of output pixel -> source pixel for one path pose."""
    dx, dy, deg, zoom = pose
    # Output point p maps to source ANCHOR_SRC + R(theta) (p - anchor_out) / zoom: the face appears
    # rotated by -theta in image coordinates (y down), i.e. counter-clockwise by deg on screen.
    t = math.radians(deg)
    cs, sn = math.cos(t) / zoom, math.sin(t) / zoom
    ox, oy = ANCHOR_OUT[0] + dx, ANCHOR_OUT[1] + dy
    # Continuous source coordinate of output pixel centre (x + 0.5, y + 0.5); floor of it is the
    # nearest source pixel (pixel i covers [i, i + 1)).
    a, b = cs, -sn
    d, e = sn, cs
    c = ANCHOR_SRC[0] + a * (0.5 - ox) + b * (0.5 - oy)
    f = ANCHOR_SRC[1] + d * (0.5 - ox) + e * (0.5 - oy)
    one = 1 << FRAC_BITS
    return [int(round(v * one)) for v in (a, b, c, d, e, f)]


def make_frame(src, coef):
    """The integer warp; numpy's >> on int64 is an arithmetic (floor) shift, as in C++ helper."""
    out = np.empty((H, W, 3), dtype=np.uint8)
    out[:] = GREY
    if coef is None:
        return out
    a, b, c, d, e, f = (np.int64(v) for v in coef)
    x = np.arange(W, dtype=np.int64)[None, :]
    y = np.arange(H, dtype=np.int64)[:, None]
    sx = (a * x + b * y + c) >> FRAC_BITS
    sy = (d * x + e * y + f) >> FRAC_BITS
    sh, sw = src.shape[:2]
    inside = (sx >= 0) & (sx < sw) & (sy >= 0) & (sy < sh)
    out[inside] = src[sy[inside], sx[inside]]
    return out


def load_rgb(path):
    import cv2
    bgr = cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        sys.exit(f"error: cannot decode image {path}")
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def landmarks_array(face_lists):
    """[NFRAMES, 478, 3] float32; NaN where no face. face_lists[k]: list of 478 (x, y, z) or None."""
    arr = np.full((NFRAMES, NUM_LANDMARKS, 3), np.nan, dtype=np.float32)
    for k, pts in enumerate(face_lists):
        if pts is not None:
            if len(pts) != NUM_LANDMARKS:
                sys.exit(f"error: frame {k}: {len(pts)} landmarks, expected {NUM_LANDMARKS}")
            arr[k] = np.asarray(pts, dtype=np.float32)
    return arr


def run_tasks(frames, model_path, video):
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions
    from mediapipe.tasks.python.vision import FaceLandmarker, FaceLandmarkerOptions, RunningMode
    opt = FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=model_path, delegate=BaseOptions.Delegate.CPU),
        running_mode=RunningMode.VIDEO if video else RunningMode.IMAGE,
        num_faces=TASKS_OPTIONS["num_faces"],
        min_face_detection_confidence=TASKS_OPTIONS["min_face_detection_confidence"],
        min_face_presence_confidence=TASKS_OPTIONS["min_face_presence_confidence"],
        min_tracking_confidence=TASKS_OPTIONS["min_tracking_confidence"],
        output_face_blendshapes=False, output_facial_transformation_matrixes=False)
    counts, faces = [], []
    with FaceLandmarker.create_from_options(opt) as lm:
        for k, fr in enumerate(frames):
            img = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(fr))
            r = lm.detect_for_video(img, k * FRAME_MS) if video else lm.detect(img)
            counts.append(len(r.face_landmarks))
            faces.append([(p.x, p.y, p.z) for p in r.face_landmarks[0]] if r.face_landmarks else None)
    return counts, faces


def run_legacy(frames):
    import mediapipe as mp
    counts, faces = [], []
    with mp.solutions.face_mesh.FaceMesh(**LEGACY_OPTIONS) as fm:
        for fr in frames:
            r = fm.process(np.ascontiguousarray(fr))
            found = r.multi_face_landmarks or []
            counts.append(len(found))
            faces.append([(p.x, p.y, p.z) for p in found[0].landmark] if found else None)
    return counts, faces


def detector_frames(counts, num_faces):
    """MediaPipe's stream-mode rule: the detector runs when the previous frame tracked < num_faces."""
    return [k for k in range(len(counts)) if k == 0 or counts[k - 1] < num_faces]


def nme_stats(a, b):
    """Mean point error / IOD (landmarks 33, 263 of b, in pixels) per frame where both have a face."""
    out = []
    for k in range(NFRAMES):
        if np.isnan(a[k]).any() or np.isnan(b[k]).any():
            continue
        pa = a[k, :, :2].astype(np.float64) * (W, H)
        pb = b[k, :, :2].astype(np.float64) * (W, H)
        iod = float(np.hypot(*(pb[33] - pb[263])))
        out.append(float(np.mean(np.hypot(*(pa - pb).T))) / iod)
    return {"mean": float(np.mean(out)), "max": float(np.max(out)), "frames": len(out)} if out else None


def wheel_models():
    import mediapipe as mp
    base = os.path.join(os.path.dirname(mp.__file__), "modules")
    out = {}
    for rel in ("face_detection/face_detection_short_range.tflite",
                "face_landmark/face_landmark_with_attention.tflite"):
        with open(os.path.join(base, rel), "rb") as f:
            out[os.path.basename(rel)] = {"wheel_path": "mediapipe/modules/" + rel, "sha256": sha256(f.read())}
    return out


def build(args):
    """Everything the script writes: (manifest dict, {file name: float32 array}, frames)."""
    import cv2
    import mediapipe as mp

    src_path = os.path.join(args.images, SOURCE)
    task = args.task or os.path.join(args.models, "face_landmarker.task")
    with open(src_path, "rb") as f:
        src_sha = sha256(f.read())
    with open(task, "rb") as f:
        task_sha = sha256(f.read())
    src = load_rgb(src_path)

    frames, entries = [], []
    for k, pose in enumerate(PATH):
        coef = None if pose is None else coefficients(pose)
        fr = make_frame(src, coef)
        frames.append(fr)
        e = {"index": k, "timestamp_ms": k * FRAME_MS, "no_face": pose is None}
        if pose is not None:
            e["coefficients"] = dict(zip("abcdef", coef))
            e["path"] = {"shift_px": [pose[0], pose[1]], "rotation_deg": pose[2], "zoom": pose[3]}
        e["fnv1a64"] = f"{fnv1a64(fr.tobytes()):016x}"
        entries.append(e)

    results = {"tasks_video": run_tasks(frames, task, video=True),
               "legacy_video": run_legacy(frames),
               "tasks_image": run_tasks(frames, task, video=False)}
    arrays = {f"{run}.landmarks.npy": landmarks_array(results[run][1]) for run in RUNS}
    lm = {run: arrays[f"{run}.landmarks.npy"] for run in RUNS}

    runs = {}
    for run in RUNS:
        counts = results[run][0]
        runs[run] = {"landmarks": f"{run}.landmarks.npy", "face_counts": counts}
        if run != "tasks_image":
            runs[run]["detector_frames"] = detector_frames(counts, 1)
    runs["tasks_video"]["options"] = dict(TASKS_OPTIONS, running_mode="VIDEO",
                                          model="face_landmarker.task", smoothing="one-euro (MediaPipe, num_faces 1)")
    runs["legacy_video"]["options"] = dict(LEGACY_OPTIONS, api="mp.solutions.face_mesh.FaceMesh",
                                           models=wheel_models())
    runs["tasks_image"]["options"] = dict(TASKS_OPTIONS, running_mode="IMAGE", model="face_landmarker.task")

    manifest = {
        "description": "Video-mode golden data of native MediaPipe (CPU) on a synthetic sequence, for facekit's "
                       "detect_for_video test; generated by tests/gen/make_video_golden.py (its docstring has the "
                       "details).",
        "source_image": {"name": SOURCE, "sha256": src_sha, "decoder": "cv2.imread IMREAD_COLOR|"
                         "IMREAD_IGNORE_ORIENTATION, BGR->RGB (a PNG: same bytes as stb_image RGB8)"},
        "frame": {"width": W, "height": H, "format": "RGB8, row-major, no padding",
                  "warp": "sx = (a*x + b*y + c) >> 16, sy = (d*x + e*y + f) >> 16 (int64, floor shift); "
                          "outside the source or no_face frame: grey",
                  "frac_bits": FRAC_BITS, "grey": list(GREY),
                  "hash": "FNV-1a 64 over the frame's RGB bytes (offset 0xcbf29ce484222325, prime 0x100000001b3), "
                          "16 lowercase hex digits"},
        "frames": entries,
        "no_face_frame": NO_FACE_FRAME,
        "landmarks_layout": "float32 [frames, 478, 3] per run: x, y normalised by the frame's width, height; z as "
                            "MediaPipe returns it; NaN on frames where the run found no face",
        "detector_rule": "stream mode (num_faces 1): the detector runs on frame 0 and on every frame whose previous "
                         "frame produced fewer than num_faces faces",
        "runs": runs,
        "informational": {
            "nme_tasks_video_vs_tasks_image": nme_stats(lm["tasks_video"], lm["tasks_image"]),
            "nme_legacy_video_vs_tasks_image": nme_stats(lm["legacy_video"], lm["tasks_image"]),
            "nme": "mean point error / IOD (landmarks 33-263 of the second run, pixels), per frame; mean and max "
                   "over frames where both runs found a face",
        },
        "model_bundle": {"file": "face_landmarker.task", "sha256": task_sha},
        "versions": {"mediapipe": mp.__version__, "numpy": np.__version__, "opencv": cv2.__version__},
    }
    return manifest, arrays, frames


def manifest_text(manifest):
    return json.dumps(manifest, indent=2) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_args(ap)
    ap.add_argument("--task", help="face_landmarker.task (default: SHARED/models/face_landmarker.task)")
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "video"),
                    help="output folder (default: tests/data/video)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing into --out; regenerate in memory and compare with the stored files")
    ap.add_argument("--write-frames", metavar="DIR", help="also write the frames as DIR/frame_NN.png")
    args = ap.parse_args()

    t0 = time.monotonic()
    manifest, arrays, frames = build(args)
    failures = []

    for run in RUNS:
        r = manifest["runs"][run]
        print(f"{run:13s} faces per frame {r['face_counts']}" +
              (f", detector on frames {r['detector_frames']}" if "detector_frames" in r else ""))
        want = [0 if k == NO_FACE_FRAME else 1 for k in range(NFRAMES)]
        if r["face_counts"] != want:
            failures.append(f"{run}: face counts {r['face_counts']}, the path wants {want} (adjust PATH)")
    for key in ("nme_tasks_video_vs_tasks_image", "nme_legacy_video_vs_tasks_image"):
        s = manifest["informational"][key]
        if s:
            print(f"{key}: mean {s['mean'] * 100:.3f}% max {s['max'] * 100:.3f}% IOD over {s['frames']} frames")

    if args.write_frames:
        import cv2
        os.makedirs(args.write_frames, exist_ok=True)
        for k, fr in enumerate(frames):
            p = os.path.join(args.write_frames, f"frame_{k:02d}.png")
            if not cv2.imwrite(p, cv2.cvtColor(fr, cv2.COLOR_RGB2BGR)):
                failures.append(f"cannot write {p}")
        print(f"wrote {len(frames)} frames into {args.write_frames}")

    if args.check:
        path = os.path.join(args.out, "video_golden.json")
        try:
            with open(path) as f:
                stored_text = f.read()
        except OSError as e:
            failures.append(f"cannot read {path}: {e}")
            stored_text = None
        if stored_text is not None and stored_text != manifest_text(manifest):
            stored = json.loads(stored_text)
            keys = sorted(k for k in set(stored) | set(manifest) if stored.get(k) != manifest.get(k))
            failures.append(f"{path}: differs from the regenerated manifest (keys {keys})")
        for name, a in arrays.items():
            p = os.path.join(args.out, name)
            try:
                stored = np.load(p)
            except (OSError, ValueError) as e:
                failures.append(f"cannot read {p}: {e}")
                continue
            if stored.dtype != a.dtype or stored.shape != a.shape:
                failures.append(f"{p}: is {stored.dtype}{stored.shape}, regenerated {a.dtype}{a.shape}")
            elif not np.array_equal(stored, a, equal_nan=True):
                d = float(np.nanmax(np.abs(stored.astype(np.float64) - a)))
                failures.append(f"{p}: differs from the regenerated landmarks by up to {d:.3g}")
        if not failures:
            print("check: stored files match")
    else:
        os.makedirs(args.out, exist_ok=True)
        for name, a in arrays.items():
            np.save(os.path.join(args.out, name), a)
        with open(os.path.join(args.out, "video_golden.json"), "w") as f:
            f.write(manifest_text(manifest))
        files = ["video_golden.json"] + list(arrays)
        total = sum(os.path.getsize(os.path.join(args.out, n)) for n in files)
        print(f"wrote {len(files)} files, {total} bytes, into {args.out}")
    print(f"run time {time.monotonic() - t0:.1f} s")
    return exit_code(failures)


if __name__ == "__main__":
    sys.exit(main())
