#!/usr/bin/env python3
"""Golden tensors of the BlazeFace detector network for the C++ tests.

Runs face_detector.tflite (a member of face_landmarker.task) in the TFLite interpreter
(ai_edge_litert) and writes into tests/data/detector/:

  <case>.input.npy            uint8 [128,128,3] RGB crop (image cases only)
  <case>.regressors.npy       float32 [1,896,16]
  <case>.classificators.npy   float32 [1,896,1]
  manifest.json               cases, seeds, formulas, model sha256, runtime versions

Model input for an image case: x = float32(v) * float32(2/255) + float32(-1), two float32
roundings (NOT a fused multiply-add: that changes 158 of the 256 values).
Model input for a random case: xorshift32 stream, see RANDOM_SPEC below; C++ reproduces it
exactly, so only the seed is stored.

Every case runs with the default op resolver (XNNPACK delegate) and with the reference kernels
(BUILTIN_REF); the stored outputs are the BUILTIN_REF ones (the exact TFLite semantics), and
the manifest records how far XNNPACK was from them.

  python3 tests/gen/make_detector_golden.py            # (re)generate
  python3 tests/gen/make_detector_golden.py --check    # recompute, compare with stored files
"""
import argparse
import json
import os
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import add_input_args, exit_code, load_stored, sha256, write_manifest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

SIZE = 128
# XNNPACK vs reference kernels. An absolute 1e-5 is below float32 resolution for these outputs
# (|regressors| reaches ~155, where one ulp is 1.5e-5), so the bound is relative to the largest
# magnitude in the tensor: max|a - b| <= TOLERANCE * max(1, max|b|). The absolute difference is
# recorded as well.
TOLERANCE = 1e-5
OUTPUT_NAMES = ("regressors", "classificators")

# (case name, image file in tests/data/images)
IMAGE_CASES = [
    ("astronaut", "skimage_astronaut.png"),
    ("emotion_happy", "emotion_happy.png"),
    ("rot_90", "rotate_rot_90.jpg"),
]
# (case name, xorshift32 seed); seeds must be non-zero
RANDOM_CASES = [
    ("random_1", 1),
    ("random_2", 0x9E3779B9),
]

RANDOM_SPEC = {
    "algorithm": "xorshift32",
    "step": "x ^= x << 13; x ^= x >> 17; x ^= x << 5  (uint32 arithmetic)",
    "state": "x = seed (non-zero); the state is stepped once BEFORE each element is produced",
    "value": "float32((x >> 8) * 2^-23) - 1.0f  (exact in float32, range [-1, 1))",
    "order": "one value per element of the [1,128,128,3] input, in NHWC (C-order) order",
    "first_values_seed_1": None,  # filled in below as a self-check for C++ ports
}


def xorshift32_stream(seed, count):
    """Values of the documented generator, as float32."""
    if not 0 < seed < 2**32:
        raise ValueError(f"xorshift32 seed must be in [1, 2^32), got {seed}")
    out = np.empty(count, dtype=np.float32)
    x = seed
    mask = 0xFFFFFFFF
    for i in range(count):
        x ^= (x << 13) & mask
        x ^= x >> 17
        x ^= (x << 5) & mask
        out[i] = np.float32((x >> 8) * 2.0**-23 - 1.0)  # exact: 24-bit integer times a power of 2
    return out


def u8_to_input(crop):
    """MediaPipe's detector normalisation, in float32 with two roundings."""
    scale = np.float32(2.0 / 255.0)
    return (crop.astype(np.float32) * scale + np.float32(-1.0)).astype(np.float32)


