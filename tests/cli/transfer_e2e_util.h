// Helpers shared by the import/export end-to-end tests (CLI and HTTP): file
// trees, the expected coco128 YOLO files, a COCO structure check with JPEG
// sizes read independently of OpenCV, and a ustar reader. Header-only.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace tessera::e2e {

// Relative path ('/'-separated) → file contents.
using FileTree = std::map<std::string, std::string>;

inline std::string DataDir() {
  return std::string(TESSERA_SOURCE_DIR) + "/tests/data";
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void WriteFile(const std::filesystem::path& path,
                      const std::string& data) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

// The 80 coco128 class names, in YOLO index order.
inline std::vector<std::string> CocoClasses() {
  std::vector<std::string> out;
  for (absl::string_view line :
       absl::StrSplit(ReadFile(DataDir() + "/coco128/classes.txt"), '\n')) {
    if (!line.empty()) out.emplace_back(line);
  }
  return out;
}

// Every regular file under `dir`, by path relative to it.
inline FileTree ReadTree(const std::string& dir) {
  FileTree out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    out[std::filesystem::relative(it->path(), dir).generic_string()] =
        ReadFile(it->path());
  }
  return out;
}

// The label files of coco128 that have an image, keyed `prefix` + name, as
// the YOLO writer writes them: the same bytes, with "\n" after the last line
// (the original 000000000009.txt lacks it; docs/formats.md).
inline FileTree ExpectedYoloLabels(const std::string& labels_dir,
                                   const std::string& prefix) {
  FileTree out;
  for (const auto& [name, text] : ReadTree(labels_dir)) {
    if (name == "000000000656.txt" || name == "000000000659.txt") continue;
    std::string t = text;
    if (!t.empty() && t.back() != '\n') t += '\n';
    out[prefix + name] = t;
  }
  return out;
}

inline int64_t BoxCount(const FileTree& yolo) {
  int64_t n = 0;
  for (const auto& [name, text] : yolo) {
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (!line.empty()) ++n;
    }
  }
  return n;
}

// Same names and bytes; names the first few differences.
inline ::testing::AssertionResult SameFiles(const FileTree& got,
                                            const FileTree& want) {
  std::vector<std::string> diffs;
  for (const auto& [name, text] : want) {
    auto it = got.find(name);
    if (it == got.end()) {
      diffs.push_back("missing " + name);
    } else if (it->second != text) {
      diffs.push_back(absl::StrCat(name, " differs:\n", it->second,
                                   "--- want ---\n", text));
    }
  }
  for (const auto& [name, text] : got) {
    if (!want.count(name)) diffs.push_back("extra " + name);
  }
  if (diffs.empty()) return ::testing::AssertionSuccess();
  auto failure = ::testing::AssertionFailure();
  failure << diffs.size() << " differences (" << got.size() << " files, want "
          << want.size() << ")";
  for (size_t i = 0; i < diffs.size() && i < 3; ++i) {
    failure << "\n" << diffs[i];
  }
  return failure;
}

// Width and height from a JPEG's SOFn segment, or {0, 0}.
inline std::pair<int, int> JpegSize(const std::string& jpeg) {
  auto u8 = [&](size_t i) { return static_cast<unsigned char>(jpeg[i]); };
  if (jpeg.size() < 4 || u8(0) != 0xFF || u8(1) != 0xD8) return {0, 0};
  size_t i = 2;
  while (i + 9 < jpeg.size()) {
    if (u8(i) != 0xFF) return {0, 0};
    unsigned char marker = u8(i + 1);
    if (marker == 0xFF) {
      ++i;
      continue;
    }
    size_t len = (u8(i + 2) << 8) | u8(i + 3);
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
        marker != 0xCC) {
      int h = (u8(i + 5) << 8) | u8(i + 6);
      int w = (u8(i + 7) << 8) | u8(i + 8);
      return {w, h};
    }
    i += 2 + len;
  }
  return {0, 0};
}

