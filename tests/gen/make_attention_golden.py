#!/usr/bin/env python3
"""Reference tensors of the Attention Mesh (face_landmark_with_attention.tflite) for the C++ tests.

TFLite cannot run the model as a whole: its three MediaPipe custom ops (Landmarks2TransformMatrix,
TransformTensorBilinear, TransformLandmarks) are not in the interpreter. So the reference is split:

  * every builtin op runs in the TFLite interpreter (ai_edge_litert, reference kernels), on a copy
    of the model with the 11 custom ops and the 5 final RESHAPEs removed; the custom ops' outputs
    (the three 4x4 matrices, the three 16x16x32 crops) become extra graph inputs, the tensors
    around them extra graph outputs;
  * the custom ops are computed here in numpy, in float64, straight from MediaPipe's rules
    (docs/pipeline.md 4.3-4.5), independently of the C++ kernels.

Run 1 (crops = 0) gives the mesh, the 48x48 feature map and the 0.25-scaled landmarks; numpy
builds the matrices and the crops; run 2 feeds them and gives the heads' outputs, which numpy
transforms into the final lips/eyes/irises. Written into tests/data/attention/:

  <case>.input.npy      uint8 [1,192,192,3]    the model input is float32(u) / 255
  <case>.mesh.npy       float32 [1404]         output_mesh_identity (TFLite)
  <case>.face_flag.npy  float32 [1]            conv_faceflag (TFLite)
  <case>.matrices.npy   float32 [3,16]         Landmarks2TransformMatrix lips/left eye/right eye (numpy)
  <case>.crops.npy      float32 [3,16,16,32]   TransformTensorBilinear outputs (numpy)
  <case>.refined.npy    float32 [364]          lips 160, left eye 142, right eye 142, left iris 10,
                                               right iris 10 (TFLite heads + numpy TransformLandmarks)
  manifest.json

Cases: "happy" is tests/data/face_mesh_v2/emotion_happy.input.npy (a real 256x256 uint8 face
crop) resized to 192x192 with cv2.INTER_AREA; "random" is uniform uint8 noise (numpy PCG64 seed 5).

  python3 tests/gen/make_attention_golden.py
"""
import hashlib
import json
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
MODEL = os.path.join(REPO, "weights", "originals", "face_landmark_with_attention.tflite")
OUT = os.path.join(REPO, "tests", "data", "attention")

# Custom ops of the model (operator index, kind); docs/pipeline.md 4.1.
L2T_OPS = [192, 193, 194]
TTB_OPS = [195, 196, 197]
TL_OPS = [701, 702, 703, 704, 705]
FINAL_RESHAPES = [707, 708, 709, 710, 711]


def custom_options(model, op):
    from flatbuffers import flexbuffers
    n = op.CustomOptionsLength()
    return flexbuffers.Loads(bytes(op.CustomOptionsAsNumpy())) if n else {}


def l2t(landmarks, o):
    """Landmarks2TransformMatrix v2 in float64 (docs/pipeline.md 4.3). landmarks: [N, 3]."""
    lm = landmarks.astype(np.float64)
    L, R = lm[o["left_rotation_idx"]], lm[o["right_rotation_idx"]]
    rot = o.get("target_rotation_radians", 0.0) - math.atan2(R[1] - L[1], R[0] - L[0])
    c, s = math.cos(rot), math.sin(rot)
    pts = lm[np.array(o["subset_idxs"]), :2]
    rx = pts[:, 0] * c - pts[:, 1] * s
    ry = pts[:, 0] * s + pts[:, 1] * c
    w, h = rx.max() - rx.min(), ry.max() - ry.min()
    mx, my = (rx.max() + rx.min()) / 2, (ry.max() + ry.min()) / 2
    cx, cy = mx * c + my * s, -mx * s + my * c  # rotate back by -rot
    phi = -rot
    ow, oh = o["output_width"], o["output_height"]
    sx, sy = o["scale_x"] * w / ow, o["scale_y"] * h / oh
    T = np.array([[1, 0, 0, cx], [0, 1, 0, cy], [0, 0, 1, 0], [0, 0, 0, 1]], np.float64)
    Rm = np.array([[math.cos(phi), -math.sin(phi), 0, 0], [math.sin(phi), math.cos(phi), 0, 0],
                   [0, 0, 1, 0], [0, 0, 0, 1]], np.float64)
    S = np.diag([sx, sy, 1.0, 1.0])
    T2 = np.array([[1, 0, 0, -ow / 2], [0, 1, 0, -oh / 2], [0, 0, 1, 0], [0, 0, 0, 1]], np.float64)
    return T @ Rm @ S @ T2


def ttb(data, m, oh, ow):
    """TransformTensorBilinear v2 in float64 (docs/pipeline.md 4.4). data: [H, W, C]."""
    H, W, C = data.shape
    d = data.astype(np.float64)
    out = np.zeros((oh, ow, C), np.float64)
    for Y in range(oh):
        for X in range(ow):
            tx = m[0, 0] * (X + 0.5) + m[0, 1] * (Y + 0.5) + m[0, 3] - 0.5
            ty = m[1, 0] * (X + 0.5) + m[1, 1] * (Y + 0.5) + m[1, 3] - 0.5
            if tx < 0 or tx > W - 1 or ty < 0 or ty > H - 1:
                continue
            x0, y0 = int(math.floor(tx)), int(math.floor(ty))
            fx, fy = tx - x0, ty - y0
            x1, y1 = min(x0 + 1, W - 1), min(y0 + 1, H - 1)
            up = (1 - fx) * d[y0, x0] + fx * d[y0, x1]
            lo = (1 - fx) * d[y1, x0] + fx * d[y1, x1]
            out[Y, X] = fy * lo + (1 - fy) * up
    return out


