#!/usr/bin/env python3
"""Golden 8-bit crops for facekit's MediaPipe-exact CPU crop (tests/test_image.cpp).

MediaPipe's CPU ImageToTensorCalculator crops with OpenCV's fixed-point warpPerspective
(docs/pipeline.md 0.3 step 4). Newer OpenCV releases send warpPerspective INTER_LINEAR on
8-bit images to floating-point kernels, so the golden crops do not rely on cv2: they are made by
a straightforward numpy implementation of MediaPipe's rules (float32 corners, 8x8 LU with the
division in the back substitution, closed-form 3x3 inverse, blocks, cvRound half-to-even to
1/32 pixel, integer weights, (sum + 16384) >> 15, borders). Two cross-checks are recorded per
case in cases.json ("differing_bytes"), plus one for information:
  - cv2.remap fed the same fixed-point maps (CV_16SC2 + table indices), i.e. OpenCV's integer
    remapBilinear: must be 0, generation stops otherwise;
  - MediaPipe's OpenCV calls end to end (boxPoints, getPerspectiveTransform, warpPerspective):
    measured 0 on every case with the cv2 4.11.0 wheel here (it still has the fixed-point path).
  - (information) the LU variant that multiplies by a stored reciprocal instead of dividing:
    it changes the bytes of letterboxed non-square images with exact 1/64-pixel ties.

  python3 tests/gen/make_crop_golden.py              # (re)generate tests/data/crops/
  python3 tests/gen/make_crop_golden.py --check      # recompute and compare, write nothing
  python3 tests/gen/make_crop_golden.py --verify-detector
      # also letterbox the PNG images to 128x128 with these rules, run face_detector.tflite
      # (ai_edge_litert) and compare the best score with MediaPipe's (tests/data/golden)

Output (tests/data/crops/): one PNG per case (lossless RGB8, decoded by the C++ test with
facekit::load_image, i.e. stb_image), cases.json with every ROI as float32 values written
as exact decimals, and detector_rows.json: the detector's outputs on the MediaPipe-exact letterbox
of a few PNG images (only anchors with a logit >= -1), for the post-processing test.
"""
import argparse
import hashlib
import json
import math
import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import add_input_args  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
F32 = np.float32
INT_MIN, INT_MAX = -2147483648, 2147483647


# ---------------------------------------------------------------------------------------------
# MediaPipe's CPU crop rules (docs/pipeline.md 0.3 step 4), in numpy. Python floats are IEEE doubles; numpy float32
# scalars round every operation to float32; nothing is fused.

def box_points(cx, cy, w, h, theta):
    """OpenCV RotatedRect::points for MediaPipe's rect: float32 corners BL, TL, TR, BR."""
    cx, cy, w, h, theta = F32(cx), F32(cy), F32(w), F32(h), F32(theta)
    angle_deg = F32(float(theta * F32(180.0)) / math.pi)  # float product, double division
    ang = float(angle_deg) * math.pi / 180.0
    b = F32(math.cos(ang)) * F32(0.5)
    a = F32(math.sin(ang)) * F32(0.5)
    p0 = (cx - a * h - b * w, cy + b * h - a * w)
    p1 = (cx + a * h - b * w, cy - b * h - a * w)
    p2 = (F32(2) * cx - p0[0], F32(2) * cy - p0[1])
    p3 = (F32(2) * cx - p1[0], F32(2) * cy - p1[1])
    return [p0, p1, p2, p3]


def lu_solve(a, b, reciprocal=False):
    """OpenCV hal::LU64f on lists of floats; reciprocal=True is the wrong variant (for the report)."""
    m = len(a)
    a = [row[:] for row in a]
    b = b[:]
    for i in range(m):
        k = i
        for j in range(i + 1, m):
            if abs(a[j][i]) > abs(a[k][i]):
                k = j
        if abs(a[k][i]) < 2.220446049250313e-16 * 100:
            raise ValueError("singular system")
        if k != i:
            a[i], a[k] = a[k], a[i]
            b[i], b[k] = b[k], b[i]
        d = -1.0 / a[i][i]
        for j in range(i + 1, m):
            alpha = a[j][i] * d
            for c in range(i + 1, m):
                a[j][c] += alpha * a[i][c]
            b[j] += alpha * b[i]
        if reciprocal:
            a[i][i] = -d
    for i in range(m - 1, -1, -1):
        s = b[i]
        for c in range(i + 1, m):
            s -= a[i][c] * b[c]
        b[i] = s * a[i][i] if reciprocal else s / a[i][i]
    return b


