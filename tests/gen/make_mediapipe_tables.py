#!/usr/bin/env python3
"""Index tables of MediaPipe's face pipeline, read out of the mediapipe==0.10.21 wheel itself.

facekit's headers hold these tables as constants; the tests compare them with what this script
finds in MediaPipe's own compiled code, so neither side is copied from the other:

  blendshape_landmark_indices   the 146 landmarks the blendshape network reads
                                (kLandmarksSubsetIdxs in
                                mediapipe/tasks/cc/vision/face_landmarker/face_blendshapes_graph.cc):
                                the only run of 146 strictly increasing int32 values from 0 to 477
                                in the wheel's _framework_bindings shared library.
  attention_mesh_refinements    the six refinements of the legacy Face Mesh's
                                LandmarksRefinementCalculator (mediapipe/modules/face_landmark/
                                tensors_to_face_landmarks_with_attention.pbtxt, compiled into the
                                same library as a serialized graph): each {indexes_mapping,
                                z_refinement: copy | none | assign_average, indexes_for_average}.
                                Found as the protobuf LandmarksRefinementCalculatorOptions whose
                                first refinement maps the 468 mesh points onto themselves.

  python3 tests/gen/make_mediapipe_tables.py            # (re)write tests/data/mediapipe_tables.json
  python3 tests/gen/make_mediapipe_tables.py --check    # compare with the stored file

Needs a venv with mediapipe==0.10.21 and numpy.
"""
import argparse
import glob
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
MEDIAPIPE_VERSION = "0.10.21"


def blendshape_indices(lib):
    """The unique run of 146 strictly increasing int32 values 0..477 (any 4-byte alignment)."""
    found = []
    for align in range(4):
        n = (len(lib) - align) // 4
        a = np.frombuffer(lib, dtype="<i4", count=n, offset=align)
        starts = np.flatnonzero(a[:-145] == 0)
        for s in starts:
            run = a[s:s + 146]
            if run[-1] == 477 and np.all(np.diff(run) > 0):
                found.append((align + 4 * int(s), [int(v) for v in run]))
    if len(found) != 1:
        sys.exit(f"error: expected one 146-entry landmark table in the library, found {len(found)}")
    return found[0]


def attention_refinements(lib):
    from google.protobuf.internal.decoder import _DecodeVarint
    from mediapipe.calculators.util import landmarks_refinement_calculator_pb2 as pb
    # The first refinement maps mesh point i to output i: field 1 (varint) = 0, 1, 2, ...
    identity = b"".join(b"\x08" + bytes([i]) for i in range(8))
    hits = []
    start = lib.find(identity)
    while start >= 0:
        hits.append(start)
        start = lib.find(identity, start + 1)
    results = []
    for body in hits:
        # Walk back over the refinement's own tag and length to where the options begin.
        for head in range(body - 4, body):
            if lib[head] != 0x0A:
                continue
            refinements, i = [], head
            while i < len(lib) and lib[i] == 0x0A:
                size, j = _DecodeVarint(lib, i + 1)
                if size > 1 << 16:
                    break
                r = pb.LandmarksRefinementCalculatorOptions.Refinement()
                try:
                    r.ParseFromString(lib[j:j + size])
                except Exception:  # noqa: BLE001 - bytes that are not a Refinement end the run
                    break
                if not r.indexes_mapping:
                    break
                refinements.append(r)
                i = j + size
            if len(refinements) == 6 and len(refinements[0].indexes_mapping) == 468:
                results.append((head, refinements))
    if len(results) != 1:
        sys.exit(f"error: expected one 6-part LandmarksRefinementCalculatorOptions, found {len(results)}")
    head, refinements = results[0]
    out = []
    for r in refinements:
        kind = r.z_refinement.WhichOneof("z_refinement_options")
        entry = {"indexes_mapping": list(r.indexes_mapping), "z_refinement": kind}
        if kind == "assign_average":
            entry["indexes_for_average"] = list(r.z_refinement.assign_average.indexes_for_average)
        out.append(entry)
    return head, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "mediapipe_tables.json"))
    ap.add_argument("--check", action="store_true", help="write nothing; compare with the stored file")
    args = ap.parse_args()
    import mediapipe as mp
    if mp.__version__ != MEDIAPIPE_VERSION:
        sys.exit(f"error: mediapipe {mp.__version__} is installed; pip install mediapipe=={MEDIAPIPE_VERSION}")
    libs = glob.glob(os.path.join(os.path.dirname(mp.__file__), "python", "_framework_bindings*.so"))
    if len(libs) != 1:
        sys.exit("error: cannot find mediapipe/python/_framework_bindings*.so")
    lib = open(libs[0], "rb").read()
    bs_offset, bs = blendshape_indices(lib)
    ref_offset, refinements = attention_refinements(lib)
    doc = {
        "description": "Index tables read out of MediaPipe's compiled library by tests/gen/make_mediapipe_tables.py.",
        "source": {"package": f"mediapipe=={mp.__version__}", "file": "mediapipe/python/" + os.path.basename(libs[0]),
                   "size": len(lib), "blendshape_table_offset": bs_offset, "refinement_options_offset": ref_offset},
        "blendshape_landmark_indices": bs,
        "attention_mesh_refinements": refinements,
    }
    print(f"blendshape indices: {len(bs)} at byte {bs_offset}; refinements: "
          + ", ".join(f"{len(r['indexes_mapping'])} {r['z_refinement']}" for r in refinements)
          + f" at byte {ref_offset}")
    if args.check:
        stored = json.load(open(args.out))
        same = all(stored[k] == doc[k] for k in ("blendshape_landmark_indices", "attention_mesh_refinements"))
        print("same as " + args.out if same else "DIFFERENT from " + args.out)
        return 0 if same else 1
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
