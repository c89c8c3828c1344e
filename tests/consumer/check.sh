#!/usr/bin/env bash
# Consumer check: two tiny CMake projects outside facekit's tree build the README's example
# (examples/detect_faces.cpp), one through find_package(facekit) after `cmake --install`, one
# through add_subdirectory. Each runs the face detector on a test image, and its faces must be
# MediaPipe's (tests/data/golden: same count, boxes within 1 pixel, scores within 0.01).
#
#   tests/consumer/check.sh            # after tools/setup.sh (needs build/ and weights/)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${FACEKIT_BUILD_DIR:-$REPO/build}"
MODEL="$REPO/weights/face_detector.fkm"
IMAGE=emotion_happy.png
[ -f "$MODEL" ] || { echo "consumer: $MODEL is missing: run tools/fetch-models.sh" >&2; exit 1; }
[ -f "$BUILD/CMakeCache.txt" ] || { echo "consumer: no configured build in $BUILD: run tools/setup.sh" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/facekit-consumer.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cp -r "$REPO/tests/consumer/." "$WORK/src"   # outside the tree
cp "$REPO/examples/detect_faces.cpp" "$WORK/src/"

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

quiet() {  # quiet LOG CMD...: runs CMD, shows its output only when it fails
  local log="$WORK/$1.log"
  shift
  "$@" >"$log" 2>&1 || { echo "consumer: failed: $*" >&2; cat "$log" >&2; return 1; }
}

expect() {  # the golden's detections, in the consumer's output format
  python3 - "$REPO/tests/data/golden/${IMAGE%.*}.json" <<'PY'
import json, sys
for d in json.load(open(sys.argv[1]))["detector"]["detections"]:
    b = d["boundingBox"]
    print(b["originX"], b["originY"], b["width"], b["height"], d["score"])
PY
}

compare() {  # compare NAME OUTPUT
  python3 - "$1" "$2" "$(expect)" <<'PY'
import re, sys
name, out, want = sys.argv[1], sys.argv[2], sys.argv[3].split("\n")
# detect_faces prints "face WxH at (X, Y), score S" per face.
got = [[int(m[2]), int(m[3]), int(m[0]), int(m[1]), float(m[4])]
       for m in re.findall(r"face (\d+)x(\d+) at \((-?\d+), (-?\d+)\), score ([\d.]+)", out)]
want = [[float(v) for v in l.split()] for l in want if l.strip()]
ok = len(got) == len(want) and all(
    all(abs(g[i] - w[i]) <= 1 for i in range(4)) and abs(g[4] - w[4]) <= 0.01 for g, w in zip(got, want))
print(f"consumer ({name}): {len(got)} face(s), MediaPipe {len(want)}: {'ok' if ok else 'MISMATCH'}")
if not ok:
    print("  facekit:  ", got, "\n  MediaPipe:", want)
    sys.exit(1)
PY
}

echo "consumer: cmake --install $BUILD --prefix $WORK/prefix"
quiet install cmake --install "$BUILD" --prefix "$WORK/prefix"
quiet configure-find cmake -S "$WORK/src/find_package" -B "$WORK/build-find" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$WORK/prefix" "${launcher[@]}"
quiet build-find cmake --build "$WORK/build-find"
compare find_package "$("$WORK/build-find/detect" "$MODEL" "$REPO/tests/data/images/$IMAGE")"

quiet configure-sub cmake -S "$WORK/src/add_subdirectory" -B "$WORK/build-sub" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DFACEKIT_SOURCE_DIR="$REPO" "${launcher[@]}"
quiet build-sub cmake --build "$WORK/build-sub"
compare add_subdirectory "$("$WORK/build-sub/detect" "$MODEL" "$REPO/tests/data/images/$IMAGE")"
