// Image input and MediaPipe's CPU crop (docs/pipeline.md 0.1-0.3).
//
// The crop must reproduce MediaPipe's bytes exactly. Golden data: tests/data/crops, written by
// tests/gen/make_crop_golden.py (a numpy implementation of MediaPipe's crop rules, cross-checked there
// against OpenCV). Real-image cases are stored as PNG crops and compared byte by byte; the
// synthetic-pattern cases (detector letterbox for every image size in tests/data/golden, where
// exact 1/64-pixel rounding ties occur, plus 192/256 landmark-style crops) by CRC-32.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "crop_cases.hpp"
#include "facekit/image/geometry.hpp"
#include "facekit/image/image.hpp"
#include "facekit/image/image_to_tensor.hpp"
#include "facekit/model/format.hpp"
#include "test_archs.hpp"
#include "test_util.hpp"

using namespace facekit;
using nlohmann::json;

namespace {

using crop_data::border_of;
using crop_data::convert;
using crop_data::crop_cases;
using crop_data::roi_of;
using crop_data::synthetic;

std::size_t differing(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  std::size_t n = a.size() == b.size() ? 0 : std::max(a.size(), b.size());
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) n += a[i] != b[i];
  return n;
}

std::string error_of(const Expected<Image>& e) { return e ? std::string() : std::string(e.status().message()); }

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

std::string temp_file(const std::string& name, const std::vector<uint8_t>& bytes) {
  const auto path = std::filesystem::temp_directory_path() / ("facekit_test_image_" + name);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  return path.string();
}

void put_be32(std::vector<uint8_t>& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
}
void put_le(std::vector<uint8_t>& b, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b.push_back(uint8_t(v >> (8 * i)));
}

// A PNG whose IHDR declares w x h (no pixel data: only the header is valid).
std::vector<uint8_t> png_header(uint32_t w, uint32_t h) {
  std::vector<uint8_t> b = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  std::vector<uint8_t> chunk = {'I', 'H', 'D', 'R'};
  put_be32(chunk, w);
  put_be32(chunk, h);
  chunk.insert(chunk.end(), {8, 2, 0, 0, 0});  // 8-bit RGB, deflate, no filter, no interlace
  put_be32(b, 13);
  b.insert(b.end(), chunk.begin(), chunk.end());
  put_be32(b, format::crc32(chunk.data(), chunk.size()));
  put_be32(b, 0);
  const uint8_t iend[4] = {'I', 'E', 'N', 'D'};
  b.insert(b.end(), iend, iend + 4);
  put_be32(b, format::crc32(iend, 4));
  return b;
}

// A 24-bit BMP header declaring w x h, followed by a few bytes of pixels.
std::vector<uint8_t> bmp_header(uint32_t w, uint32_t h) {
  std::vector<uint8_t> b = {'B', 'M'};
  put_le(b, 54 + 64, 4);
  put_le(b, 0, 4);
  put_le(b, 54, 4);
  put_le(b, 40, 4);  // BITMAPINFOHEADER
  put_le(b, w, 4);
  put_le(b, h, 4);
  put_le(b, 1, 2);   // planes
  put_le(b, 24, 2);  // bits per pixel
  put_le(b, 0, 4);   // BI_RGB
  put_le(b, 0, 4);
  put_le(b, 2835, 4);
  put_le(b, 2835, 4);
  put_le(b, 0, 4);
  put_le(b, 0, 4);
  b.resize(b.size() + 64, 0x55);
  return b;
}

// A baseline JPEG up to its frame header declaring w x h (3 components), then EOI.
std::vector<uint8_t> jpeg_header(uint32_t w, uint32_t h) {
  std::vector<uint8_t> b = {0xFF, 0xD8};
  // An APP0 segment first, so that the frame header is found by walking segments.
  b.insert(b.end(), {0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0});
  b.insert(b.end(), {0xFF, 0xC0, 0x00, 0x11, 8});
  put_be32(b, (h << 16) | w);
  b.insert(b.end(), {3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9});
  return b;
}

// A GIF89a whose logical screen is w x h, with no image in it.
std::vector<uint8_t> gif_header(uint32_t w, uint32_t h) {
  std::vector<uint8_t> b = {'G', 'I', 'F', '8', '9', 'a'};
  put_le(b, w, 2);
  put_le(b, h, 2);
  b.insert(b.end(), {0, 0, 0, ';'});
  return b;
}

// An uncompressed 24-bit TGA of w x h: a file stb_image decodes but facekit refuses.
std::vector<uint8_t> tga_image(uint32_t w, uint32_t h) {
  std::vector<uint8_t> b = {0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  put_le(b, w, 2);
  put_le(b, h, 2);
  b.insert(b.end(), {24, 0});
  b.resize(b.size() + std::size_t(w) * h * 3, 0x80);
  return b;
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> test_images() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(test_util::data_path("images")))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  REQUIRE_MESSAGE(out.size() >= 10, "tests/data/images holds " << out.size() << " images");
  return out;
}

