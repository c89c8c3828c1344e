// stb_image compiled into the image fuzz target with its coverage and sanitizers, so that the
// fuzzer sees and checks inside the decoder (the library links Debian's prebuilt libstb, which
// is neither). The symbols of this object take precedence over the shared library's.
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