def letterbox(img, size):
    """Whole image scaled to fit size x size (area filter), centred on black; uint8 RGB."""
    import cv2
    h, w = img.shape[:2]
    s = size / max(w, h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    resized = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    out = np.zeros((size, size, 3), dtype=np.uint8)
    left, top = (size - nw) // 2, (size - nh) // 2
    out[top:top + nh, left:left + nw] = resized
    return out, {"source_size": [w, h], "resized_size": [nw, nh], "offset": [left, top],
                 "filter": "cv2.INTER_AREA", "border": "zero"}


def load_rgb(path):
    import cv2
    # No EXIF rotation: the golden JSONs and stb_image see the stored pixel order.
    bgr = cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        sys.exit(f"error: cannot decode image {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class Runner:
    def __init__(self, model_bytes, resolver):
        from ai_edge_litert.interpreter import Interpreter
        self.it = Interpreter(model_content=model_bytes, num_threads=1,
                              experimental_op_resolver_type=resolver)
        self.it.allocate_tensors()
        inp = self.it.get_input_details()
        if len(inp) != 1 or list(inp[0]["shape"]) != [1, SIZE, SIZE, 3] or inp[0]["dtype"] != np.float32:
            sys.exit(f"error: unexpected detector input {inp}")
        self.input_index = inp[0]["index"]
        self.outputs = {d["name"]: d for d in self.it.get_output_details()}
        for name in OUTPUT_NAMES:
            if name not in self.outputs:
                sys.exit(f"error: detector has no output '{name}' (has {sorted(self.outputs)})")

    def run(self, x):
        self.it.set_tensor(self.input_index, x.reshape(1, SIZE, SIZE, 3))
        self.it.invoke()
        return {n: np.array(self.it.get_tensor(self.outputs[n]["index"]), dtype=np.float32, copy=True)
                for n in OUTPUT_NAMES}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_args(ap)
    ap.add_argument("--task", help="face_landmarker.task (default: SHARED/models/face_landmarker.task)")
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "detector"),
                    help="output folder (default: tests/data/detector)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; recompute from the stored inputs/seeds and compare")
    args = ap.parse_args()

    from ai_edge_litert import interpreter as litert
    import ai_edge_litert
    import cv2

    task = args.task or os.path.join(args.models, "face_landmarker.task")
    try:
        with zipfile.ZipFile(task) as z:
            model = z.read("face_detector.tflite")
        task_sha = sha256(open(task, "rb").read())
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        sys.exit(f"error: cannot read face_detector.tflite from {task}: {e}")

    xnn = Runner(model, litert.OpResolverType.AUTO)
    ref = Runner(model, litert.OpResolverType.BUILTIN_REF)

    RANDOM_SPEC["first_values_seed_1"] = [float(v) for v in xorshift32_stream(1, 4)]

    cases = []  # (entry, uint8 crop or None, float input)
    for name, image in IMAGE_CASES:
        entry = {"name": name, "kind": "image", "input": f"{name}.input.npy", "source_image": image}
        if args.check:
            crop = load_stored(os.path.join(args.out, entry["input"]), np.uint8, (SIZE, SIZE, 3))
        else:
            crop, info = letterbox(load_rgb(os.path.join(args.images, image)), SIZE)
            entry["crop"] = info
        cases.append((entry, crop, u8_to_input(crop)))
    for name, seed in RANDOM_CASES:
        entry = {"name": name, "kind": "xorshift32", "seed": seed}
        cases.append((entry, None, xorshift32_stream(seed, SIZE * SIZE * 3)))

    worst = 0.0         # max |xnnpack - ref|
    worst_scaled = 0.0  # the same divided by max(1, max|ref|) of its tensor
    failures = []
    for entry, crop, x in cases:
        a = xnn.run(x)
        b = ref.run(x)
        b2 = ref.run(x)
        if any(not np.array_equal(b[n], b2[n]) for n in OUTPUT_NAMES):
            failures.append(f"{entry['name']}: BUILTIN_REF is not deterministic")
        diffs = {n: float(np.max(np.abs(a[n].astype(np.float64) - b[n]))) for n in OUTPUT_NAMES}
        scaled = {n: diffs[n] / max(1.0, float(np.max(np.abs(b[n])))) for n in OUTPUT_NAMES}
        worst = max(worst, *diffs.values())
        worst_scaled = max(worst_scaled, *scaled.values())
        entry["xnnpack_vs_ref_max_abs_diff"] = diffs
        entry["xnnpack_vs_ref_max_scaled_diff"] = scaled
        entry["xnnpack_bit_identical"] = all(np.array_equal(a[n], b[n]) for n in OUTPUT_NAMES)
        scores = 1.0 / (1.0 + np.exp(-np.clip(b["classificators"].astype(np.float64), -100, 100)))
        entry["max_score"] = float(scores.max())  # informational: a real face scores > 0.5
        entry["outputs"] = {n: f"{entry['name']}.{n}.npy" for n in OUTPUT_NAMES}
        print(f"{entry['name']:14s} max|xnnpack-ref|: " +
              ", ".join(f"{n} {d:.3g} ({scaled[n]:.2g} of max|ref|)" for n, d in diffs.items()) +
              f"; max score {entry['max_score']:.4f}")
        if args.check:
            for n in OUTPUT_NAMES:
                stored = load_stored(os.path.join(args.out, entry["outputs"][n]), np.float32, b[n].shape)
                if not np.array_equal(stored, b[n]):
                    d = float(np.max(np.abs(stored.astype(np.float64) - b[n])))
                    failures.append(f"{entry['name']}.{n}: differs from the stored golden by up to {d:.3g}")
        entry["_data"] = (crop, b)

    print(f"max |XNNPACK - BUILTIN_REF| over all cases and outputs: {worst:.3g} absolute, "
          f"{worst_scaled:.3g} of the tensor's max magnitude (tolerance {TOLERANCE:g} of it)")
    if worst_scaled > TOLERANCE:
        failures.append(f"XNNPACK and BUILTIN_REF differ by {worst_scaled:.3g} of the tensor's max "
                        f"magnitude > {TOLERANCE:g}")

    if not args.check:
        os.makedirs(args.out, exist_ok=True)
        for entry, crop, _ in cases:
            crop_, outs = entry.pop("_data")
            if crop_ is not None:
                np.save(os.path.join(args.out, entry["input"]), np.ascontiguousarray(crop_, dtype=np.uint8))
            for n in OUTPUT_NAMES:
                np.save(os.path.join(args.out, entry["outputs"][n]), np.ascontiguousarray(outs[n], dtype=np.float32))
        manifest = {
            "description": "Golden outputs of the BlazeFace short-range network (face_detector.tflite) "
                           "for facekit's C++ tests; generated by tests/gen/make_detector_golden.py.",
            "model": {"file": "face_detector.tflite", "bundle": "face_landmarker.task",
                      "sha256": sha256(model), "bundle_sha256": task_sha},
            "runtime": {"ai_edge_litert": ai_edge_litert.__version__, "numpy": np.__version__,
                        "opencv": cv2.__version__, "num_threads": 1},
            "outputs_from": "BUILTIN_REF",
            "xnnpack_vs_ref": {"max_abs_diff": worst, "max_scaled_diff": worst_scaled,
                               "scaled_tolerance": TOLERANCE,
                               "scaled_diff": "max|xnnpack - ref| / max(1, max|ref|) per output tensor"},
            "input": {"name": "input", "shape": [1, SIZE, SIZE, 3], "dtype": "float32", "layout": "NHWC, RGB",
                      "from_uint8": "x = float32(v) * float32(2.0/255.0) + float32(-1.0), rounded to float32 "
                                    "after the product and after the sum (no fused multiply-add)"},
            "output_names": list(OUTPUT_NAMES),
            "outputs": [{"name": "regressors", "shape": [1, 896, 16], "dtype": "float32"},
                        {"name": "classificators", "shape": [1, 896, 1], "dtype": "float32"}],
            "random_generator": RANDOM_SPEC,
            "cases": [e for e, _, _ in cases],
        }
        write_manifest(args.out, manifest)

    return exit_code(failures)


if __name__ == "__main__":
    sys.exit(main())
