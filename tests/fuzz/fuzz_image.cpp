// libFuzzer target: the image decoder behind load_image, with a max_pixels limit small enough
// that no input can make it allocate much (the header is refused first).
#include <cstddef>
#include <cstdint>

#include "facekit/image/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  facekit::ImageLoadOptions options;
  options.max_pixels = std::size_t(1) << 22;
  auto info = facekit::read_image_info_from_memory(data, size, options);
  auto img = facekit::load_image_from_memory(data, size, options);
  if (img) {
    // A decoded image is what its header said, whole.
    if (!info || img->width != info->width || img->height != info->height ||
        img->pixels.size() != std::size_t(img->width) * std::size_t(img->height) * 3 || !img->view().validate())
      __builtin_trap();
  }
  return 0;
}