def perspective_transform(src, n_w, n_h, reciprocal=False):
    dst = [(F32(0), F32(n_h)), (F32(0), F32(0)), (F32(n_w), F32(0)), (F32(n_w), F32(n_h))]
    a = [[0.0] * 8 for _ in range(8)]
    b = [0.0] * 8
    for i in range(4):
        x, y = src[i]
        u, v = dst[i]
        a[i][0] = a[i + 4][3] = float(x)
        a[i][1] = a[i + 4][4] = float(y)
        a[i][2] = a[i + 4][5] = 1.0
        a[i][6] = float(-x * u)  # float32 products
        a[i][7] = float(-y * u)
        a[i + 4][6] = float(-x * v)
        a[i + 4][7] = float(-y * v)
        b[i] = float(u)
        b[i + 4] = float(v)
    s = lu_solve(a, b, reciprocal)
    return [s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], 1.0]


def invert3(m):
    m00, m01, m02, m10, m11, m12, m20, m21, m22 = m
    det = m00 * (m11 * m22 - m12 * m21) - m01 * (m10 * m22 - m12 * m20) + m02 * (m10 * m21 - m11 * m20)
    if det == 0:
        raise ValueError("singular homography")
    r = 1.0 / det
    return [(m11 * m22 - m12 * m21) * r, (m02 * m21 - m01 * m22) * r, (m01 * m12 - m02 * m11) * r,
            (m12 * m20 - m10 * m22) * r, (m00 * m22 - m02 * m20) * r, (m02 * m10 - m00 * m12) * r,
            (m10 * m21 - m11 * m20) * r, (m01 * m20 - m00 * m21) * r, (m00 * m11 - m01 * m10) * r]


