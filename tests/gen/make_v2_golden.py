#!/usr/bin/env python3
"""Golden tensors of the Face Mesh V2 network for the C++ tests.

Runs face_landmarks_detector.tflite (a member of face_landmarker.task) in the TFLite interpreter
(ai_edge_litert) and writes into tests/data/face_mesh_v2/:

  <case>.input.npy       uint8 [256,256,3] RGB crop (image cases only)
  <case>.<output>.npy    float32, one file per model output: landmarks [1,1,1,1434],
                         presence [1,1,1,1] (logit), tongue_out [1,1] (sigmoid applied)
  manifest.json          cases, crops, seeds, formulas, model sha256, runtime versions

Image cases: a face ROI as MediaPipe's FaceLandmarker builds it (docs/pipeline.md 2.1: the detection box of
tests/data/golden/<image>.json scaled 1.5, turned from keypoint 0 to keypoint 1, not squared),
resampled into 256 x 256 by cv2.warpAffine (bilinear, BORDER_REPLICATE, output pixel (i, j) at
source centre + R(theta) (-w/2 + i w/256, -h/2 + j h/256)). The crop only has to be a realistic
face crop: the C++ test feeds the stored bytes, it does not re-crop.
Model input for an image case: x = float32(v) * float32(1/255) + 0, two float32 roundings (no
fused multiply-add), as MediaPipe's value conversion for the [0, 1] range.
Random cases: xorshift32 stream, see RANDOM_SPEC; C++ reproduces it, so only the seed is stored.

Every case runs with the default op resolver (XNNPACK delegate) and with the reference kernels
(BUILTIN_REF); the stored outputs are the BUILTIN_REF ones, and the manifest records how far
XNNPACK was from them.

  python3 tests/gen/make_v2_golden.py            # (re)generate
  python3 tests/gen/make_v2_golden.py --check    # recompute from the stored inputs, compare
"""
import argparse
import json
import math
import os
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import add_input_args, exit_code, load_stored, sha256, write_manifest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

SIZE = 256
MEMBER = "face_landmarks_detector.tflite"
# Model output tensor name -> our name, in the model's output order.
OUTPUTS = (("Identity", "landmarks"), ("Identity_1", "presence"), ("Identity_2", "tongue_out"))
# XNNPACK vs reference kernels: max|a - b| / max(1, max|b|) per output must stay below this.
TOLERANCE = 1e-4

# (case name, image in tests/data/images; its golden JSON gives the detection)
IMAGE_CASES = [
    ("emotion_happy", "emotion_happy.png"),   # upright, large face, non-square image
    ("rot_90", "rotate_rot_90.jpg"),           # face turned by about 90 degrees
]
# (case name, xorshift32 seed); seeds must be non-zero
RANDOM_CASES = [("random_1", 1)]

RANDOM_SPEC = {
    "algorithm": "xorshift32",
    "step": "x ^= x << 13; x ^= x >> 17; x ^= x << 5  (uint32 arithmetic)",
    "state": "x = seed (non-zero); the state is stepped once BEFORE each element is produced",
    "value": "float32((x >> 8) * 2^-24)  (exact in float32, range [0, 1): the model's input range)",
    "order": "one value per element of the [1,256,256,3] input, in NHWC (C-order) order",
    "first_values_seed_1": None,  # filled in below as a self-check for C++ ports
}


def xorshift32_stream(seed, count):
    if not 0 < seed < 2**32:
        raise ValueError(f"xorshift32 seed must be in [1, 2^32), got {seed}")
    out = np.empty(count, dtype=np.float32)
    x = seed
    mask = 0xFFFFFFFF
    for i in range(count):
        x ^= (x << 13) & mask
        x ^= x >> 17
        x ^= (x << 5) & mask
        out[i] = np.float32((x >> 8) * 2.0**-24)  # 24-bit integer times a power of 2: exact
    return out


def u8_to_input(crop):
    scale = np.float32(1.0 / 255.0)
    return (crop.astype(np.float32) * scale + np.float32(0.0)).astype(np.float32)


