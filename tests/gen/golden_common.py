"""Helpers shared by the tests/gen/make_*_golden.py scripts (stored arrays, manifests, exit codes)."""
import hashlib
import json
import os
import sys

import numpy as np


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def load_stored(path, dtype, shape):
    """A stored .npy, which must have exactly this dtype and shape (else exit with a message)."""
    try:
        a = np.load(path)
    except (OSError, ValueError) as e:
        sys.exit(f"error: cannot read {path}: {e}")
    if a.dtype != dtype or a.shape != tuple(shape):
        sys.exit(f"error: {path} is {a.dtype}{a.shape}, expected {np.dtype(dtype)}{tuple(shape)}")
    return a


def write_manifest(out_dir, manifest):
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(out_dir, p)) for p in os.listdir(out_dir))
    print(f"wrote {len(os.listdir(out_dir))} files, {total} bytes, into {out_dir}")


def exit_code(failures):
    for msg in failures:
        print(f"FAIL: {msg}", file=sys.stderr)
    return 1 if failures else 0


def add_input_args(ap):
    """--models, --images and --golden, defaulting to where the repository keeps them."""
    repo = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap.add_argument("--models", default=os.path.join(repo, "weights", "originals"),
                    help="folder with the original model files (default: weights/originals, "
                         "filled by tools/fetch-models.sh)")
    ap.add_argument("--images", default=os.path.join(repo, "tests", "data", "images"),
                    help="folder with the test images (default: tests/data/images)")
    ap.add_argument("--golden", default=os.path.join(repo, "tests", "data", "golden"),
                    help="folder with MediaPipe's goldens (default: tests/data/golden, made by "
                         "make_mediapipe_golden.py)")