def fixed_point_maps(t, n_w, n_h):
    """WarpPerspectiveInvoker: per output pixel the integer source pixel (sx, sy) (saturated to
    int16) and the table index (Y & 31) * 32 + (X & 31). Also counts exact rounding ties."""
    bh0 = min(16, n_h)
    bw0 = min(1024 // bh0, n_w)
    bh0 = min(1024 // bw0, n_h)
    sx = np.empty((n_h, n_w), np.int64)
    sy = np.empty((n_h, n_w), np.int64)
    fxy = np.empty((n_h, n_w), np.int64)
    ties = 0
    for y in range(0, n_h, bh0):
        for x in range(0, n_w, bw0):
            bw = min(bw0, n_w - x)
            bh = min(bh0, n_h - y)
            x1 = np.arange(bw, dtype=np.float64)
            for y1 in range(bh):
                yy = y + y1
                X0 = t[0] * x + t[1] * yy + t[2]
                Y0 = t[3] * x + t[4] * yy + t[5]
                W0 = t[6] * x + t[7] * yy + t[8]
                wd = W0 + t[6] * x1
                with np.errstate(divide="ignore"):
                    wd = np.where(wd != 0, 32.0 / np.where(wd != 0, wd, 1.0), 0.0)
                fx = (X0 + t[0] * x1) * wd
                fy = (Y0 + t[3] * x1) * wd
                ties += int(np.count_nonzero(fx - np.floor(fx) == 0.5)) + int(np.count_nonzero(fy - np.floor(fy) == 0.5))
                fx = np.maximum(float(INT_MIN), np.minimum(float(INT_MAX), fx))
                fy = np.maximum(float(INT_MIN), np.minimum(float(INT_MAX), fy))
                X = np.rint(fx).astype(np.int64)  # half to even, like cvRound
                Y = np.rint(fy).astype(np.int64)
                sx[yy, x:x + bw] = np.clip(X >> 5, -32768, 32767)
                sy[yy, x:x + bw] = np.clip(Y >> 5, -32768, 32767)
                fxy[yy, x:x + bw] = (Y & 31) * 32 + (X & 31)
    return sx, sy, fxy, ties


def opencv_bilinear_table():
    """initInterTab2D(INTER_LINEAR, fixpt): int16 weights, including OpenCV's sum correction
    (only cell 0 needs it: 32768 saturates to 32767 and the spare 1 lands on w11)."""
    tab1 = [(F32(1) - F32(i) * F32(1.0 / 32), F32(i) * F32(1.0 / 32)) for i in range(32)]
    itab = np.zeros(32 * 32 * 4 + 4, np.int64)
    for i in range(32):
        for j in range(32):
            base = (i * 32 + j) * 4
            isum = 0
            for k1 in range(2):
                for k2 in range(2):
                    v = float(tab1[i][k1] * tab1[j][k2]) * 32768
                    iv = max(-32768, min(32767, int(np.rint(v))))
                    itab[base + k1 * 2 + k2] = iv
                    isum += iv
            if isum != 32768:
                diff = isum - 32768
                mk = Mk = (1, 1)
                for k1 in (1, 2):
                    for k2 in (1, 2):
                        v = itab[base + k1 * 2 + k2]
                        if v < itab[base + mk[0] * 2 + mk[1]]:
                            mk = (k1, k2)
                        elif v > itab[base + Mk[0] * 2 + Mk[1]]:
                            Mk = (k1, k2)
                if diff < 0:
                    itab[base + Mk[0] * 2 + Mk[1]] -= diff
                else:
                    itab[base + mk[0] * 2 + mk[1]] -= diff
    return itab[:32 * 32 * 4].reshape(32 * 32, 4)


WTAB = opencv_bilinear_table()


def remap_bilinear(img, sx, sy, fxy, border):
    """remapBilinear for 8-bit images (any channel count)."""
    H, W, C = img.shape
    w = WTAB[fxy]  # (n_h, n_w, 4)
    inlier = (sx >= 0) & (sx < max(W - 1, 0)) & (sy >= 0) & (sy < max(H - 1, 0))
    if border == "replicate":
        cx0, cx1 = np.clip(sx, 0, W - 1), np.clip(sx + 1, 0, W - 1)
        cy0, cy1 = np.clip(sy, 0, H - 1), np.clip(sy + 1, 0, H - 1)
        ok00 = ok01 = ok10 = ok11 = np.ones_like(sx, bool)
    else:
        cx0, cx1 = np.clip(sx, 0, W - 1), np.clip(sx + 1, 0, W - 1)
        cy0, cy1 = np.clip(sy, 0, H - 1), np.clip(sy + 1, 0, H - 1)
        in_x0, in_x1 = (sx >= 0) & (sx < W), (sx + 1 >= 0) & (sx + 1 < W)
        in_y0, in_y1 = (sy >= 0) & (sy < H), (sy + 1 >= 0) & (sy + 1 < H)
        ok00, ok01, ok10, ok11 = in_x0 & in_y0, in_x1 & in_y0, in_x0 & in_y1, in_x1 & in_y1
    src = img.astype(np.int64)
    v00 = np.where(ok00[..., None], src[cy0, cx0], 0)
    v01 = np.where(ok01[..., None], src[cy0, cx1], 0)
    v10 = np.where(ok10[..., None], src[cy1, cx0], 0)
    v11 = np.where(ok11[..., None], src[cy1, cx1], 0)
    acc = v00 * w[..., 0:1] + v01 * w[..., 1:2] + v10 * w[..., 2:3] + v11 * w[..., 3:4]
    out = np.clip((acc + 16384) >> 15, 0, 255)
    if border == "zero":
        whole = (sx >= W) | (sx + 1 < 0) | (sy >= H) | (sy + 1 < 0)
        out[whole] = 0
    del inlier  # inlier pixels follow the same formula with all four neighbours inside
    return out.astype(np.uint8)


def spec_crop(img, roi, n_w, n_h, border, reciprocal=False):
    """uint8 (n_h, n_w, C) crop of img (H, W, C uint8) by roi = (cx, cy, w, h, theta)."""
    m = perspective_transform(box_points(*roi), n_w, n_h, reciprocal)
    t = invert3(m)
    sx, sy, fxy, ties = fixed_point_maps(t, n_w, n_h)
    return remap_bilinear(img, sx, sy, fxy, border), (m, t, sx, sy, fxy, ties)


def cv2_remap_crop(img, sx, sy, fxy, border):
    """The same maps through OpenCV's own integer remap (cross-check of remap_bilinear)."""
    import cv2
    map1 = np.stack([sx, sy], axis=-1).astype(np.int16)
    map2 = fxy.astype(np.uint16)
    mode = cv2.BORDER_REPLICATE if border == "replicate" else cv2.BORDER_CONSTANT
    return cv2.remap(img, map1, map2, cv2.INTER_LINEAR, borderMode=mode, borderValue=0)


def cv2_full_crop(img, roi, n_w, n_h, border):
    """MediaPipe's OpenCV calls end to end: boxPoints, getPerspectiveTransform, warpPerspective."""
    import cv2
    cx, cy, w, h, theta = (F32(v) for v in roi)
    angle = float(F32(float(theta * F32(180.0)) / math.pi))
    src = cv2.boxPoints(((float(cx), float(cy)), (float(w), float(h)), angle))
    dst = np.float32([[0, n_h], [0, 0], [n_w, 0], [n_w, n_h]])
    return cv2_warp_crop(img, cv2.getPerspectiveTransform(src, dst).reshape(-1), n_w, n_h, border)


def cv2_warp_crop(img, m, n_w, n_h, border):
    import cv2
    mode = cv2.BORDER_REPLICATE if border == "replicate" else cv2.BORDER_CONSTANT
    return cv2.warpPerspective(img, np.array(m, np.float64).reshape(3, 3), (n_w, n_h), flags=cv2.INTER_LINEAR,
                               borderMode=mode, borderValue=0)


def letterbox_roi(W, H, n_w, n_h):
    """Whole image (W/2, H/2, W, H, 0) padded to the tensor aspect (MediaPipe PadRoi, float32)."""
    cx, cy, w, h = F32(0.5) * F32(W), F32(0.5) * F32(H), F32(W), F32(H)
    t = F32(n_h) / F32(n_w)
    r = h / w
    if t > r:
        h = w * t
    else:
        w = h / t
    return (cx, cy, w, h, F32(0))


# ---------------------------------------------------------------------------------------------

def load_rgb(path):
    """stb_image-compatible RGB8 decode. PNG via cv2 is lossless and identical; the JPEGs are not
    used here because cv2's libjpeg and stb_image decode them differently."""
    import cv2
    bgr = cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        sys.exit(f"error: cannot decode image {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def f32_exact(v):
    """float32 as the shortest decimal that reads back as the same float32."""
    return float(np.format_float_positional(F32(v), unique=True, trim="-")) if math.isfinite(v) else v


# name, image, roi (cx, cy, w, h, theta) or "letterbox", out (w, h), border
CASES = [
    ("hanks_rot30_replicate", "Tom_Hanks_54745.png", (52.5, 60.25, 70.0, 82.5, 0.5235988), (64, 64), "replicate"),
    ("hanks_rot-100_zero", "Tom_Hanks_54745.png", (40.0, 70.0, 96.0, 64.0, -1.745329), (64, 48), "zero"),
    ("hanks_offimage_zero", "Tom_Hanks_54745.png", (100.0, 10.0, 60.0, 60.0, 0.3), (32, 32), "zero"),
    ("hanks_offimage_replicate", "Tom_Hanks_54745.png", (100.0, 10.0, 60.0, 60.0, 0.3), (32, 32), "replicate"),
    ("astronaut_upscale_rot", "skimage_astronaut.png", (224.0, 130.0, 40.0, 52.0, 2.9), (64, 64), "replicate"),
    ("astronaut_downscale", "skimage_astronaut.png", (256.0, 256.0, 512.0, 512.0, 0.0), (64, 64), "zero"),
    ("happy_face_roi", "emotion_happy.png", (223.5, 300.5, 333.0 * 1.5, 333.0 * 1.5, 0.1234), (64, 64), "replicate"),
    # Detector letterboxes of non-square images (the 1/64-pixel tie case of docs/pipeline.md 10).
    ("noface_letterbox128", "crop_no_face.png", "letterbox", (128, 128), "zero"),
]


def synthetic_image(W, H):
    """Deterministic RGB8 test pattern, reproduced by tests/test_image.cpp:
    v(x, y, c) = ((x * 2654435761 + y * 40503 + c * 977) mod 2^32 >> 13) & 255."""
    x = np.arange(W, dtype=np.uint64)[None, :, None]
    y = np.arange(H, dtype=np.uint64)[:, None, None]
    c = np.arange(3, dtype=np.uint64)[None, None, :]
    h = (x * np.uint64(2654435761) + y * np.uint64(40503) + c * np.uint64(977)) & np.uint64(0xFFFFFFFF)
    return ((h >> np.uint64(13)) & np.uint64(255)).astype(np.uint8)


# Synthetic-image cases, checked by CRC-32 of the crop: the detector letterbox for every image
# size in tests/data/golden plus odd sizes, the full-range letterbox, and landmark-style crops.
GOLDEN_SIZES = [(112, 112), (448, 448), (250, 250), (325, 402), (140, 141), (427, 524), (680, 366),
                (640, 821), (700, 934), (402, 325), (512, 512), (1280, 886)]
SYNTH_CASES = (
    [(f"letterbox128_{w}x{h}", w, h, "letterbox", (128, 128), "zero") for w, h in GOLDEN_SIZES] +
    [(f"letterbox128_{w}x{h}", w, h, "letterbox", (128, 128), "zero")
     for w, h in [(1, 1), (2, 2), (63, 1), (3, 61), (1000, 17), (333, 334)]] +
    [(f"letterbox192_{w}x{h}", w, h, "letterbox", (192, 192), "zero") for w, h in [(325, 402), (1280, 886)]] +
    [("mesh256_rot_325x402", 325, 402, (160.25, 210.5, 230.0, 250.0, -0.4), (256, 256), "replicate"),
     ("mesh256_edge_700x934", 700, 934, (40.0, 900.0, 300.0, 300.0, 3.0), (256, 256), "replicate"),
     ("attention192_rot_640x821", 640, 821, (320.0, 400.0, 333.3, 333.3, 1.2), (192, 192), "replicate"),
     ("stretch_100x30_zero", 97, 31, (48.5, 15.5, 97.0, 31.0, 0.0), (100, 30), "zero")]
)


def build_synthetic():
    out = []
    for name, W, H, roi, (n_w, n_h), border in SYNTH_CASES:
        img = synthetic_image(W, H)
        if roi == "letterbox":
            roi = letterbox_roi(W, H, n_w, n_h)
        roi = tuple(F32(v) for v in roi)
        crop, (m, t, sx, sy, fxy, ties) = spec_crop(img, roi, n_w, n_h, border)
        recip, _ = spec_crop(img, roi, n_w, n_h, border, reciprocal=True)
        cv = cv2_full_crop(img, roi, n_w, n_h, border)
        out.append({
            "name": name, "width": W, "height": H,
            "roi": {"cx": f32_exact(roi[0]), "cy": f32_exact(roi[1]), "w": f32_exact(roi[2]),
                    "h": f32_exact(roi[3]), "angle_rad": f32_exact(roi[4])},
            "out_width": n_w, "out_height": n_h, "border": border,
            "crc32": zlib.crc32(crop.tobytes()),
            "forward": m, "inverse": t,
            "rounding_ties": ties,
            "differing_bytes": {
                "cv2_boxPoints_getPerspectiveTransform_warpPerspective": int(np.count_nonzero(cv != crop)),
                "lu_reciprocal_variant": int(np.count_nonzero(recip != crop)),
            },
        })
    return out


def build(args):
    import cv2
    out = []
    for name, image, roi, (n_w, n_h), border in CASES:
        img = load_rgb(os.path.join(args.images, image))
        H, W = img.shape[:2]
        if roi == "letterbox":
            roi = letterbox_roi(W, H, n_w, n_h)
        roi = tuple(F32(v) for v in roi)
        crop, (m, t, sx, sy, fxy, ties) = spec_crop(img, roi, n_w, n_h, border)
        remap = cv2_remap_crop(img, sx, sy, fxy, border)
        warp = cv2_full_crop(img, roi, n_w, n_h, border)
        recip, _ = spec_crop(img, roi, n_w, n_h, border, reciprocal=True)
        entry = {
            "name": name, "image": image, "width": W, "height": H,
            "roi": {"cx": f32_exact(roi[0]), "cy": f32_exact(roi[1]), "w": f32_exact(roi[2]),
                    "h": f32_exact(roi[3]), "angle_rad": f32_exact(roi[4])},
            "out_width": n_w, "out_height": n_h, "border": border,
            "png": f"{name}.png",
            "source_crc32": zlib.crc32(img.tobytes()),
            "sha256_rgb": hashlib.sha256(crop.tobytes()).hexdigest(),
            "forward": m, "inverse": t,
            "rounding_ties": ties,
            "differing_bytes": {
                "cv2_remap_same_maps": int(np.count_nonzero(remap != crop)),
                "cv2_boxPoints_getPerspectiveTransform_warpPerspective": int(np.count_nonzero(warp != crop)),
                "lu_reciprocal_variant": int(np.count_nonzero(recip != crop)),
            },
        }
        if entry["differing_bytes"]["cv2_remap_same_maps"]:
            sys.exit(f"error: {name}: numpy remapBilinear disagrees with cv2.remap on the same maps")
        out.append((entry, crop))
    return out


def detector_interpreter(args, reference_kernels=False):
    import zipfile
    from ai_edge_litert import interpreter as litert
    with zipfile.ZipFile(os.path.join(args.models, "face_landmarker.task")) as z:
        model = z.read("face_detector.tflite")
    kind = litert.OpResolverType.BUILTIN_REF if reference_kernels else litert.OpResolverType.AUTO
    it = litert.Interpreter(model_content=model, num_threads=1, experimental_op_resolver_type=kind)
    it.allocate_tensors()
    return it, hashlib.sha256(model).hexdigest()


def run_detector(it, crop):
    inp = it.get_input_details()[0]["index"]
    outs = {d["name"]: d["index"] for d in it.get_output_details()}
    x = crop.astype(np.float32) * F32(2.0 / 255.0) + F32(-1.0)  # two float32 roundings
    it.set_tensor(inp, x.reshape(1, 128, 128, 3))
    it.invoke()
    return (np.array(it.get_tensor(outs["regressors"]), np.float32).reshape(-1, 16),
            np.array(it.get_tensor(outs["classificators"]), np.float32).reshape(-1))


# Detector outputs for the post-processing test (tests/test_detection_post.cpp): every PNG image
# letterboxed by the rules above, face_detector.tflite run with TFLite's reference kernels; only
# anchors with raw score >= ROW_MIN_LOGIT are stored (the rest read as -100 in the test, far
# below any threshold).
ROW_MIN_LOGIT = -1.0
ROW_IMAGES = ["Tom_Hanks_54745.png", "emotion_happy.png", "skimage_astronaut.png", "crop_no_face.png"]


def build_detector_rows(args):
    it, sha = detector_interpreter(args, reference_kernels=True)
    images = []
    for name in ROW_IMAGES:
        img = load_rgb(os.path.join(args.images, name))
        H, W = img.shape[:2]
        crop, _ = spec_crop(img, letterbox_roi(W, H, 128, 128), 128, 128, "zero")
        boxes, scores = run_detector(it, crop)
        rows = [{"anchor": int(i), "logit": f32_exact(scores[i]), "regressors": [f32_exact(v) for v in boxes[i]]}
                for i in np.nonzero(scores >= ROW_MIN_LOGIT)[0]]
        images.append({"image": name, "width": W, "height": H, "rows": rows})
    return {"description": "face_detector.tflite outputs (TFLite BUILTIN_REF kernels) on the MediaPipe-exact 128x128 "
                           "letterboxes of these images; anchors with logit >= %g only (others: -100)" % ROW_MIN_LOGIT,
            "model_sha256": sha, "num_anchors": 896, "images": images}


def verify_detector(args):
    """Best detector score on letterboxed crops made by these rules vs MediaPipe's golden scores."""
    it, _ = detector_interpreter(args)
    worst = 0.0
    for f in sorted(os.listdir(os.path.join(args.golden))):
        if not f.endswith(".json"):
            continue
        g = json.load(open(os.path.join(args.golden, f)))
        if not g["image"].endswith(".png"):
            continue  # JPEG decoding differs between cv2 and stb_image
        img = load_rgb(os.path.join(args.images, g["image"]))
        H, W = img.shape[:2]
        crop, _ = spec_crop(img, letterbox_roi(W, H, 128, 128), 128, 128, "zero")
        _, raw = run_detector(it, crop)
        raw = np.clip(raw, -100, 100)
        best = float(np.max(F32(1) / (F32(1) + np.exp(-raw))))
        dets = g["detector"]["detections"]
        gold = max((d["score"] for d in dets), default=None)
        if gold is not None:
            worst = max(worst, abs(best - gold))
        print(f"{g['image']:28s} best score {best:.9f}  MediaPipe {gold}")
    print(f"worst |score - MediaPipe| over PNG images with faces: {worst:.3g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_args(ap)
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "crops"))
    ap.add_argument("--check", action="store_true", help="recompute and compare with the stored files")
    ap.add_argument("--verify-detector", action="store_true")
    args = ap.parse_args()
    import cv2

    results = build(args)
    for e, _ in results:
        d = e["differing_bytes"]
        print(f"{e['name']:26s} {e['out_width']}x{e['out_height']} {e['border']:9s} ties {e['rounding_ties']:4d}  "
              f"differing bytes: cv2.remap {d['cv2_remap_same_maps']}, cv2 "
              f"{d['cv2_boxPoints_getPerspectiveTransform_warpPerspective']}, LU-reciprocal {d['lu_reciprocal_variant']}")
    synth = build_synthetic()
    for e in synth:
        d = e["differing_bytes"]
        print(f"{e['name']:26s} {e['out_width']}x{e['out_height']} {e['border']:9s} ties {e['rounding_ties']:5d}  "
              f"differing bytes: cv2 {d['cv2_boxPoints_getPerspectiveTransform_warpPerspective']}, "
              f"LU-reciprocal {d['lu_reciprocal_variant']}")
    if args.verify_detector:
        verify_detector(args)

    manifest = {
        "description": "Golden 8-bit RGB crops by the MediaPipe CPU crop rules (docs/pipeline.md 0.3 step 4), "
                       "made by tests/gen/make_crop_golden.py with numpy; differing_bytes records the "
                       "cross-checks against OpenCV " + cv2.__version__ + ".",
        "opencv": cv2.__version__, "numpy": np.__version__,
        "cases": [e for e, _ in results],
        "synthetic_pattern": synthetic_image.__doc__.split("\n", 1)[1].strip(),
        "synthetic_cases": synth,
    }
    rows = build_detector_rows(args)
    if args.check:
        if json.load(open(os.path.join(args.out, "detector_rows.json"))) != json.loads(json.dumps(rows)):
            sys.exit("error: stored detector_rows.json differs")
        stored = json.load(open(os.path.join(args.out, "cases.json")))
        bad = [e["name"] for e, s in zip(manifest["cases"], stored["cases"]) if e["sha256_rgb"] != s["sha256_rgb"]]
        bad += [e["name"] for e, s in zip(synth, stored["synthetic_cases"]) if e["crc32"] != s["crc32"]]
        for e, crop in results:
            back = load_rgb(os.path.join(args.out, e["png"]))
            if back.shape != crop.shape or np.any(back != crop):
                bad.append(e["png"])
        if bad or len(stored["cases"]) != len(results):
            sys.exit(f"error: stored golden crops differ: {bad}")
        print("stored golden crops are up to date")
        return
    os.makedirs(args.out, exist_ok=True)
    for e, crop in results:
        cv2.imwrite(os.path.join(args.out, e["png"]), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_PNG_COMPRESSION, 9])
    with open(os.path.join(args.out, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    with open(os.path.join(args.out, "detector_rows.json"), "w") as f:
        json.dump(rows, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(results)} crops to {args.out}")


if __name__ == "__main__":
    main()
