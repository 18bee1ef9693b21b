// Image facts the detection codecs need: which files in a folder are images,
// and each image's pixel size, read by decoding it with OpenCV imgcodecs.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tessera::formats {

struct ImageSize {
  int width = 0;
  int height = 0;
};

// True when `name` ends in an image extension OpenCV decodes (.jpg, .jpeg,
// .png, .bmp, .webp, .tif, .tiff; any case).
bool IsImageFileName(absl::string_view name);

// Image files under `dir` (recursively), as '/'-separated paths relative to
// it, sorted. kInvalidArgument when `dir` is not a readable directory.
absl::StatusOr<std::vector<std::string>> ListImageFiles(const std::string& dir);

// Decodes the image at `path` and returns its size. kInvalidArgument naming
// the file when it is missing, unreadable or does not decode.
absl::StatusOr<ImageSize> ReadImageSize(const std::string& path);

}  // namespace tessera::formats
