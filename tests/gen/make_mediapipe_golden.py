#!/usr/bin/env python3
"""MediaPipe's own results on the test images, for facekit's end-to-end tests.

Runs NATIVE MediaPipe (PyPI mediapipe==0.10.21, CPU) on every image in tests/data/images, decoded
by stb_image (Debian's libstb, through ctypes: stbi_load(path, &w, &h, &n, 3), no EXIF rotation),
the decoder facekit's load_image uses. Another JPEG decoder moves MediaPipe's landmarks by up to
0.8% of the inter-ocular distance, so only stb_image pixels make a fair reference.
Writes one tests/data/golden/<image stem>.json per image:

  image, width, height, decoder, versions
  landmarker.faces[]       Tasks FaceLandmarker, IMAGE mode, num_faces 5, all confidences 0.5,
                           blendshapes and matrixes on (face_landmarker.task):
                           {landmarks: 478 x [x, y, z] (normalised),
                            blendshapes: 52 x {index, categoryName, score},
                            matrix: 16 numbers, COLUMN-major (element r, c at [c * 4 + r])}
  detector.detections[]    Tasks FaceDetector, IMAGE mode, min_detection_confidence 0.5,
                           min_suppression_threshold 0.3 (the .task's face_detector.tflite):
                           {boundingBox: {originX, originY, width, height} (integer pixels),
                            keypoints: 6 x [x, y] (normalised), score}
  legacy_mesh_cpu.faces[]  legacy mp.solutions.face_mesh.FaceMesh(static_image_mode=True,
                           max_num_faces=5, refine_landmarks=True, min_detection_confidence=0.5):
                           478 x [x, y, z] per face (the Attention Mesh reference)
  detector_full_range.detections[]
                           legacy mp.solutions.face_detection.FaceDetection(model_selection=1,
                           min_detection_confidence=0.6) (face_detection_full_range_sparse.tflite):
                           {relative_box: [xmin, ymin, width, height], keypoints: 6 x [x, y], score}

Faces are in the order MediaPipe returned them. Numbers are MediaPipe's float32 values written as
the shortest decimal that reads back as the same float32.

  python3 tests/gen/make_mediapipe_golden.py              # (re)generate tests/data/golden
  python3 tests/gen/make_mediapipe_golden.py --check      # recompute, compare, write nothing

Needs: a venv with mediapipe==0.10.21 and numpy; Debian's libstb0 (installed by tools/setup.sh);
weights/originals/face_landmarker.task (tools/fetch-models.sh puts it there).
"""
import argparse
import ctypes
import ctypes.util
import hashlib
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
IMAGE_EXTS = (".png", ".jpg", ".jpeg")
MEDIAPIPE_VERSION = "0.10.21"


def f32(v):
    """The shortest decimal of float32(v), as a Python float (json writes it back unchanged)."""
    return float(repr(np.float32(v)))


class Stb:
    """stbi_load through ctypes: the exact decoder the C++ tests use."""

    def __init__(self):
        path = ctypes.util.find_library("stb") or "libstb.so.0"
        try:
            self.lib = ctypes.CDLL(path)
        except OSError as e:
            sys.exit(f"error: cannot load Debian's stb_image library ({path}: {e}); "
                     "install it with: apt-get install libstb0")
        self.lib.stbi_load.restype = ctypes.POINTER(ctypes.c_ubyte)
        self.lib.stbi_load.argtypes = [ctypes.c_char_p] + [ctypes.POINTER(ctypes.c_int)] * 3 + [ctypes.c_int]
        self.lib.stbi_image_free.argtypes = [ctypes.c_void_p]
        self.lib.stbi_failure_reason.restype = ctypes.c_char_p

    def load_rgb(self, path):
        w, h, n = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        p = self.lib.stbi_load(path.encode(), ctypes.byref(w), ctypes.byref(h), ctypes.byref(n), 3)
        if not p:
            sys.exit(f"error: stb_image cannot decode {path}: {self.lib.stbi_failure_reason().decode()}")
        try:
            rgb = np.ctypeslib.as_array(p, shape=(h.value, w.value, 3)).copy()
        finally:
            self.lib.stbi_image_free(p)
        return rgb


def run_landmarker(task, images):
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions
    from mediapipe.tasks.python.vision import FaceLandmarker, FaceLandmarkerOptions, RunningMode
    opt = FaceLandmarkerOptions(base_options=BaseOptions(model_asset_path=task), running_mode=RunningMode.IMAGE,
                                num_faces=5, min_face_detection_confidence=0.5, min_face_presence_confidence=0.5,
                                min_tracking_confidence=0.5, output_face_blendshapes=True,
                                output_facial_transformation_matrixes=True)
    out = {}
    with FaceLandmarker.create_from_options(opt) as lm:
        for name, rgb in images.items():
            r = lm.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
            faces = []
            for i, pts in enumerate(r.face_landmarks):
                m = np.asarray(r.facial_transformation_matrixes[i], dtype=np.float32)
                faces.append({
                    "landmarks": [[f32(p.x), f32(p.y), f32(p.z)] for p in pts],
                    "blendshapes": [{"index": c.index, "categoryName": c.category_name, "score": f32(c.score)}
                                    for c in r.face_blendshapes[i]],
                    "matrix": [f32(v) for v in m.flatten(order="F")],
                })
            out[name] = {"faces": faces}
    return out


