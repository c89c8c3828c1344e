# Cross-compiles for 32-bit ARMv7-A with NEON and hard float (xsimd's `neon`) with Debian's
# g++-arm-linux-gnueabihf; ctest runs the tests under qemu-arm (Debian: qemu-user). See the README,
# "Cross-compiling for ARM".
#   cmake -S . -B build-armv7 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm-linux-gnueabihf.cmake -DFACEKIT_NATIVE=OFF
set(FACEKIT_CROSS_TRIPLET arm-linux-gnueabihf)
set(FACEKIT_CROSS_PROCESSOR armv7-a)
set(FACEKIT_CROSS_QEMU qemu-arm)
# Debian's armhf default is VFPv3-D16 without NEON; -mfpu=neon defines __ARM_NEON, which xsimd needs.
# Plain `neon` (not neon-vfpv4) keeps Cortex-A8/A9 supported: no fused multiply-add.
# -Wno-psabi: GCC notes on every std::map of a struct that its parameter passing changed in GCC 7.1.
set(CMAKE_CXX_FLAGS_INIT "-march=armv7-a -mfpu=neon -mfloat-abi=hard -Wno-psabi")
set(CMAKE_C_FLAGS_INIT "-march=armv7-a -mfpu=neon -mfloat-abi=hard")
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
