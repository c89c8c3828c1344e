# Cross-compiles for 64-bit ARM (AArch64, NEON: xsimd's `neon64`) with Debian's g++-aarch64-linux-gnu;
# ctest runs the tests under qemu-aarch64 (Debian: qemu-user). See the README, "Cross-compiling for ARM".
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake -DFACEKIT_NATIVE=OFF
set(FACEKIT_CROSS_TRIPLET aarch64-linux-gnu)
set(FACEKIT_CROSS_PROCESSOR aarch64)
set(FACEKIT_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