def run_detector(task, images):
    import zipfile
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions
    from mediapipe.tasks.python.vision import FaceDetector, FaceDetectorOptions, RunningMode
    with zipfile.ZipFile(task) as z:
        model = z.read("face_detector.tflite")
    opt = FaceDetectorOptions(base_options=BaseOptions(model_asset_buffer=model), running_mode=RunningMode.IMAGE,
                              min_detection_confidence=0.5, min_suppression_threshold=0.3)
    out = {}
    with FaceDetector.create_from_options(opt) as fd:
        for name, rgb in images.items():
            r = fd.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
            dets = []
            for d in r.detections:
                b = d.bounding_box
                dets.append({"boundingBox": {"originX": b.origin_x, "originY": b.origin_y, "width": b.width,
                                             "height": b.height},
                             "keypoints": [[f32(k.x), f32(k.y)] for k in d.keypoints],
                             "score": f32(d.categories[0].score)})
            out[name] = {"detections": dets}
    return out


def run_legacy_mesh(images):
    import mediapipe as mp
    out = {}
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=5, refine_landmarks=True,
                                         min_detection_confidence=0.5) as fm:
        for name, rgb in images.items():
            r = fm.process(rgb)
            faces = [[[f32(p.x), f32(p.y), f32(p.z)] for p in f.landmark] for f in (r.multi_face_landmarks or [])]
            out[name] = {"faces": faces}
    return out


def run_full_range(images):
    import mediapipe as mp
    out = {}
    with mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.6) as fd:
        for name, rgb in images.items():
            r = fd.process(rgb)
            dets = []
            for d in r.detections or []:
                ld = d.location_data
                bb = ld.relative_bounding_box
                dets.append({"relative_box": [f32(bb.xmin), f32(bb.ymin), f32(bb.width), f32(bb.height)],
                             "keypoints": [[f32(k.x), f32(k.y)] for k in ld.relative_keypoints],
                             "score": f32(d.score[0])})
            out[name] = {"detections": dets}
    return out


def compare(a, b, path="", tol=0.0):
    """Differences between two golden documents (numbers within tol)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))} differ"]
        return [m for k in a for m in compare(a[k], b[k], f"{path}.{k}", tol)]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} entries"]
        return [m for i, (x, y) in enumerate(zip(a, b)) for m in compare(x, y, f"{path}[{i}]", tol)][:5]
    if isinstance(a, float) or isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=0, abs_tol=tol) else [f"{path}: {a} vs {b}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default=os.path.join(REPO, "tests", "data", "images"))
    ap.add_argument("--models", default=os.path.join(REPO, "weights", "originals"),
                    help="folder with face_landmarker.task (default: weights/originals)")
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "golden"))
    ap.add_argument("--check", action="store_true", help="write nothing; compare with the stored files")
    args = ap.parse_args()

    import mediapipe as mp
    if mp.__version__ != MEDIAPIPE_VERSION:
        sys.exit(f"error: mediapipe {mp.__version__} is installed; the goldens are MediaPipe {MEDIAPIPE_VERSION}'s "
                 f"(pip install mediapipe=={MEDIAPIPE_VERSION})")
    task = os.path.join(args.models, "face_landmarker.task")
    if not os.path.isfile(task):
        sys.exit(f"error: {task} is missing; run tools/fetch-models.sh")
    names = sorted(n for n in os.listdir(args.images) if n.lower().endswith(IMAGE_EXTS))
    if not names:
        sys.exit(f"error: no images in {args.images}")
    stb = Stb()
    images = {n: stb.load_rgb(os.path.join(args.images, n)) for n in names}

    runs = {"landmarker": run_landmarker(task, images), "detector": run_detector(task, images),
            "legacy_mesh_cpu": run_legacy_mesh(images), "detector_full_range": run_full_range(images)}
    versions = {"mediapipe": mp.__version__, "numpy": np.__version__,
                "face_landmarker.task sha256": hashlib.sha256(open(task, "rb").read()).hexdigest()}

    failures = []
    if not args.check:
        os.makedirs(args.out, exist_ok=True)
    for n in names:
        doc = {"image": n, "width": int(images[n].shape[1]), "height": int(images[n].shape[0]),
               "decoder": "stb_image RGB8 (Debian libstb, stbi_load with 3 channels)",
               "producer": "tests/gen/make_mediapipe_golden.py", "versions": versions}
        doc.update({k: v[n] for k, v in runs.items()})
        dest = os.path.join(args.out, os.path.splitext(n)[0] + ".json")
        print(f"{n:26s} {doc['width']}x{doc['height']}: landmarker {len(doc['landmarker']['faces'])}, "
              f"detector {len(doc['detector']['detections'])}, legacy mesh {len(doc['legacy_mesh_cpu']['faces'])}, "
              f"full range {len(doc['detector_full_range']['detections'])}")
        if args.check:
            if not os.path.isfile(dest):
                failures.append(f"{dest} is missing")
                continue
            diffs = compare(json.load(open(dest)), doc, os.path.basename(dest), tol=1e-6)
            failures += diffs
        else:
            with open(dest, "w") as f:
                json.dump(doc, f, separators=(",", ":"))
                f.write("\n")
    if not args.check:
        total = sum(os.path.getsize(os.path.join(args.out, p)) for p in os.listdir(args.out))
        print(f"wrote {len(names)} files, {total} bytes, into {args.out}")
    for m in failures:
        print(f"FAIL: {m}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
