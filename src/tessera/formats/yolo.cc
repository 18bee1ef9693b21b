// YOLO label files: parsing, Ultralytics-identical formatting, the data set
// reader (labels + images + class names) and the streaming writer.
#include "tessera/formats/yolo.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tessera/base/status.h"
#include "tessera/formats/image_info.h"

namespace tessera::formats {
namespace {

namespace fs = std::filesystem;

constexpr const char* kYoloFields[] = {"class", "cx", "cy", "w", "h", "score"};

// Python's "%g" % v, which Ultralytics uses for label files.
void AppendG(std::string& out, double v) {
  if (v == 0) v = 0;
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%g", v);
  out.append(buf, n);
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string StemOf(absl::string_view rel) {
  std::string s(rel);
  size_t slash = s.rfind('/');
  size_t dot = s.rfind('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) {
    s.resize(dot);
  }
  return s;
}

// The classes file for `labels_dir`: the option, else classes.txt or
// data.yaml in the dir or up to two parents.
absl::StatusOr<std::string> FindClassesFile(const fs::path& labels_dir,
                                            const ReadOptions& options) {
  if (!options.classes_file.empty()) return options.classes_file;
  std::error_code ec;
  fs::path dir = fs::absolute(labels_dir, ec).lexically_normal();
  if (ec) dir = labels_dir;
  if (dir.has_parent_path() && !dir.has_filename()) dir = dir.parent_path();
  for (int up = 0; up < 3 && !dir.empty(); ++up) {
    for (const char* name : {"classes.txt", "data.yaml"}) {
      if (fs::is_regular_file(dir / name, ec)) return (dir / name).string();
    }
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      labels_dir.string(),
      ": no classes.txt or data.yaml here or in its two parent folders; pass "
      "the class names file (--classes)"));
}

// Ultralytics' rule: the images of .../labels/x are in .../images/x.
absl::StatusOr<std::string> FindImagesDir(const fs::path& labels_dir,
                                          const ReadOptions& options) {
  if (!options.images_dir.empty()) return options.images_dir;
  std::error_code ec;
  // The path as given, then made absolute (for "." inside a labels folder).
  for (const fs::path& path :
       {labels_dir, fs::absolute(labels_dir, ec).lexically_normal()}) {
    std::vector<std::string> parts;
    for (const fs::path& p : path) parts.push_back(p.string());
    for (size_t i = parts.size(); i-- > 0;) {
      if (parts[i] == "labels") {
        parts[i] = "images";
        fs::path out;
        for (const std::string& p : parts) out /= p;
        return out.string();
      }
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      labels_dir.string(),
      ": cannot find the images (no \"labels\" folder to replace by "
      "\"images\"); pass the images folder (--images)"));
}

class YoloWriter : public DetectionWriter {
 public:
  explicit YoloWriter(FileTreeSink& sink) : sink_(sink) {}

  absl::Status Begin(const std::vector<std::string>& classes) override {
    TS_ASSIGN_OR_RETURN(index_, IndexClasses(classes, "classes"));
    classes_ = classes;
    return absl::OkStatus();
  }

  absl::Status Add(const DetectionImage& image) override {
    std::string path = absl::StrCat("labels/", SidecarPath(image.file, ".txt"));
    if (!written_.insert(path).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          image.file, ": a second image maps to the label file ", path));
    }
    TS_ASSIGN_OR_RETURN(std::string text,
                        FormatYoloLabels(image.boxes, index_, image.width,
                                         image.height, image.file));
    return sink_.WriteFile(path, text);
  }

  absl::Status Finish() override {
    std::string yaml =
        "# YOLO data set written by tessera: labels/ holds one label file per "
        "image;\n# put the images in images/ with the same relative "
        "names.\npath: .\ntrain: images\nval: images\n";
    absl::StrAppend(&yaml, "nc: ", classes_.size(), "\nnames:\n");
    for (size_t i = 0; i < classes_.size(); ++i) {
      absl::StrAppend(&yaml, "  ", i, ": ", YamlQuote(classes_[i]), "\n");
    }
    return sink_.WriteFile("data.yaml", yaml);
  }

