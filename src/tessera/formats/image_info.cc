// Image listing and sizes via OpenCV imgcodecs (a full decode, so a truncated
// or corrupt file is caught here rather than by a later consumer).
#include "tessera/formats/image_info.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "opencv2/core.hpp"
#include "opencv2/imgcodecs.hpp"

namespace tessera::formats {

namespace fs = std::filesystem;

bool IsImageFileName(absl::string_view name) {
  size_t dot = name.rfind('.');
  if (dot == absl::string_view::npos) return false;
  std::string ext = absl::AsciiStrToLower(name.substr(dot + 1));
  return ext == "jpg" || ext == "jpeg" || ext == "png" || ext == "bmp" ||
         ext == "webp" || ext == "tif" || ext == "tiff";
}

absl::StatusOr<std::vector<std::string>> ListImageFiles(
    const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": not a directory of images"));
  }
  std::vector<std::string> files;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": cannot list: ", ec.message()));
  }
  for (; it != end; it.increment(ec)) {
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat(dir, ": cannot list: ", ec.message()));
    }
    if (!it->is_regular_file(ec)) continue;
    std::string rel = it->path().lexically_relative(dir).generic_string();
    if (IsImageFileName(rel)) files.push_back(std::move(rel));
  }
  std::sort(files.begin(), files.end());
  return files;
}

absl::StatusOr<ImageSize> ReadImageSize(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot read image"));
  }
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  cv::Mat image;
  try {
    image = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": image does not decode: ", e.what()));
  }
  if (image.empty() || image.cols <= 0 || image.rows <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": image does not decode"));
  }
  return ImageSize{image.cols, image.rows};
}

}  // namespace tessera::formats