def load_rgb(path):
    import cv2
    bgr = cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        sys.exit(f"error: cannot decode image {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def face_crop(img, detection):
    """ROI of docs/pipeline.md 2.1 from a golden FaceDetector detection, resampled to SIZE x SIZE."""
    import cv2
    h_img, w_img = img.shape[:2]
    bb = detection["boundingBox"]
    kp = detection["keypoints"]
    cx = bb["originX"] + bb["width"] / 2.0
    cy = bb["originY"] + bb["height"] / 2.0
    w, h = 1.5 * bb["width"], 1.5 * bb["height"]
    x0, y0 = kp[0][0] * w_img, kp[0][1] * h_img
    x1, y1 = kp[1][0] * w_img, kp[1][1] * h_img
    theta = -math.atan2(-(y1 - y0), x1 - x0)
    c, s = math.cos(theta), math.sin(theta)
    # output (i, j) -> source: centre + R(theta) (-w/2 + i w/N, -h/2 + j h/N)
    a = np.array([[c * w / SIZE, -s * h / SIZE, cx + c * (-w / 2) - s * (-h / 2)],
                  [s * w / SIZE, c * h / SIZE, cy + s * (-w / 2) + c * (-h / 2)]], dtype=np.float64)
    crop = cv2.warpAffine(img, a, (SIZE, SIZE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
    info = {"golden_detection": {"boundingBox": bb, "keypoints_0_1": kp[:2]},
            "roi_pixels": {"cx": cx, "cy": cy, "w": w, "h": h, "rotation_rad": theta},
            "resampler": "cv2.warpAffine INTER_LINEAR | WARP_INVERSE_MAP, BORDER_REPLICATE"}
    return np.ascontiguousarray(crop, dtype=np.uint8), info


class Runner:
    def __init__(self, model_bytes, resolver):
        from ai_edge_litert.interpreter import Interpreter
        self.it = Interpreter(model_content=model_bytes, num_threads=1, experimental_op_resolver_type=resolver)
        self.it.allocate_tensors()
        inp = self.it.get_input_details()
        if len(inp) != 1 or list(inp[0]["shape"]) != [1, SIZE, SIZE, 3] or inp[0]["dtype"] != np.float32:
            sys.exit(f"error: unexpected Face Mesh V2 input {inp}")
        self.input_index = inp[0]["index"]
        details = self.it.get_output_details()
        names = [d["name"] for d in details]
        if names != [n for n, _ in OUTPUTS]:
            sys.exit(f"error: Face Mesh V2 outputs are {names}, expected {[n for n, _ in OUTPUTS]} in that order")
        self.outputs = details

    def run(self, x):
        self.it.set_tensor(self.input_index, x.reshape(1, SIZE, SIZE, 3))
        self.it.invoke()
        return {ours: np.array(self.it.get_tensor(d["index"]), dtype=np.float32, copy=True)
                for d, (_, ours) in zip(self.outputs, OUTPUTS)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_args(ap)
    ap.add_argument("--task", help="face_landmarker.task (default: SHARED/models/face_landmarker.task)")
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "face_mesh_v2"),
                    help="output folder (default: tests/data/face_mesh_v2)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; recompute from the stored inputs/seeds and compare")
    args = ap.parse_args()

    from ai_edge_litert import interpreter as litert
    import ai_edge_litert
    import cv2

    task = args.task or os.path.join(args.models, "face_landmarker.task")
    try:
        with zipfile.ZipFile(task) as z:
            model = z.read(MEMBER)
        task_sha = sha256(open(task, "rb").read())
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        sys.exit(f"error: cannot read {MEMBER} from {task}: {e}")

    xnn = Runner(model, litert.OpResolverType.AUTO)
    ref = Runner(model, litert.OpResolverType.BUILTIN_REF)
    RANDOM_SPEC["first_values_seed_1"] = [float(v) for v in xorshift32_stream(1, 4)]

    cases = []  # (entry, uint8 crop or None, float input)
    for name, image in IMAGE_CASES:
        entry = {"name": name, "kind": "image", "input": f"{name}.input.npy", "source_image": image}
        if args.check:
            crop = load_stored(os.path.join(args.out, entry["input"]), np.uint8, (SIZE, SIZE, 3))
        else:
            stem = os.path.splitext(image)[0]
            with open(os.path.join(args.golden, stem + ".json")) as f:
                golden = json.load(f)
            dets = golden["detector"]["detections"]
            if not dets:
                sys.exit(f"error: golden {stem}.json has no detection")
            crop, entry["crop"] = face_crop(load_rgb(os.path.join(args.images, image)), dets[0])
        cases.append((entry, crop, u8_to_input(crop)))
    for name, seed in RANDOM_CASES:
        entry = {"name": name, "kind": "xorshift32", "seed": seed}
        cases.append((entry, None, xorshift32_stream(seed, SIZE * SIZE * 3)))

    worst = worst_scaled = 0.0
    failures = []
    for entry, crop, x in cases:
        a = xnn.run(x)
        b = ref.run(x)
        b2 = ref.run(x)
        if any(not np.array_equal(b[n], b2[n]) for n in b):
            failures.append(f"{entry['name']}: BUILTIN_REF is not deterministic")
        diffs = {n: float(np.max(np.abs(a[n].astype(np.float64) - b[n]))) for n in b}
        scaled = {n: diffs[n] / max(1.0, float(np.max(np.abs(b[n])))) for n in b}
        worst = max(worst, *diffs.values())
        worst_scaled = max(worst_scaled, *scaled.values())
        entry["xnnpack_vs_ref_max_abs_diff"] = diffs
        entry["xnnpack_vs_ref_max_scaled_diff"] = scaled
        entry["xnnpack_bit_identical"] = all(np.array_equal(a[n], b[n]) for n in b)
        logit = float(b["presence"].reshape(-1)[0])
        entry["presence"] = 1.0 / (1.0 + math.exp(-logit))  # informational: a face scores > 0.5
        entry["outputs"] = {n: f"{entry['name']}.{n}.npy" for n in b}
        print(f"{entry['name']:14s} presence {entry['presence']:.4f}; max|xnnpack-ref|: " +
              ", ".join(f"{n} {d:.3g} ({scaled[n]:.2g})" for n, d in diffs.items()))
        if args.check:
            for n in b:
                stored = load_stored(os.path.join(args.out, entry["outputs"][n]), np.float32, b[n].shape)
                if not np.array_equal(stored, b[n]):
                    d = float(np.max(np.abs(stored.astype(np.float64) - b[n])))
                    failures.append(f"{entry['name']}.{n}: differs from the stored golden by up to {d:.3g}")
        entry["_data"] = (crop, b)

    print(f"max |XNNPACK - BUILTIN_REF|: {worst:.3g} absolute, {worst_scaled:.3g} of max(1, max|ref|) "
          f"(tolerance {TOLERANCE:g})")
    if worst_scaled > TOLERANCE:
        failures.append(f"XNNPACK and BUILTIN_REF differ by {worst_scaled:.3g} > {TOLERANCE:g}")

    if not args.check:
        os.makedirs(args.out, exist_ok=True)
        for entry, _, _ in cases:
            crop, outs = entry.pop("_data")
            if crop is not None:
                np.save(os.path.join(args.out, entry["input"]), crop)
            for n, v in outs.items():
                np.save(os.path.join(args.out, entry["outputs"][n]), np.ascontiguousarray(v, dtype=np.float32))
        manifest = {
            "description": "Golden outputs of the Face Mesh V2 network (face_landmarks_detector.tflite) for "
                           "facekit's C++ tests; generated by tests/gen/make_v2_golden.py.",
            "model": {"file": MEMBER, "bundle": "face_landmarker.task", "sha256": sha256(model),
                      "bundle_sha256": task_sha},
            "runtime": {"ai_edge_litert": ai_edge_litert.__version__, "numpy": np.__version__,
                        "opencv": cv2.__version__, "num_threads": 1},
            "outputs_from": "BUILTIN_REF",
            "xnnpack_vs_ref": {"max_abs_diff": worst, "max_scaled_diff": worst_scaled, "scaled_tolerance": TOLERANCE,
                               "scaled_diff": "max|xnnpack - ref| / max(1, max|ref|) per output tensor"},
            "input": {"name": "input_12", "shape": [1, SIZE, SIZE, 3], "dtype": "float32", "layout": "NHWC, RGB",
                      "from_uint8": "x = float32(v) * float32(1.0/255.0) + float32(0.0), rounded to float32 after "
                                    "the product and after the sum (no fused multiply-add)"},
            "outputs": [{"tflite_name": t, "name": n} for t, n in OUTPUTS],
            "random_generator": RANDOM_SPEC,
            "cases": [e for e, _, _ in cases],
        }
        write_manifest(args.out, manifest)

    return exit_code(failures)


if __name__ == "__main__":
    sys.exit(main())
