#!/usr/bin/env python3
"""The raw RGB test frame of the firmware-style example (examples/embedded_detector.cpp).

A camera hands firmware raw pixels, not a PNG: this writes tests/data/images/Tom_Hanks_54745.png
(112 x 112, the smallest test photo with a face, one MediaPipe golden) as packed RGB8 rows,
tests/data/embedded/Tom_Hanks_54745_112x112.rgb (37,632 bytes). The PNG is lossless and 8-bit
RGB, so its pixels are the ones stb_image gives the goldens (tests/test_embedded_detector.cpp
checks that byte for byte). Standard library only: zlib and PNG's five row filters.

  python3 tests/gen/make_raw_frame.py            # (re)write the frame
  python3 tests/gen/make_raw_frame.py --check    # compare with the committed frame, write nothing
"""
import argparse
import os
import struct
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "tests/data/images/Tom_Hanks_54745.png")
DST = os.path.join(ROOT, "tests/data/embedded/Tom_Hanks_54745_112x112.rgb")


def decode_png_rgb8(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, color, _, _, interlace = ihdr
    if (depth, color, interlace) != (8, 2, 0):
        sys.exit("expected an 8-bit RGB non-interlaced PNG, got depth %d colour type %d interlace %d"
                 % (depth, color, interlace))
    raw, bpp, stride = zlib.decompress(idat), 3, w * 3
    out, prev = bytearray(), bytearray(stride)
    for y in range(h):
        f, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = row[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                row[x] = (row[x] + a) & 255
            elif f == 2:
                row[x] = (row[x] + b) & 255
            elif f == 3:
                row[x] = (row[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            elif f != 0:
                sys.exit("bad PNG filter %d in row %d" % (f, y))
        out += row
        prev = row
    return w, h, bytes(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed frame")
    args = ap.parse_args()
    w, h, pixels = decode_png_rgb8(open(SRC, "rb").read())
    assert (w, h) == (112, 112), (w, h)
    if args.check:
        same = open(DST, "rb").read() == pixels
        print("%s: %s" % (DST, "matches" if same else "DIFFERS"))
        sys.exit(0 if same else 1)
    os.makedirs(os.path.dirname(DST), exist_ok=True)
    with open(DST, "wb") as f:
        f.write(pixels)
    print("wrote %s (%dx%d RGB8, %d bytes)" % (DST, w, h, len(pixels)))


if __name__ == "__main__":
    main()
