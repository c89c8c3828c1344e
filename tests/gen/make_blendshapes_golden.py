#!/usr/bin/env python3
"""Golden tensors of the blendshape network (face_blendshapes.tflite) for the C++ tests.

Runs face_blendshapes.tflite (a member of face_landmarker.task) in the TFLite interpreter
(ai_edge_litert) and writes into tests/data/blendshapes/:

  <case>.input.npy     float32 [146, 2]  the model input (the tensor is [1, 146, 2])
  <case>.output.npy    float32 [52]      the 52 blendshape scores
  manifest.json        cases, formulas, model sha256, runtime versions, XNNPACK vs reference

Real cases follow docs/pipeline.md 6: the 146 landmarks
tests/data/mediapipe_tables.json["blendshape_landmark_indices"] of each face MediaPipe found
in tests/data/golden/<image>.json (`landmarker.faces[i].landmarks`, normalised x, y), scaled to
pixels as float32(x) * float32(width), float32(y) * float32(height); z is dropped. Random cases
scatter 146 points over an image-sized box (numpy's PCG64 with the seed in the manifest); the
inputs are stored, so C++ needs no generator.

Every case runs with the reference kernels (BUILTIN_REF, the stored outputs) and with the default
resolver (XNNPACK, which MediaPipe uses for this model); the manifest records how far they are
apart, and for the real cases how far the reference outputs are from the blendshape scores
MediaPipe itself returned (golden `blendshapes`).

  python3 tests/gen/make_blendshapes_golden.py            # (re)generate
  python3 tests/gen/make_blendshapes_golden.py --check    # recompute, compare with stored files
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

POINTS = 146
SCORES = 52
# XNNPACK vs reference kernels on scores in [0, 1] (issue 4's bound for facekit is 1e-5 too).
TOLERANCE = 1e-5
# (case name, seed, box width, box height) of the random cases.
RANDOM_CASES = [
    ("random_1", 1, 640, 480),
    ("random_2", 2, 64, 4096),  # a tall, thin cloud: extreme aspect, large coordinates
]


class Runner:
    def __init__(self, model_bytes, resolver):
        from ai_edge_litert.interpreter import Interpreter
        self.it = Interpreter(model_content=model_bytes, num_threads=1, experimental_op_resolver_type=resolver)
        self.it.allocate_tensors()
        inp = self.it.get_input_details()
        out = self.it.get_output_details()
        if len(inp) != 1 or list(inp[0]["shape"]) != [1, POINTS, 2] or inp[0]["dtype"] != np.float32:
            sys.exit(f"error: unexpected blendshape input {inp}")
        if len(out) != 1 or int(np.prod(out[0]["shape"])) != SCORES:
            sys.exit(f"error: unexpected blendshape output {out}")
        self.input_index = inp[0]["index"]
        self.output_index = out[0]["index"]

    def run(self, x):
        self.it.set_tensor(self.input_index, x.reshape(1, POINTS, 2))
        self.it.invoke()
        return np.array(self.it.get_tensor(self.output_index), dtype=np.float32, copy=True).reshape(SCORES)


def landmarks_to_input(landmarks, indices, width, height):
    """Spec section 6: (x * W, y * H) of the 146 selected landmarks, float32 products."""
    lm = np.array(landmarks, dtype=np.float64).astype(np.float32)  # golden numbers are exact float32
    sel = lm[np.asarray(indices), :2]
    return np.stack([sel[:, 0] * np.float32(width), sel[:, 1] * np.float32(height)], axis=1).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_args(ap)
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "blendshapes"),
                    help="output folder (default: tests/data/blendshapes)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; recompute from the stored inputs and compare")
    args = ap.parse_args()

    from ai_edge_litert import interpreter as litert
    import ai_edge_litert

    task = os.path.join(args.models, "face_landmarker.task")
    try:
        with zipfile.ZipFile(task) as z:
            model = z.read("face_blendshapes.tflite")
        task_sha = sha256(open(task, "rb").read())
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        sys.exit(f"error: cannot read face_blendshapes.tflite from {task}: {e}")
    # MediaPipe's own table (make_mediapipe_tables.py read it out of the compiled library).
    with open(os.path.join(REPO, "tests", "data", "mediapipe_tables.json")) as f:
        indices = json.load(f)["blendshape_landmark_indices"]
    if len(indices) != POINTS:
        sys.exit(f"error: tests/data/mediapipe_tables.json gives {len(indices)} blendshape landmarks")

    xnn = Runner(model, litert.OpResolverType.AUTO)
    ref = Runner(model, litert.OpResolverType.BUILTIN_REF)

    cases = []  # (entry, input)
    names = None  # MediaPipe's category names, from the goldens
    golden_dir = args.golden
    for fname in sorted(os.listdir(golden_dir)):
        if not fname.endswith(".json"):
            continue
        with open(os.path.join(golden_dir, fname)) as f:
            g = json.load(f)
        faces = g.get("landmarker", {}).get("faces", [])
        for i, face in enumerate(faces):
            name = f"{fname[:-5]}_face{i}"
            entry = {"name": name, "kind": "golden_landmarks", "golden": fname, "face": i,
                     "width": g["width"], "height": g["height"], "input": f"{name}.input.npy"}
            if args.check:
                x = load_stored(os.path.join(args.out, entry["input"]), np.float32, (POINTS, 2))
            else:
                x = landmarks_to_input(face["landmarks"], indices, g["width"], g["height"])
            mp = np.array([b["score"] for b in face["blendshapes"]], dtype=np.float64)
            names = names or [b["categoryName"] for b in face["blendshapes"]]
            cases.append((entry, x, mp))
    for name, seed, w, h in RANDOM_CASES:
        entry = {"name": name, "kind": "random", "seed": seed, "box": [w, h], "input": f"{name}.input.npy",
                 "generator": "numpy.random.default_rng(seed).uniform(0, 1, (146, 2)) * [w, h], as float32"}
        if args.check:
            x = load_stored(os.path.join(args.out, entry["input"]), np.float32, (POINTS, 2))
        else:
            rng = np.random.default_rng(seed)
            x = (rng.uniform(0.0, 1.0, (POINTS, 2)) * np.array([w, h])).astype(np.float32)
        cases.append((entry, x, None))

    worst = 0.0
    worst_mp = 0.0
    failures = []
    for entry, x, mp in cases:
        a = xnn.run(x)
        b = ref.run(x)
        if not np.array_equal(b, ref.run(x)):
            failures.append(f"{entry['name']}: BUILTIN_REF is not deterministic")
        d = float(np.max(np.abs(a.astype(np.float64) - b)))
        worst = max(worst, d)
        entry["xnnpack_vs_ref_max_abs_diff"] = d
        entry["output"] = f"{entry['name']}.output.npy"
        msg = f"{entry['name']:28s} max|xnnpack-ref| {d:.3g}"
        if mp is not None:
            dm = float(np.max(np.abs(mp - b)))
            worst_mp = max(worst_mp, dm)
            entry["mediapipe_vs_ref_max_abs_diff"] = dm
            msg += f", max|mediapipe-ref| {dm:.3g}"
        print(msg)
        if args.check:
            stored = load_stored(os.path.join(args.out, entry["output"]), np.float32, (SCORES,))
            if not np.array_equal(stored, b):
                failures.append(f"{entry['name']}: differs from the stored golden by up to "
                                f"{float(np.max(np.abs(stored.astype(np.float64) - b))):.3g}")
        entry["_data"] = b

    print(f"max |XNNPACK - BUILTIN_REF| over all cases: {worst:.3g} (tolerance {TOLERANCE:g}); "
          f"max |MediaPipe golden - BUILTIN_REF|: {worst_mp:.3g}")
    if worst > TOLERANCE:
        failures.append(f"XNNPACK and BUILTIN_REF differ by {worst:.3g} > {TOLERANCE:g}")

    if not args.check:
        os.makedirs(args.out, exist_ok=True)
        for entry, x, _ in cases:
            out = entry.pop("_data")
            np.save(os.path.join(args.out, entry["input"]), np.ascontiguousarray(x, dtype=np.float32))
            np.save(os.path.join(args.out, entry["output"]), np.ascontiguousarray(out, dtype=np.float32))
        manifest = {
            "description": "Golden outputs of the blendshape network (face_blendshapes.tflite) for facekit's "
                           "C++ tests; generated by tests/gen/make_blendshapes_golden.py.",
            "model": {"file": "face_blendshapes.tflite", "bundle": "face_landmarker.task",
                      "sha256": sha256(model), "bundle_sha256": task_sha},
            "runtime": {"ai_edge_litert": ai_edge_litert.__version__, "numpy": np.__version__, "num_threads": 1},
            "outputs_from": "BUILTIN_REF",
            "xnnpack_vs_ref_max_abs_diff": worst,
            "mediapipe_golden_vs_ref_max_abs_diff": worst_mp,
            "input": {"shape": [1, POINTS, 2], "stored_shape": [POINTS, 2], "dtype": "float32",
                      "from_landmarks": "row k = (float32(x) * float32(width), float32(y) * float32(height)) of "
                                        "landmark blendshape_landmark_indices[k] "
                                        "(tests/data/mediapipe_tables.json); pixels, z dropped (docs/pipeline.md 6)"},
            "output": {"shape": [SCORES], "dtype": "float32", "names": names},
            "cases": [e for e, _, _ in cases],
        }
        write_manifest(args.out, manifest)

    return exit_code(failures)


if __name__ == "__main__":
    sys.exit(main())