def tl(points, m):
    """TransformLandmarks v2 (docs/pipeline.md 4.5). points: [N, 2]."""
    p = points.astype(np.float64)
    return np.stack([m[0, 0] * p[:, 0] + m[0, 1] * p[:, 1] + m[0, 3],
                     m[1, 0] * p[:, 0] + m[1, 1] * p[:, 1] + m[1, 3]], axis=1)


def cut_model(buf):
    """The model without the custom ops and final reshapes; their tensors become graph I/O."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as S
    m = S.ModelT.InitFromPackedBuf(buf, 0)
    sg = m.subgraphs[0]
    ops = sg.operators
    drop = set(L2T_OPS + TTB_OPS + TL_OPS + FINAL_RESHAPES)
    new_inputs = [ops[i].outputs[0] for i in L2T_OPS + TTB_OPS]
    # Outputs: mesh, face flag, p_re_lu_3, the three 0.25-scaled landmark sets, the heads' reshaped
    # points (TransformLandmarks' first inputs) and the scaled matrices (their second inputs).
    names = {i: sg.tensors[i].name.decode() for i in range(len(sg.tensors))}
    by_name = {v: k for k, v in names.items()}
    outs = [by_name["output_mesh_identity"], by_name["conv_faceflag"], ops[TTB_OPS[0]].inputs[0]]
    outs += [ops[i].inputs[0] for i in L2T_OPS]
    outs += [ops[i].inputs[0] for i in TL_OPS] + [ops[i].inputs[1] for i in TL_OPS]
    sg.operators = [op for i, op in enumerate(ops) if i not in drop]
    sg.inputs = list(sg.inputs) + new_inputs
    sg.outputs = outs
    b = flatbuffers.Builder(1 << 20)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output()), outs, new_inputs


def run_case(name, pixels, buf, report):
    x = pixels.astype(np.float32) / np.float32(255)  # uint8 RGB -> the model's [0, 1], as C++ does it
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from ai_edge_litert import schema_py_generated as S
    model = S.Model.GetRootAsModel(buf, 0)
    sg = model.Subgraphs(0)
    opts = {i: custom_options(model, sg.Operators(i)) for i in L2T_OPS + TTB_OPS}
    cut, outs, extra = cut_model(buf)
    it = Interpreter(model_content=cut, num_threads=1,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    ins = it.get_input_details()
    od = it.get_output_details()

    def run(feeds):
        for d in ins:
            it.set_tensor(d["index"], feeds.get(d["index"], np.zeros(d["shape"], np.float32)))
        it.invoke()
        return [it.get_tensor(d["index"]) for d in od]

    image_in = ins[0]["index"]
    r1 = run({image_in: x})
    feature = r1[2][0]
    mats = [l2t(r1[3 + k][0], opts[L2T_OPS[k]]) for k in range(3)]
    crops = [ttb(feature, mats[k], opts[TTB_OPS[k]]["output_height"], opts[TTB_OPS[k]]["output_width"])
             for k in range(3)]
    feeds = {image_in: x}
    for k in range(3):
        feeds[ins[1 + k]["index"]] = mats[k].astype(np.float32).reshape(1, 4, 4)
        feeds[ins[4 + k]["index"]] = crops[k].astype(np.float32)[None]
    r2 = run(feeds)
    assert np.array_equal(r2[0], r1[0]), "the mesh does not depend on the crops"
    pts = r2[6:11]
    scaled = r2[11:16]
    # The scaled matrices TFLite computed (MUL of our matrix by the constant) feed TransformLandmarks.
    refined = [tl(pts[k][0], scaled[k][0].astype(np.float64)) for k in range(5)]
    # Output order of the model: lips (701), left eye (702), right eye (704), left iris (703),
    # right iris (705).
    order = [0, 1, 3, 2, 4]
    refined_flat = np.concatenate([refined[k].reshape(-1) for k in order]).astype(np.float32)
    np.save(os.path.join(OUT, name + ".input.npy"), pixels.astype(np.uint8))
    np.save(os.path.join(OUT, name + ".mesh.npy"), r2[0].reshape(-1).astype(np.float32))
    np.save(os.path.join(OUT, name + ".face_flag.npy"), r2[1].reshape(-1).astype(np.float32))
    np.save(os.path.join(OUT, name + ".matrices.npy"), np.stack([m.reshape(-1) for m in mats]).astype(np.float32))
    np.save(os.path.join(OUT, name + ".crops.npy"), np.stack(crops).astype(np.float32))
    np.save(os.path.join(OUT, name + ".refined.npy"), refined_flat)
    report[name] = {"face_flag": float(r2[1].reshape(-1)[0]),
                    "crop_nonzero_fraction": [float(np.mean(c != 0)) for c in crops]}


def main():
    os.makedirs(OUT, exist_ok=True)
    buf = open(MODEL, "rb").read()
    import cv2
    happy = np.load(os.path.join(REPO, "tests", "data", "face_mesh_v2", "emotion_happy.input.npy"))
    happy = cv2.resize(happy.reshape(256, 256, 3), (192, 192), interpolation=cv2.INTER_AREA)[None]
    rnd = np.random.Generator(np.random.PCG64(5)).integers(0, 256, (1, 192, 192, 3), dtype=np.uint8)
    report = {}
    run_case("happy", happy, buf, report)
    run_case("random", rnd, buf, report)
    import ai_edge_litert
    manifest = {"model_sha256": hashlib.sha256(buf).hexdigest(), "cases": report,
                "reference": "TFLite BUILTIN_REF for builtin ops, numpy float64 for the custom ops "
                             "(docs/pipeline.md 4.3-4.5)",
                "ai_edge_litert": getattr(ai_edge_litert, "__version__", "?")}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
