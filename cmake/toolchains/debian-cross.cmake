# Shared part of the Debian cross toolchain files (aarch64-linux-gnu.cmake, arm-linux-gnueabihf.cmake).
# The including file sets FACEKIT_CROSS_TRIPLET, FACEKIT_CROSS_PROCESSOR and FACEKIT_CROSS_QEMU.
#
# Compilers: Debian's g++-<triplet>. Target libraries: Debian multiarch (libstb-dev:<arch>,
# libxsimd-dev:<arch>, ...), found in /usr/lib/<triplet>; header-only packages of any architecture
# (Eigen, doctest, nlohmann-json) are found where they are. Programs (flatc, protoc) are the
# build machine's. Executables run under qemu-user (ctest, and CMake's own checks).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${FACEKIT_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${FACEKIT_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${FACEKIT_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${FACEKIT_CROSS_TRIPLET})

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# pkg-config must see the target's .pc files, not the build machine's.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${FACEKIT_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")

# -L: qemu looks up the program's loader and libraries under the cross toolchain's root first.
find_program(FACEKIT_QEMU ${FACEKIT_CROSS_QEMU})
if(FACEKIT_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${FACEKIT_QEMU} -L /usr/${FACEKIT_CROSS_TRIPLET})
endif()