 private:
  static std::string YamlQuote(const std::string& name) {
    bool plain = !name.empty() && name.front() != ' ' && name.back() != ' ' &&
                 name.front() != '-';
    for (char c : name) {
      if (!absl::ascii_isalnum(c) && c != ' ' && c != '_' && c != '-' &&
          c != '.' && c != '(' && c != ')' && c != '/') {
        plain = false;
      }
    }
    std::string lower = absl::AsciiStrToLower(name);
    for (const char* word :
         {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}) {
      if (lower == word) plain = false;
    }
    int64_t number;
    if (absl::SimpleAtoi(name, &number) || ParseDouble(name).has_value()) {
      plain = false;
    }
    if (plain) return name;
    std::string out = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(c);
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\t') {
        out += "\\t";
      } else {
        out.push_back(c);
      }
    }
    out.push_back('"');
    return out;
  }

  FileTreeSink& sink_;
  std::vector<std::string> classes_;
  absl::flat_hash_map<std::string, int> index_;
  absl::flat_hash_set<std::string> written_;
};

}  // namespace

absl::StatusOr<std::vector<Box>> ParseYoloLabels(
    absl::string_view text, absl::string_view file,
    const std::vector<std::string>& classes, int width, int height) {
  std::vector<Box> boxes;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.empty()) continue;
    if (fields.size() != 5 && fields.size() != 6) {
      return LocatedError(
          file, line_no, "",
          absl::StrCat("expected \"class cx cy w h\" (5 fields, or 6 with a "
                       "score), got ",
                       fields.size(), " fields"));
    }
    int cls = 0;
    if (!absl::SimpleAtoi(fields[0], &cls)) {
      return LocatedError(
          file, line_no, "class",
          absl::StrCat("class index \"", fields[0], "\" is not an integer"));
    }
    if (cls < 0 || cls >= static_cast<int>(classes.size())) {
      return LocatedError(file, line_no, "class",
                          absl::StrCat("unknown class index ", cls, " (",
                                       classes.size(), " classes)"));
    }
    double v[6] = {0, 0, 0, 0, 0, 0};
    for (size_t i = 1; i < fields.size(); ++i) {
      std::optional<double> d = ParseDouble(fields[i]);
      if (!d) {
        return LocatedError(
            file, line_no, kYoloFields[i],
            absl::StrCat("\"", fields[i], "\" is not a number"));
      }
      v[i] = *d;
    }
    Box box;
    box.label = classes[cls];
    box.w = v[3] * width;
    box.h = v[4] * height;
    box.x = (v[1] - v[3] / 2) * width;
    box.y = (v[2] - v[4] / 2) * height;
    if (fields.size() == 6) box.score = v[5];
    if (v[3] < 0 || v[4] < 0) {
      return LocatedError(file, line_no, v[3] < 0 ? "w" : "h",
                          "box has negative size");
    }
    std::string bad = CheckBox(box, width, height);
    if (!bad.empty()) return LocatedError(file, line_no, "", bad);
    boxes.push_back(std::move(box));
  }
  return boxes;
}

absl::StatusOr<std::string> FormatYoloLabels(
    const std::vector<Box>& boxes,
    const absl::flat_hash_map<std::string, int>& class_index, int width,
    int height, absl::string_view file) {
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        file, ": image size ", width, "x", height, " must be positive"));
  }
  std::string out;
  for (size_t i = 0; i < boxes.size(); ++i) {
    const Box& b = boxes[i];
    auto it = class_index.find(b.label);
    if (it == class_index.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          file, ": box ", i, " has unknown class \"", b.label, "\""));
    }
    std::string bad = CheckBox(b, width, height);
    if (!bad.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": box ", i, ": ", bad));
    }
    absl::StrAppend(&out, it->second);
    double vals[4] = {(b.x + b.w / 2) / width, (b.y + b.h / 2) / height,
                      b.w / width, b.h / height};
    for (double v : vals) {
      out.push_back(' ');
      AppendG(out, v);
    }
    if (b.score) {
      out.push_back(' ');
      AppendG(out, *b.score);
    }
    out.push_back('\n');
  }
  return out;
}