// A decode of damaged bytes must give an error naming what was read, or a whole image of the
// header's size.
void check_error_or_image(const Expected<Image>& r, const char* name, int w, int h) {
  if (!r) {
    CHECK_MESSAGE(contains(error_of(r), name), error_of(r));
    return;
  }
  CHECK(r->width == w);
  CHECK(r->height == h);
  CHECK(r->pixels.size() == std::size_t(w) * std::size_t(h) * 3);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ImageView / Image / decoding

TEST_CASE("image: ImageView::validate names the bad field and value") {
  std::vector<uint8_t> px(16 * 16 * 4, 0);
  auto msg = [](const ImageView& v) { return std::string(v.validate().message()); };
  CHECK(ImageView{px.data(), 16, 16, 48, PixelFormat::rgb8}.validate());
  CHECK(ImageView{px.data(), 16, 16, 64, PixelFormat::rgba8}.validate());
  CHECK(ImageView{px.data(), 16, 16, 50, PixelFormat::bgr8}.validate());  // padded rows are fine
  CHECK(contains(msg({nullptr, 16, 16, 48, PixelFormat::rgb8}), "null"));
  CHECK(contains(msg({px.data(), 0, 16, 48, PixelFormat::rgb8}), "width 0"));
  CHECK(contains(msg({px.data(), 16, -3, 48, PixelFormat::rgb8}), "height -3"));
  CHECK(contains(msg({px.data(), FACEKIT_MAX_IMAGE_DIM + 1, 1, (FACEKIT_MAX_IMAGE_DIM + 1) * 3, PixelFormat::rgb8}),
                 "FACEKIT_MAX_IMAGE_DIM"));
  CHECK(contains(msg({px.data(), 1, FACEKIT_MAX_IMAGE_DIM + 1, 3, PixelFormat::rgb8}), "height"));
  const std::string s = msg({px.data(), 16, 16, 63, PixelFormat::rgba8});
  CHECK(contains(s, "stride 63"));
  CHECK(contains(s, "rgba8"));
  CHECK(contains(msg({px.data(), 16, 16, -48, PixelFormat::rgb8}), "stride -48"));
  CHECK(contains(msg({px.data(), 16, 16, 48, PixelFormat(7)}), "pixel format 7"));
}

TEST_CASE("image: load_image decodes like stbi_load(..., 3)") {
  // make_crop_golden.py recorded the CRC-32 of each source image as it decoded it.
  const json cases = crop_cases();
  for (const json& c : cases.at("cases")) {
    const std::string name = c.at("image");
    CAPTURE(name);
    auto img = load_image(test_util::image_path(name));
    REQUIRE_MESSAGE(img, img.status().message());
    CHECK(img->width == c.at("width").get<int>());
    CHECK(img->height == c.at("height").get<int>());
    CHECK(img->pixels.size() == std::size_t(img->width) * std::size_t(img->height) * 3);
    CHECK(format::crc32(img->pixels.data(), img->pixels.size()) == c.at("source_crc32").get<uint32_t>());
  }
  // RGBA PNG: alpha dropped, as stb_image does with 3 requested channels.
  auto rgba = load_image(test_util::image_path("crop_no_face.png"));
  REQUIRE(rgba);
  CHECK(rgba->view().validate());
  CHECK(rgba->view().stride == 140 * 3);
}

TEST_CASE("image: load_image errors name the file and the problem") {
  auto missing = load_image("/nonexistent/dir/photo.jpg");
  REQUIRE_FALSE(missing);
  CHECK(contains(error_of(missing), "/nonexistent/dir/photo.jpg"));
  CHECK(contains(error_of(missing), "cannot open"));

  const std::string garbage = temp_file("garbage.jpg", std::vector<uint8_t>(300, 'x'));
  auto g = load_image(garbage);
  REQUIRE_FALSE(g);
  CHECK(contains(error_of(g), "not a supported image"));
  CHECK(contains(error_of(g), garbage.c_str()));

  const std::string empty = temp_file("empty.png", {});
  CHECK_FALSE(load_image(empty));

  // Declared sizes beyond FACEKIT_MAX_IMAGE_DIM are refused before any pixel is decoded.
  const std::string big_png = temp_file("huge.png", png_header(20000, 10));
  auto p = load_image(big_png);
  REQUIRE_FALSE(p);
  CHECK(contains(error_of(p), "20000x10"));
  CHECK(contains(error_of(p), "FACEKIT_MAX_IMAGE_DIM"));
  const std::string big_bmp = temp_file("huge.bmp", bmp_header(8, 30000));
  auto b = load_image(big_bmp);
  REQUIRE_FALSE(b);
  CHECK(contains(error_of(b), "8x30000"));

  // A truncated PNG (valid header, no data) passes the size check but fails to decode.
  const std::string trunc = temp_file("truncated.png", png_header(64, 64));
  auto t = load_image(trunc);
  REQUIRE_FALSE(t);
  CHECK(contains(error_of(t), "cannot decode"));
  CHECK(contains(error_of(t), "truncated or corrupt"));
  CHECK(contains(error_of(t), trunc.c_str()));

  for (const std::string& f : {garbage, empty, big_png, big_bmp, trunc}) std::remove(f.c_str());
}

TEST_CASE("image: load_image_from_memory") {
  std::ifstream in(test_util::image_path("Tom_Hanks_54745.png"), std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() > 100);
  auto img = load_image_from_memory(bytes.data(), bytes.size());
  REQUIRE_MESSAGE(img, img.status().message());
  auto file = load_image(test_util::image_path("Tom_Hanks_54745.png"));
  REQUIRE(file);
  CHECK(img->pixels == file->pixels);

  CHECK(contains(error_of(load_image_from_memory(nullptr, 10)), "null"));
  CHECK(contains(error_of(load_image_from_memory(bytes.data(), 0)), "0 bytes"));
  const std::vector<uint8_t> junk(64, 0x42);
  CHECK(contains(error_of(load_image_from_memory(junk.data(), junk.size())), "not a supported image"));
  const auto huge = png_header(10, 17000);
  CHECK(contains(error_of(load_image_from_memory(huge.data(), huge.size())), "10x17000"));
  const auto bmp = bmp_header(16385, 2);
  CHECK(contains(error_of(load_image_from_memory(bmp.data(), bmp.size())), "16385x2"));
}

TEST_CASE("image: a header claiming 60000x60000 pixels is refused at once, naming the limit") {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<std::pair<const char*, std::vector<uint8_t>>> headers = {
      {"PNG", png_header(60000, 60000)},
      {"BMP", bmp_header(60000, 60000)},
      {"JPEG", jpeg_header(60000, 60000)},
      {"GIF", gif_header(60000, 60000)}};
  for (const auto& [format, bytes] : headers) {
    CAPTURE(std::string(format));
    const std::string m = error_of(load_image_from_memory(bytes.data(), bytes.size()));
    CHECK_MESSAGE(contains(m, "60000x60000 = 3600000000 pixels, more than the limit of 67108864 (max_pixels)"), m);
    CHECK_MESSAGE(contains(m, format), m);
    const std::string path = temp_file(std::string("huge.") + format, bytes);
    const std::string f = error_of(load_image(path));
    CHECK_MESSAGE(contains(f, "max_pixels"), f);
    CHECK_MESSAGE(contains(f, path.c_str()), f);
    std::remove(path.c_str());
  }
  // A BMP stored top-down (negative height) counts its rows all the same.
  const auto top_down = bmp_header(60000, uint32_t(-60000));
  CHECK(contains(error_of(load_image_from_memory(top_down.data(), top_down.size())), "max_pixels"));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK_MESSAGE(s < 1.0, "refusing the headers took " << s << " s");
}

TEST_CASE("image: ImageLoadOptions::max_pixels is checked before decoding") {
  CHECK(kDefaultMaxImagePixels == ImageLoadOptions{}.max_pixels);
  const auto png = png_header(100, 100);
  ImageLoadOptions small;
  small.max_pixels = 9999;
  auto info = read_image_info_from_memory(png.data(), png.size(), small);
  REQUIRE_FALSE(info);
  CHECK_MESSAGE(contains(info.status().message(), "100x100 = 10000 pixels, more than the limit of 9999 (max_pixels)"),
                info.status().message());
  CHECK(contains(error_of(load_image_from_memory(png.data(), png.size(), small)), "max_pixels"));
  small.max_pixels = 10000;  // exactly at the limit: the header passes, the missing data fails
  auto at_limit = read_image_info_from_memory(png.data(), png.size(), small);
  REQUIRE_MESSAGE(at_limit, at_limit.status().message());
  CHECK(at_limit->format == ImageFormat::png);
  CHECK(at_limit->width == 100);
  CHECK(at_limit->height == 100);
  CHECK(contains(error_of(load_image_from_memory(png.data(), png.size(), small)), "cannot decode"));
  small.max_pixels = 0;
  CHECK(contains(error_of(load_image_from_memory(png.data(), png.size(), small)), "max_pixels 0 must be at least 1"));

  // A real image under a limit smaller than it: refused, from the file too.
  const std::string astro = test_util::image_path("skimage_astronaut.png");
  ImageLoadOptions tight;
  tight.max_pixels = 512 * 512 - 1;
  const std::string m = error_of(load_image(astro, tight));
  CHECK_MESSAGE(contains(m, "512x512 = 262144 pixels, more than the limit of 262143"), m);
  CHECK(contains(m, astro.c_str()));
  tight.max_pixels = 512 * 512;
  CHECK(load_image(astro, tight));
  // Each format's header is read for its size: the sizes the test headers declare.
  for (const auto& bytes : {jpeg_header(640, 480), gif_header(640, 480), bmp_header(640, 480)}) {
    auto i = read_image_info_from_memory(bytes.data(), bytes.size());
    REQUIRE_MESSAGE(i, i.status().message());
    CHECK(i->width == 640);
    CHECK(i->height == 480);
  }
}

TEST_CASE("image: formats facekit does not read are refused from their first bytes") {
  // stb_image decodes this TGA; facekit does not read TGA (it has no signature to tell it from junk).
  const auto tga = tga_image(2, 2);
  int w = 0, h = 0, n = 0;
  stbi_uc* px = stbi_load_from_memory(tga.data(), int(tga.size()), &w, &h, &n, 3);
  CHECK(px != nullptr);
  stbi_image_free(px);
  const std::string m = error_of(load_image_from_memory(tga.data(), tga.size()));
  CHECK_MESSAGE(contains(m, "not a supported image: facekit reads JPEG, PNG, BMP and GIF"), m);
  std::string hdr = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 2\n";
  hdr.append(16, '\x80');
  CHECK(contains(error_of(load_image_from_memory(hdr.data(), hdr.size())), "not a supported image"));
  // stb_image 2.27 overflows on binary PPM/PGM headers and 16-bit data (found by fuzz_image).
  std::string ppm = "P6\n2 2\n65535\n";
  ppm.append(24, '\x7f');
  CHECK(contains(error_of(load_image_from_memory(ppm.data(), ppm.size())), "not a supported image"));
  std::string psd = "8BPS";
  psd.append(60, '\0');
  CHECK(contains(error_of(load_image_from_memory(psd.data(), psd.size())), "not a supported image"));
  const uint8_t three[3] = {0xFF, 0xD8, 0xFF};
  CHECK(contains(error_of(load_image_from_memory(three, 3)), "fewer bytes than any image header"));
  const std::string empty = temp_file("empty_file.jpg", {});
  const std::string e = error_of(load_image(empty));
  CHECK_MESSAGE(contains(e, "no bytes"), e);
  CHECK(contains(e, empty.c_str()));
  std::remove(empty.c_str());
  // The right signature over a broken header: named as that format's header.
  std::vector<uint8_t> png = png_header(16, 16);
  png[12] = 'X';  // the IHDR chunk's type
  const std::string c = error_of(load_image_from_memory(png.data(), png.size()));
  CHECK_MESSAGE(contains(c, "PNG header is truncated or corrupt"), c);
}

TEST_CASE("image: a JPEG Huffman table with more than 256 codes is refused before stb_image reads it") {
  // stb_image 2.27 writes past its tables for these (found by fuzz_image): before the frame
  // header (read by stbi_info), after stray bytes stb_image skips, and between scans.
  std::vector<uint8_t> dht = {0xFF, 0xC4};
  put_be32(dht, 0);  // placeholder for the length
  dht.resize(2);
  const std::size_t n = 16 * 255;
  dht.push_back(uint8_t((2 + 17 + n) >> 8));
  dht.push_back(uint8_t((2 + 17 + n) & 0xFF));
  dht.push_back(0x10);  // AC table 0
  for (int i = 0; i < 16; ++i) dht.push_back(255);
  dht.resize(dht.size() + n, 0);
  const std::vector<uint8_t> frame = jpeg_header(16, 16);  // SOI, APP0, SOF0, EOI
  const std::vector<uint8_t> sos = {0xFF, 0xDA, 0x00, 0x0C, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0, 0x12, 0x34, 0x56};
  std::vector<uint8_t> before(frame.begin(), frame.begin() + 2), skipped, between;
  before.insert(before.end(), dht.begin(), dht.end());
  before.insert(before.end(), frame.begin() + 2, frame.end());
  skipped.assign(frame.begin(), frame.begin() + 20);  // SOI and APP0
  skipped.insert(skipped.end(), {0x12, 0x34});
  skipped.insert(skipped.end(), dht.begin(), dht.end());
  skipped.insert(skipped.end(), frame.begin() + 20, frame.end());
  between.assign(frame.begin(), frame.end() - 2);
  between.insert(between.end(), sos.begin(), sos.end());
  between.insert(between.end(), dht.begin(), dht.end());
  between.insert(between.end(), {0xFF, 0xD9});
  for (const auto* b : {&before, &skipped, &between}) {
    const std::string m = error_of(load_image_from_memory(b->data(), b->size()));
    CHECK_MESSAGE(contains(m, "corrupt JPEG: a Huffman table declares 4080 codes, at most 256 exist"), m);
  }
}

TEST_CASE("image: every test image cut short or damaged gives an error or a whole image, never a crash") {
  std::mt19937 rng(18);
  int errors = 0, images = 0;
  for (const std::string& name : test_images()) {
    CAPTURE(name);
    const std::vector<uint8_t> bytes = file_bytes(test_util::image_path(name));
    auto whole = load_image_from_memory(bytes.data(), bytes.size());
    REQUIRE_MESSAGE(whole, whole.status().message());
    const int W = whole->width, H = whole->height;
    // Every cut in the headers, then cuts spread over the whole file.
    std::vector<std::size_t> cuts;
    for (std::size_t c = 0; c < 64; ++c) cuts.push_back(c);
    for (std::size_t k = 1; k < 16; ++k) cuts.push_back(bytes.size() * k / 16);
    cuts.push_back(bytes.size() - 1);
    for (std::size_t cut : cuts) {
      CAPTURE(cut);
      auto r = load_image_from_memory(bytes.data(), cut);
      check_error_or_image(r, "image in memory", W, H);
      (r ? images : errors)++;
    }
    // Overwritten bytes, half of them in the first KiB where the headers are.
    for (int i = 0; i < 12; ++i) {
      std::vector<uint8_t> b = bytes;
      const int hits = 1 + int(rng() % 4);
      for (int k = 0; k < hits; ++k) {
        const std::size_t pos = i % 2 ? rng() % std::min<std::size_t>(1024, b.size()) : rng() % b.size();
        b[pos] = uint8_t(rng());
      }
      CAPTURE(i);
      auto r = load_image_from_memory(b.data(), b.size());
      if (!r) {
        CHECK_MESSAGE(contains(error_of(r), "image in memory"), error_of(r));
      } else {
        CHECK(r->pixels.size() == std::size_t(r->width) * std::size_t(r->height) * 3);
      }
      (r ? images : errors)++;
    }
    // Through a file: the error names it.
    const std::string cut_file = temp_file("cut_" + name, std::vector<uint8_t>(bytes.begin(), bytes.begin() + 40));
    auto r = load_image(cut_file);
    check_error_or_image(r, cut_file.c_str(), W, H);
    std::remove(cut_file.c_str());
  }
  MESSAGE(errors << " damaged images refused, " << images << " decoded");
  CHECK(errors > 0);
}

TEST_CASE("image: to_rgb_image converts bgr8 and rgba8") {
  const Image img = synthetic(5, 3);
  for (PixelFormat f : {PixelFormat::bgr8, PixelFormat::rgba8}) {
    const auto px = convert(img, f, 3);
    const ImageView v{px.data(), 5, 3, std::ptrdiff_t(5 * channels_of(f) + 3), f};
    auto back = to_rgb_image(v);
    REQUIRE(back);
    CHECK(back->pixels == img.pixels);
  }
}

// ---------------------------------------------------------------------------------------------
// Geometry

TEST_CASE("geometry: normalize_radians, rects and padding") {
  const float pi = 3.14159265358979323846f;
  CHECK(normalize_radians(0.0f) == 0.0f);
  CHECK(normalize_radians(3 * pi) == doctest::Approx(-pi).epsilon(1e-6));
  CHECK(normalize_radians(-pi / 2) == doctest::Approx(-pi / 2));
  CHECK(normalize_radians(2 * pi + 0.25f) == doctest::Approx(0.25f).epsilon(1e-5));

  const RotatedRect whole = whole_image_rect(325, 402);
  CHECK(whole.cx == 162.5f);
  CHECK(whole.cy == 201.0f);
  const RotatedRect px = to_pixel_rect(NormalizedRect{0.5f, 0.25f, 0.5f, 0.1f, 0.3f}, 200, 100);
  CHECK(px.cx == 100.0f);
  CHECK(px.cy == 25.0f);
  CHECK(px.w == 100.0f);
  CHECK(px.h == 10.0f);
  CHECK(px.angle_rad == 0.3f);

  // Portrait into a square tensor: width grows to the height, horizontal padding.
  auto p = pad_roi(whole, 128, 128);
  REQUIRE(p);
  CHECK(p->roi.w == 402.0f);
  CHECK(p->roi.h == 402.0f);
  CHECK(p->padding[0] == (1.0f - 1.0f / (402.0f / 325.0f)) / 2.0f);
  CHECK(p->padding[1] == 0.0f);
  CHECK(p->padding[2] == p->padding[0]);
  // Landscape: height grows, vertical padding.
  auto q = pad_roi(whole_image_rect(1280, 886), 128, 128);
  REQUIRE(q);
  CHECK(q->roi.w == 1280.0f);
  CHECK(q->roi.h == 1280.0f);
  CHECK(q->padding[1] > 0.0f);
  CHECK(q->padding[0] == 0.0f);
  // No letterbox: unchanged.
  auto r = pad_roi(whole, 128, 128, false);
  REQUIRE(r);
  CHECK(r->roi.w == 325.0f);
  CHECK(r->padding == std::array<float, 4>{0, 0, 0, 0});
  CHECK_FALSE(pad_roi(whole, 0, 128));
  CHECK_FALSE(pad_roi(RotatedRect{0, 0, 0, 10, 0}, 128, 128));
}

TEST_CASE("geometry: crop-to-image matrix (docs/pipeline.md 0.2 and 1.1)") {
  // Unrotated letterbox of W x H into a square: x_img = u*S/W + 0.5 - S/(2W).
  const int W = 1280, H = 886;
  auto p = pad_roi(whole_image_rect(W, H), 128, 128);
  REQUIRE(p);
  const Matrix4 m = crop_to_image_matrix(p->roi, W, H);
  const double S = 1280;
  CHECK(m[0] == doctest::Approx(S / W));
  CHECK(m[3] == doctest::Approx(0.5 - S / (2.0 * W)));
  CHECK(m[5] == doctest::Approx(S / H));
  CHECK(m[7] == doctest::Approx(0.5 - S / (2.0 * H)));
  CHECK(m[1] == 0.0f);
  CHECK(m[10] == doctest::Approx(S / W));
  CHECK(m[15] == 1.0f);
  const auto c = transform_point(m, 0.5f, 0.5f);
  CHECK(c[0] == doctest::Approx(0.5));
  CHECK(c[1] == doctest::Approx(0.5));

  // Rotated: the crop's (u, v) = (1, 0.5) lies at centre + R(theta) * (w/2, 0).
  const RotatedRect roi{100, 80, 40, 20, 0.5f};
  const Matrix4 r = crop_to_image_matrix(roi, 200, 160);
  const auto e = transform_point(r, 1.0f, 0.5f);
  CHECK(e[0] * 200 == doctest::Approx(100 + 20 * std::cos(0.5)).epsilon(1e-5));
  CHECK(e[1] * 160 == doctest::Approx(80 + 20 * std::sin(0.5)).epsilon(1e-5));
  // flip_horizontally mirrors u.
  const Matrix4 f = crop_to_image_matrix(roi, 200, 160, true);
  const auto ef = transform_point(f, 0.0f, 0.5f);
  CHECK(ef[0] == doctest::Approx(e[0]).epsilon(1e-6));
  CHECK(ef[1] == doctest::Approx(e[1]).epsilon(1e-6));
}

TEST_CASE("warp: corners are OpenCV's boxPoints order") {
  const auto p = rect_corners(RotatedRect{50, 40, 20, 10, 0});
  CHECK(p[0] == std::array<float, 2>{40, 45});  // bottom-left
  CHECK(p[1] == std::array<float, 2>{40, 35});  // top-left
  CHECK(p[2] == std::array<float, 2>{60, 35});  // top-right
  CHECK(p[3] == std::array<float, 2>{60, 45});  // bottom-right
  // 90 degrees clockwise: the rect's top-left corner moves to the right of the centre.
  const auto q = rect_corners(RotatedRect{50, 40, 20, 10, 3.14159265358979323846f / 2});
  CHECK(q[1][0] == doctest::Approx(55));
  CHECK(q[1][1] == doctest::Approx(30));
}

// ---------------------------------------------------------------------------------------------
// The crop

TEST_CASE("warp: homographies equal OpenCV's to the last bit") {
  const json cases = crop_cases();
  int n = 0;
  for (const char* list : {"cases", "synthetic_cases"})
    for (const json& c : cases.at(list)) {
      CAPTURE(c.at("name").get<std::string>());
      CropTransform t;
      REQUIRE(crop_transform(roi_of(c), c.at("out_width"), c.at("out_height"), &t));
      for (int i = 0; i < 9; ++i) {
        CHECK(t.forward[std::size_t(i)] == c.at("forward")[std::size_t(i)].get<double>());
        CHECK(t.inverse[std::size_t(i)] == c.at("inverse")[std::size_t(i)].get<double>());
      }
      ++n;
    }
  CHECK(n >= 30);
}

TEST_CASE("warp: real-image crops are byte-identical to the golden crops") {
  const json cases = crop_cases();
  std::size_t total_bad = 0, total = 0;
  for (const json& c : cases.at("cases")) {
    const std::string name = c.at("name");
    CAPTURE(name);
    auto img = load_image(test_util::image_path(c.at("image").get<std::string>()));
    REQUIRE_MESSAGE(img, img.status().message());
    auto gold = load_image(test_util::source_path("tests/data/crops/" + c.at("png").get<std::string>()));
    REQUIRE_MESSAGE(gold, gold.status().message());
    const int w = c.at("out_width"), h = c.at("out_height");
    REQUIRE(gold->width == w);
    REQUIRE(gold->height == h);
    std::vector<uint8_t> out(std::size_t(w) * std::size_t(h) * 3, 0xCD);
    REQUIRE(crop_to_u8(img->view(), roi_of(c), w, h, border_of(c), out.data()));
    const std::size_t bad = differing(out, gold->pixels);
    if (bad) MESSAGE(name << ": " << bad << " of " << out.size() << " bytes differ");
    CHECK(bad == 0);
    total_bad += bad;
    total += out.size();
  }
  MESSAGE("real-image crops: " << total_bad << " of " << total << " bytes differ from the golden crops");
}

TEST_CASE("warp: synthetic crops (every golden image size letterboxed, ties included) match by CRC") {
  const json cases = crop_cases();
  int ties_cases = 0;
  for (const json& c : cases.at("synthetic_cases")) {
    const std::string name = c.at("name");
    CAPTURE(name);
    const Image img = synthetic(c.at("width"), c.at("height"));
    const int w = c.at("out_width"), h = c.at("out_height");
    const RotatedRect roi = roi_of(c);
    std::vector<uint8_t> out(std::size_t(w) * std::size_t(h) * 3);
    REQUIRE(crop_to_u8(img.view(), roi, w, h, border_of(c), out.data()));
    CHECK(format::crc32(out.data(), out.size()) == c.at("crc32").get<uint32_t>());
    if (c.at("rounding_ties").get<int>() > 0) ++ties_cases;

    // Every input format and a padded stride give the same bytes.
    for (PixelFormat f : {PixelFormat::bgr8, PixelFormat::rgba8}) {
      const auto px = convert(img, f, 5);
      const ImageView v{px.data(), img.width, img.height, std::ptrdiff_t(img.width * channels_of(f) + 5), f};
      std::vector<uint8_t> o2(out.size());
      REQUIRE(crop_to_u8(v, roi, w, h, border_of(c), o2.data()));
      CHECK(differing(o2, out) == 0);
    }
  }
  CHECK(ties_cases >= 8);
}

TEST_CASE("warp: every architecture gives the same bytes") {
  // Arch selects the SIMD sampling path (and its batch widths); the bytes must not move.
  const json cases = crop_cases();
  for (const json& c : cases.at("synthetic_cases")) {
    CAPTURE(c.at("name").get<std::string>());
    const Image img = synthetic(c.at("width"), c.at("height"));
    const int w = c.at("out_width"), h = c.at("out_height");
    std::vector<uint8_t> ref(std::size_t(w) * std::size_t(h) * 3), o(ref.size());
    REQUIRE(crop_to_u8<scalar_arch>(img.view(), roi_of(c), w, h, border_of(c), ref.data()));
    CHECK(format::crc32(ref.data(), ref.size()) == c.at("crc32").get<uint32_t>());
    test_archs::for_each_simd_arch([&](auto arch) {
      using A = decltype(arch);
      CAPTURE(A::name());
      REQUIRE(crop_to_u8<A>(img.view(), roi_of(c), w, h, border_of(c), o.data()));
      CHECK(differing(o, ref) == 0);
    });
  }
}

TEST_CASE("warp: SIMD and scalar paths give identical bytes on awkward cases") {
  // The SIMD path splits a block row into chunks, reads each pixel's neighbours as 32-bit words
  // (never past the right neighbour: the buffers below are exactly stride * height bytes, so a
  // sanitizer build catches any over-read) and redoes off-image neighbours with the scalar
  // border rules. Cover odd sizes, 1-pixel images, rotations, ROIs partly and wholly outside,
  // every pixel format, padded rows and chunk remainders, against the scalar reference.
  const auto& sizes = crop_data::kAwkwardImageSizes;
  const auto& outs = crop_data::kAwkwardOutputSizes;
  const PixelFormat formats[] = {PixelFormat::rgb8, PixelFormat::bgr8, PixelFormat::rgba8, PixelFormat::rgb8};
  const int pads[] = {0, 0, 0, 5};
  float lut[256];
  REQUIRE(value_lut(-1.0f, 1.0f, lut));
  int crops = 0;
  for (const auto& sz : sizes) {
    const int iw = sz[0], ih = sz[1];
    const Image img = synthetic(iw, ih);
    const std::vector<RotatedRect> rois = crop_data::awkward_rois(iw, ih);
    for (int f = 0; f < 4; ++f) {
      const std::vector<uint8_t> px = convert(img, formats[f], pads[f]);
      const ImageView v{px.data(), iw, ih, std::ptrdiff_t(iw * channels_of(formats[f]) + pads[f]), formats[f]};
      for (const RotatedRect& roi : rois)
        for (const auto& o : outs)
          for (BorderMode border : {BorderMode::zero, BorderMode::replicate}) {
            CAPTURE(iw);
            CAPTURE(ih);
            CAPTURE(pixel_format_name(formats[f]));
            CAPTURE(roi.cx);
            CAPTURE(roi.angle_rad);
            CAPTURE(o[0]);
            CAPTURE(o[1]);
            CAPTURE(int(border));
            const std::size_t n = std::size_t(o[0]) * std::size_t(o[1]) * 3;
            // The scalar reference on the packed RGB image: every format must give its bytes.
            std::vector<uint8_t> ref(n), got(n);
            REQUIRE(crop_to_u8<scalar_arch>(img.view(), roi, o[0], o[1], border, ref.data()));
            REQUIRE(crop_to_u8<scalar_arch>(v, roi, o[0], o[1], border, got.data()));
            CHECK(differing(got, ref) == 0);
            std::vector<float> tref(n), t(n);
            REQUIRE(crop_to_tensor<scalar_arch>(v, roi, o[0], o[1], border, -1.0f, 1.0f, tref.data()));
            std::size_t lut_bad = 0;
            for (std::size_t i = 0; i < n; ++i) lut_bad += tref[i] != lut[ref[i]];
            CHECK(lut_bad == 0);
            test_archs::for_each_simd_arch([&](auto arch) {
              using A = decltype(arch);
              CAPTURE(A::name());
              REQUIRE(crop_to_u8<A>(v, roi, o[0], o[1], border, got.data()));
              CHECK(differing(got, ref) == 0);
              REQUIRE(crop_to_tensor<A>(v, roi, o[0], o[1], border, -1.0f, 1.0f, t.data()));
              CHECK(std::memcmp(t.data(), tref.data(), n * sizeof(float)) == 0);
            });
            ++crops;
          }
    }
  }
  CHECK(crops == 7 * 4 * 6 * 5 * 2);
}

TEST_CASE("warp: the letterbox of the detector (docs/pipeline.md 1.1)") {
  // A landscape image: rows above and below the image are exactly range_min.
  const Image img = synthetic(200, 100);
  std::vector<float> t(128 * 128 * 3, 7.0f);
  Matrix4 m{};
  REQUIRE(letterbox_whole_image(img.view(), 128, 128, -1.0f, 1.0f, t.data(), &m));
  for (int x = 0; x < 128; ++x) {
    CHECK(t[std::size_t(x) * 3] == -1.0f);                            // row 0
    CHECK(t[(std::size_t(127) * 128 + std::size_t(x)) * 3 + 2] == -1.0f);  // row 127
  }
  // Same as the explicit steps: pad the whole-image ROI, crop with BORDER_ZERO, matrix of the padded ROI.
  auto p = pad_roi(whole_image_rect(200, 100), 128, 128);
  REQUIRE(p);
  std::vector<float> t2(t.size());
  REQUIRE(crop_to_tensor(img.view(), p->roi, 128, 128, BorderMode::zero, -1.0f, 1.0f, t2.data()));
  CHECK(std::memcmp(t.data(), t2.data(), t.size() * sizeof(float)) == 0);
  CHECK(m == crop_to_image_matrix(p->roi, 200, 100));
  // The tensor's centre maps to the image centre.
  const auto c = transform_point(m, 0.5f, 0.5f);
  CHECK(c[0] == doctest::Approx(0.5));
  CHECK(c[1] == doctest::Approx(0.5));
}

TEST_CASE("warp: float conversion is v * scale + offset with two float32 roundings") {
  const float ranges[2][2] = {{-1.0f, 1.0f}, {0.0f, 1.0f}};
  for (const auto& r : ranges) {
    float lut[256];
    REQUIRE(value_lut(r[0], r[1], lut));
    const float scale = (r[1] - r[0]) / 255.0f;
    int fused_differs = 0;
    for (int v = 0; v < 256; ++v) {
      volatile float prod = float(v) * scale;  // volatile: rounded before the add
      const float expect = prod + r[0];
      CHECK(lut[v] == expect);
      fused_differs += std::fma(float(v), scale, r[0]) != expect;
    }
    if (r[0] != 0.0f) CHECK(fused_differs > 0);  // the check above can tell a fused multiply-add
  }
  // The tensor is the LUT applied to the 8-bit crop.
  const Image img = synthetic(37, 23);
  const RotatedRect roi{18, 11, 30, 20, 0.7f};
  std::vector<uint8_t> u8(24 * 16 * 3);
  std::vector<float> f(u8.size());
  REQUIRE(crop_to_u8(img.view(), roi, 24, 16, BorderMode::replicate, u8.data()));
  REQUIRE(crop_to_tensor(img.view(), roi, 24, 16, BorderMode::replicate, 0.0f, 1.0f, f.data()));
  float lut[256];
  REQUIRE(value_lut(0.0f, 1.0f, lut));
  for (std::size_t i = 0; i < u8.size(); ++i) CHECK(f[i] == lut[u8[i]]);
}

TEST_CASE("warp: tiny and thin images") {
  for (auto wh : {std::array<int, 2>{1, 1}, {1, 5}, {7, 1}, {2, 2}}) {
    const Image img = synthetic(wh[0], wh[1]);
    std::vector<float> t(32 * 32 * 3);
    REQUIRE(letterbox_whole_image(img.view(), 32, 32, -1.0f, 1.0f, t.data(), nullptr));
    std::vector<uint8_t> u(32 * 32 * 3);
    REQUIRE(crop_to_u8(img.view(), RotatedRect{0.5f, 0.5f, 3, 3, 0.2f}, 32, 32, BorderMode::replicate, u.data()));
    // Replicating a 1x1 image gives its single colour everywhere.
    if (wh[0] == 1 && wh[1] == 1)
      for (std::size_t i = 0; i < u.size(); ++i) CHECK(u[i] == img.pixels[i % 3]);
  }
}

TEST_CASE("warp: bad arguments give clear errors") {
  const Image img = synthetic(16, 16);
  std::vector<float> t(8 * 8 * 3);
  auto err = [&](const ImageView& v, RotatedRect r, int w, int h, float lo, float hi, float* out) {
    Status s = crop_to_tensor(v, r, w, h, BorderMode::zero, lo, hi, out);
    CHECK_FALSE(s);
    return std::string(s.message());
  };
  const RotatedRect ok{8, 8, 10, 10, 0};
  CHECK(contains(err(img.view(), {8, 8, 0, 10, 0}, 8, 8, 0, 1, t.data()), "ROI size 0x10"));
  CHECK(contains(err(img.view(), {8, 8, 10, -2, 0}, 8, 8, 0, 1, t.data()), "ROI size"));
  CHECK(contains(err(img.view(), {NAN, 8, 10, 10, 0}, 8, 8, 0, 1, t.data()), "not finite"));
  CHECK(contains(err(img.view(), {8, 8, 10, 10, INFINITY}, 8, 8, 0, 1, t.data()), "not finite"));
  CHECK(contains(err(img.view(), ok, 0, 8, 0, 1, t.data()), "output size 0x8"));
  CHECK(contains(err(img.view(), ok, 8, 8, 0, 1, nullptr), "null"));
  CHECK(contains(err(img.view(), ok, 8, 8, 1, 1, t.data()), "value range"));
  CHECK(contains(err(ImageView{nullptr, 16, 16, 48, PixelFormat::rgb8}, ok, 8, 8, 0, 1, t.data()), "null"));
  Matrix4 m;
  CHECK_FALSE(letterbox_whole_image(ImageView{img.pixels.data(), 16, 16, 10, PixelFormat::rgb8}, 8, 8, -1, 1,
                                    t.data(), &m));
}

TEST_CASE("warp: a crop allocates nothing") {
  const Image img = synthetic(640, 480);
  std::vector<float> t(256 * 256 * 3);
  Matrix4 m;
  REQUIRE(letterbox_whole_image(img.view(), 128, 128, -1, 1, t.data(), &m));
  long n = -1;
  {
    alloc_counter::Scope scope;
    Status a = letterbox_whole_image(img.view(), 128, 128, -1, 1, t.data(), &m);
    Status b = crop_to_tensor(img.view(), RotatedRect{300, 200, 180, 200, 0.3f}, 256, 256, BorderMode::replicate, 0,
                              1, t.data());
    n = scope.allocations();
    CHECK(a);
    CHECK(b);
  }
  CHECK(n == 0);
}