// A COCO instances document as the reference COCO API expects it: unique
// ids, categories = `classes` with ids 1..N, every annotation's image and
// category present, bbox [x,y,w,h] inside the image, area = w*h, iscrowd 0,
// image sizes equal to the JPEG files under `images_dir`, `boxes`
// annotations in all.
inline ::testing::AssertionResult ValidCoco(
    const nlohmann::json& doc, const std::vector<std::string>& classes,
    const std::string& images_dir, int64_t boxes) {
  auto fail = [] { return ::testing::AssertionFailure(); };
  for (const char* key : {"images", "annotations", "categories"}) {
    if (!doc.contains(key) || !doc[key].is_array()) {
      return fail() << "no array " << key;
    }
  }
  const auto& cats = doc["categories"];
  if (cats.size() != classes.size()) {
    return fail() << cats.size() << " categories, want " << classes.size();
  }
  std::set<int64_t> cat_ids;
  for (size_t i = 0; i < cats.size(); ++i) {
    if (cats[i].value("id", int64_t{-1}) != static_cast<int64_t>(i + 1) ||
        cats[i].value("name", "") != classes[i]) {
      return fail() << "category " << i << ": " << cats[i].dump();
    }
    cat_ids.insert(cats[i]["id"].get<int64_t>());
  }
  std::map<int64_t, std::pair<double, double>> sizes;
  std::set<std::string> files;
  for (const auto& im : doc["images"]) {
    int64_t id = im.value("id", int64_t{-1});
    std::string file = im.value("file_name", "");
    if (!sizes.emplace(id, std::pair<double, double>{}).second) {
      return fail() << "duplicate image id " << id;
    }
    if (!files.insert(file).second) return fail() << "duplicate " << file;
    auto [w, h] = JpegSize(ReadFile(images_dir + "/" + file));
    if (w == 0 || im.value("width", -1) != w || im.value("height", -1) != h) {
      return fail() << im.dump() << " but the JPEG is " << w << "x" << h;
    }
    sizes[id] = {w, h};
  }
  std::set<int64_t> ann_ids;
  for (const auto& a : doc["annotations"]) {
    int64_t id = a.value("id", int64_t{-1});
    if (!ann_ids.insert(id).second) return fail() << "duplicate ann " << id;
    auto img = sizes.find(a.value("image_id", int64_t{-1}));
    if (img == sizes.end()) return fail() << "no image for " << a.dump();
    if (!cat_ids.count(a.value("category_id", int64_t{-1}))) {
      return fail() << "no category for " << a.dump();
    }
    const auto& b = a["bbox"];
    if (!b.is_array() || b.size() != 4) return fail() << "bbox " << a.dump();
    double x = b[0], y = b[1], w = b[2], h = b[3];
    auto [iw, ih] = img->second;
    // The codecs' documented tolerance: 1e-5 of the image size.
    if (x < -1e-5 * iw || y < -1e-5 * ih || w < 0 || h < 0 ||
        x + w > iw * (1 + 1e-5) || y + h > ih * (1 + 1e-5)) {
      return fail() << "bbox outside " << iw << "x" << ih << ": " << a.dump();
    }
    if (!a.contains("area") || a["area"].get<double>() != w * h) {
      return fail() << "area != w*h: " << a.dump();
    }
    if (a.value("iscrowd", -1) != 0) return fail() << "iscrowd " << a.dump();
  }
  if (static_cast<int64_t>(ann_ids.size()) != boxes) {
    return fail() << ann_ids.size() << " annotations, want " << boxes;
  }
  return ::testing::AssertionSuccess();
}

// The regular files of a ustar archive (512-byte headers, octal sizes,
// `prefix` + `name`), or an error naming what is malformed.
inline ::testing::AssertionResult ParseUstar(const std::string& tar,
                                             FileTree& out) {
  size_t pos = 0;
  while (true) {
    if (pos + 512 > tar.size()) {
      return ::testing::AssertionFailure() << "no end-of-archive block";
    }
    const std::string header = tar.substr(pos, 512);
    if (header == std::string(512, '\0')) break;
    auto field = [&](size_t off, size_t len) {
      std::string s = header.substr(off, len);
      return s.substr(0, s.find('\0'));
    };
    // Checksum: the header's bytes with the checksum field as spaces.
    int64_t sum = 0;
    for (size_t i = 0; i < 512; ++i) {
      sum +=
          (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
    }
    if (std::stoll("0" + field(148, 8), nullptr, 8) != sum) {
      return ::testing::AssertionFailure() << "bad checksum at " << pos;
    }
    if (header.substr(257, 5) != "ustar") {
      return ::testing::AssertionFailure() << "not ustar at " << pos;
    }
    std::string name = field(0, 100);
    std::string prefix = field(345, 155);
    if (!prefix.empty()) name = prefix + "/" + name;
    const int64_t size = std::stoll("0" + field(124, 12), nullptr, 8);
    const char type = header[156];
    pos += 512;
    if (pos + size > tar.size()) {
      return ::testing::AssertionFailure() << name << " is truncated";
    }
    if (type == '0' || type == '\0') out[name] = tar.substr(pos, size);
    pos += (size + 511) / 512 * 512;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace tessera::e2e