absl::StatusOr<DetectionDataset> ReadYolo(const std::string& labels_dir,
                                          const ReadOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(labels_dir, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(labels_dir, ": not a directory of YOLO label files"));
  }
  fs::path root(labels_dir);
  TS_ASSIGN_OR_RETURN(std::string classes_file, FindClassesFile(root, options));
  TS_ASSIGN_OR_RETURN(std::string images_dir, FindImagesDir(root, options));
  DetectionDataset out;
  TS_ASSIGN_OR_RETURN(out.classes, ReadClassesFile(classes_file));

  // Label files by relative stem.
  std::map<std::string, std::string> labels;  // stem -> path
  std::error_code classes_ec;
  for (fs::recursive_directory_iterator it(root, ec), end; it != end;
       it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file(ec) || it->path().extension() != ".txt") continue;
    if (fs::equivalent(it->path(), classes_file, classes_ec)) continue;
    std::string rel = it->path().lexically_relative(root).generic_string();
    if (rel == "classes.txt") continue;
    labels.emplace(StemOf(rel), it->path().string());
  }
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat(labels_dir, ": cannot list: ", ec.message()));
  }
  TS_ASSIGN_OR_RETURN(std::vector<std::string> images,
                      ListImageFiles(images_dir));
  std::map<std::string, std::string> image_by_stem;
  for (const std::string& rel : images) {
    auto [it, inserted] = image_by_stem.emplace(StemOf(rel), rel);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat((fs::path(images_dir) / rel).string(),
                       ": another image (", it->second,
                       ") has the same name, so they would share one label "
                       "file"));
    }
  }

  // Label files without an image: their boxes cannot be placed.
  std::vector<std::string> orphans;
  for (const auto& [stem, path] : labels) {
    if (!image_by_stem.contains(stem)) orphans.push_back(path);
  }
  for (const std::string& path : orphans) {
    std::string msg =
        absl::StrCat(path, ": label file has no image in ", images_dir);
    if (!options.skip_invalid) {
      if (orphans.size() > 1) {
        absl::StrAppend(&msg, " (and ", orphans.size() - 1,
                        " more such label files)");
      }
      absl::StrAppend(&msg, "; --skip-invalid skips them");
      return absl::InvalidArgumentError(msg);
    }
    out.warnings.push_back(absl::StrCat("skipped ", msg));
  }

  std::vector<std::string> unlabelled;
  for (const auto& [stem, rel] : image_by_stem) {
    if (!labels.contains(stem)) unlabelled.push_back(rel);
  }
  for (const std::string& rel : unlabelled) {
    std::string msg = absl::StrCat((fs::path(images_dir) / rel).string(),
                                   ": image has no label file ",
                                   (root / (StemOf(rel) + ".txt")).string());
    if (!options.skip_invalid) {
      if (unlabelled.size() > 1) {
        absl::StrAppend(&msg, " (and ", unlabelled.size() - 1,
                        " more such images)");
      }
      absl::StrAppend(&msg,
                      "; give an image without objects an empty label file, "
                      "or --skip-invalid skips them");
      return absl::InvalidArgumentError(msg);
    }
    out.warnings.push_back(absl::StrCat("skipped ", msg));
  }

  for (const auto& [stem, rel] : image_by_stem) {
    auto label = labels.find(stem);
    if (label == labels.end()) continue;
    absl::StatusOr<DetectionImage> image =
        [&]() -> absl::StatusOr<DetectionImage> {
      DetectionImage image;
      image.file = rel;
      TS_ASSIGN_OR_RETURN(ImageSize size,
                          ReadImageSize((fs::path(images_dir) / rel).string()));
      image.width = size.width;
      image.height = size.height;
      TS_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(label->second));
      TS_ASSIGN_OR_RETURN(image.boxes,
                          ParseYoloLabels(text, label->second, out.classes,
                                          image.width, image.height));
      return image;
    }();
    if (!image.ok()) {
      if (!options.skip_invalid) return image.status();
      out.warnings.push_back(
          absl::StrCat("skipped ", rel, ": ", image.status().message()));
      continue;
    }
    out.images.push_back(*std::move(image));
  }
  return out;
}

std::unique_ptr<DetectionWriter> MakeYoloWriter(FileTreeSink& sink) {
  return std::make_unique<YoloWriter>(sink);
}

}  // namespace tessera::formats
