#!/usr/bin/env python3
"""Golden tensors of the full-range BlazeFace networks for the C++ tests.

Runs face_detection_full_range.tflite (dense) and face_detection_full_range_sparse.tflite in the
TFLite interpreter (ai_edge_litert) and writes into tests/data/full_range/<variant>/:

  <case>.input.npy            uint8 [192,192,3] RGB letterbox (image cases only)
  <case>.regressors.npy       float32 [1,2304,16]
  <case>.classificators.npy   float32 [1,2304,1]
  manifest.json               cases, seeds, model sha256, runtime versions

The input conventions (uint8 -> float, letterbox, xorshift32 random inputs) are those of
make_detector_golden.py, at 192 x 192; the two networks name their outputs differently, so
outputs are told apart by shape. Stored outputs come from the reference kernels (BUILTIN_REF);
the manifest records how far the default (XNNPACK) resolver was from them.

  python3 tests/gen/make_full_range_golden.py                  # both variants
  python3 tests/gen/make_full_range_golden.py --variant dense   # one of them
  python3 tests/gen/make_full_range_golden.py --check           # recompute and compare
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import add_input_args, exit_code, load_stored, sha256, write_manifest  # noqa: E402
from make_detector_golden import RANDOM_SPEC, letterbox, load_rgb, u8_to_input, xorshift32_stream  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

SIZE = 192
ANCHORS = 2304
TOLERANCE = 1e-4  # XNNPACK vs reference, relative to max(1, max|ref|) of each tensor
VARIANTS = {
    "dense": "face_detection_full_range.tflite",
    "sparse": "face_detection_full_range_sparse.tflite",
}
OUTPUT_SHAPES = {"regressors": (1, ANCHORS, 16), "classificators": (1, ANCHORS, 1)}
IMAGE_CASES = [("astronaut", "skimage_astronaut.png")]
RANDOM_CASES = [("random_1", 1)]


class Runner:
    def __init__(self, model_bytes, resolver):
        from ai_edge_litert.interpreter import Interpreter
        self.it = Interpreter(model_content=model_bytes, num_threads=1, experimental_op_resolver_type=resolver)
        self.it.allocate_tensors()
        inp = self.it.get_input_details()
        if len(inp) != 1 or list(inp[0]["shape"]) != [1, SIZE, SIZE, 3] or inp[0]["dtype"] != np.float32:
            sys.exit(f"error: unexpected detector input {inp}")
        self.input_index = inp[0]["index"]
        self.outputs = {}
        for d in self.it.get_output_details():
            for name, shape in OUTPUT_SHAPES.items():
                if tuple(d["shape"]) == shape:
                    self.outputs[name] = d["index"]
        if len(self.outputs) != 2:
            sys.exit(f"error: cannot tell the outputs apart: {self.it.get_output_details()}")

    def run(self, x):
        self.it.set_tensor(self.input_index, x.reshape(1, SIZE, SIZE, 3))
        self.it.invoke()
        return {n: np.array(self.it.get_tensor(i), dtype=np.float32, copy=True) for n, i in self.outputs.items()}


def make_variant(variant, args, failures):
    from ai_edge_litert import interpreter as litert
    import ai_edge_litert
    import cv2

    path = os.path.join(args.models, VARIANTS[variant])
    try:
        model = open(path, "rb").read()
    except OSError as e:
        sys.exit(f"error: cannot read {path}: {e}")
    out_dir = os.path.join(args.out, variant)
    xnn = Runner(model, litert.OpResolverType.AUTO)
    ref = Runner(model, litert.OpResolverType.BUILTIN_REF)

    cases = []
    for name, image in IMAGE_CASES:
        entry = {"name": name, "kind": "image", "input": f"{name}.input.npy", "source_image": image}
        if args.check:
            crop = load_stored(os.path.join(out_dir, entry["input"]), np.uint8, (SIZE, SIZE, 3))
        else:
            crop, info = letterbox(load_rgb(os.path.join(args.images, image)), SIZE)
            entry["crop"] = info
        cases.append((entry, crop, u8_to_input(crop)))
    for name, seed in RANDOM_CASES:
        cases.append(({"name": name, "kind": "xorshift32", "seed": seed}, None, xorshift32_stream(seed, SIZE * SIZE * 3)))

    worst = 0.0
    for entry, crop, x in cases:
        a, b = xnn.run(x), ref.run(x)
        scaled = {n: float(np.max(np.abs(a[n].astype(np.float64) - b[n]))) / max(1.0, float(np.max(np.abs(b[n]))))
                  for n in OUTPUT_SHAPES}
        worst = max(worst, *scaled.values())
        entry["xnnpack_vs_ref_max_scaled_diff"] = scaled
        scores = 1.0 / (1.0 + np.exp(-np.clip(b["classificators"].astype(np.float64), -100, 100)))
        entry["max_score"] = float(scores.max())
        entry["outputs"] = {n: f"{entry['name']}.{n}.npy" for n in OUTPUT_SHAPES}
        print(f"{variant}/{entry['name']:10s} max|xnnpack-ref| scaled: " +
              ", ".join(f"{n} {d:.3g}" for n, d in scaled.items()) + f"; max score {entry['max_score']:.4f}")
        if args.check:
            for n in OUTPUT_SHAPES:
                stored = load_stored(os.path.join(out_dir, entry["outputs"][n]), np.float32, b[n].shape)
                if not np.array_equal(stored, b[n]):
                    failures.append(f"{variant}/{entry['name']}.{n}: differs from the stored golden")
        entry["_data"] = (crop, b)
    if worst > TOLERANCE:
        failures.append(f"{variant}: XNNPACK and BUILTIN_REF differ by {worst:.3g} > {TOLERANCE:g} (scaled)")

    if args.check:
        return
    os.makedirs(out_dir, exist_ok=True)
    for entry, _, _ in cases:
        crop, outs = entry.pop("_data")
        if crop is not None:
            np.save(os.path.join(out_dir, entry["input"]), np.ascontiguousarray(crop, dtype=np.uint8))
        for n in OUTPUT_SHAPES:
            np.save(os.path.join(out_dir, entry["outputs"][n]), np.ascontiguousarray(outs[n], dtype=np.float32))
    spec = dict(RANDOM_SPEC)
    spec["order"] = f"one value per element of the [1,{SIZE},{SIZE},3] input, in NHWC (C-order) order"
    spec["first_values_seed_1"] = [float(v) for v in xorshift32_stream(1, 4)]
    write_manifest(out_dir, {
        "description": f"Golden outputs of the full-range BlazeFace network ({VARIANTS[variant]}) for facekit's "
                       "C++ tests; generated by tests/gen/make_full_range_golden.py.",
        "model": {"file": VARIANTS[variant], "sha256": sha256(model)},
        "runtime": {"ai_edge_litert": ai_edge_litert.__version__, "numpy": np.__version__,
                    "opencv": cv2.__version__, "num_threads": 1},
        "outputs_from": "BUILTIN_REF",
        "xnnpack_vs_ref_max_scaled_diff": worst,
        "input": {"shape": [1, SIZE, SIZE, 3], "dtype": "float32", "layout": "NHWC, RGB",
                  "from_uint8": "x = float32(v) * float32(2.0/255.0) + float32(-1.0), two float32 roundings"},
        "outputs": [{"name": n, "shape": list(s), "dtype": "float32"} for n, s in OUTPUT_SHAPES.items()],
        "random_generator": spec,
        "cases": [e for e, _, _ in cases],
    })


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_args(ap)
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "full_range"),
                    help="output folder (default: tests/data/full_range)")
    ap.add_argument("--variant", choices=sorted(VARIANTS) + ["all"], default="all")
    ap.add_argument("--check", action="store_true", help="write nothing; recompute and compare")
    args = ap.parse_args()
    failures = []
    for v in (sorted(VARIANTS) if args.variant == "all" else [args.variant]):
        make_variant(v, args, failures)
    return exit_code(failures)


if __name__ == "__main__":
    sys.exit(main())
