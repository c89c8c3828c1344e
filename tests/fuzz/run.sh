#!/usr/bin/env bash
# tests/fuzz/run.sh [BUILD_DIR [SECONDS]]: runs every fuzz target of BUILD_DIR (configured with
# -DFACEKIT_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++) for SECONDS each (default 30), from the seeds
# in tests/fuzz/corpus/<target> plus, for fkm, tflite and task, the model files in weights/
# (tools/fetch-models.sh brings them). The corpus grows in BUILD_DIR/fuzz-corpus/<target>; a
# crash stops the run, leaves its input in BUILD_DIR/fuzz-artifacts/ and exits non-zero.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
B="$(cd "${1:-$SRC/build-fuzz}" && pwd)"
T="${2:-30}"
W="$SRC/weights"
need() {
  local f
  for f in "$@"; do
    [ -f "$f" ] || { echo "fuzz: $f is missing: run tools/fetch-models.sh (or tools/setup.sh)" >&2; exit 1; }
  done
}
mkdir -p "$B/fuzz-artifacts"
for t in image post fkm tflite task; do
  exe="$B/tests/fuzz/fuzz_$t"
  [ -x "$exe" ] || { echo "fuzz: $exe is missing: cmake --build $B" >&2; exit 1; }
  work="$B/fuzz-corpus/$t"
  seeds="$B/fuzz-seeds/$t"
  mkdir -p "$work" "$seeds"
  if [ -d "$SRC/tests/fuzz/corpus/$t" ]; then cp "$SRC/tests/fuzz/corpus/$t"/* "$seeds/"; fi
  case "$t" in
    fkm) need "$W/face_detector.fkm" "$W/face_geometry.fkm" "$W/face_landmarks_detector.fkm"
         cp "$W/face_detector.fkm" "$W/face_geometry.fkm" "$W/face_landmarks_detector.fkm" "$seeds/" ;;
    tflite) need "$W/originals/face_detection_short_range.tflite"
            cp "$W/originals/face_detection_short_range.tflite" "$seeds/" ;;
    task) need "$W/originals/face_landmarker.task"
          cp "$W/originals/face_landmarker.task" "$seeds/" ;;
  esac
  echo "== fuzz_$t: $T s"
  log="$B/fuzz-artifacts/$t.log"
  rc=0
  # -max_len: the model seeds are large; mutations stay within that size.
  "$exe" -max_total_time="$T" -timeout=10 -rss_limit_mb=4096 -max_len=8000000 -print_final_stats=1 \
    -artifact_prefix="$B/fuzz-artifacts/$t-" "$work" "$seeds" >"$log" 2>&1 || rc=$?
  grep -E "^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" "$log" || true
  if [ "$rc" != 0 ]; then
    grep -E -A30 "ERROR|runtime error" "$log" | head -60 >&2 || tail -30 "$log" >&2
    echo "fuzz_$t failed (exit $rc): the input is in $B/fuzz-artifacts/$t-*, the log in $log" >&2
    exit 1
  fi
done
