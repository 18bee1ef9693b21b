// Image and detection-label import sources (see detection_source.h).
#include "tessera/transfer/detection_source.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tessera/base/status.h"
#include "tessera/domain/task_types.h"
#include "tessera/formats/coco.h"
#include "tessera/formats/image_info.h"
#include "tessera/formats/labelstudio.h"

namespace tessera::transfer {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// `dir` relative to `root` ('/'-separated, "" when equal); an error when it
// lies outside.
absl::StatusOr<std::string> RelativeInside(const std::string& root,
                                           const std::string& dir) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(root, ec);
  fs::path d = fs::weakly_canonical(dir, ec);
  if (ec) return InvalidField("images", absl::StrCat(dir, ": ", ec.message()));
  fs::path rel = d.lexically_relative(r);
  std::string s = rel.generic_string();
  if (rel.empty() || s == "..") {
    return InvalidField("images", absl::StrCat(dir,
                                               " is not inside the media "
                                               "root ",
                                               root));
  }
  if (absl::StartsWith(s, "../")) {
    return InvalidField("images", absl::StrCat(dir,
                                               " is not inside the media "
                                               "root ",
                                               root));
  }
  return s == "." ? std::string() : s;
}

std::string JoinRel(const std::string& prefix, const std::string& file) {
  if (prefix.empty()) return file;
  return absl::StrCat(prefix, "/", file);
}

bool IsUrl(absl::string_view s) {
  return absl::StartsWith(s, "http://") || absl::StartsWith(s, "https://");
}

json BoxesJson(const std::vector<formats::Box>& boxes,
               const absl::flat_hash_set<std::string>* keep, bool scores) {
  json list = json::array();
  for (const formats::Box& b : boxes) {
    if (keep != nullptr && !keep->contains(b.label)) continue;
    json j = {
        {"label", b.label}, {"x", b.x}, {"y", b.y}, {"w", b.w}, {"h", b.h}};
    if (scores && b.score) j["score"] = *b.score;
    list.push_back(std::move(j));
  }
  return json{{"boxes", std::move(list)}};
}

class ImageFolderSource final : public service::ImportSource {
 public:
  ImageFolderSource(std::string dir, std::string prefix,
                    std::vector<std::string> files)
      : dir_(std::move(dir)),
        prefix_(std::move(prefix)),
        files_(std::move(files)) {}
  absl::Status Rewind() override {
    next_ = 0;
    return absl::OkStatus();
  }
  absl::StatusOr<bool> Next(service::ImportItem& item) override {
    if (next_ >= files_.size()) return false;
    const std::string& file = files_[next_++];
    item.where = absl::StrCat(dir_, "/", file);
    TS_ASSIGN_OR_RETURN(formats::ImageSize size,
                        formats::ReadImageSize(item.where));
    item.data = {{"image", JoinRel(prefix_, file)},
                 {"width", size.width},
                 {"height", size.height}};
    return true;
  }

 private:
  std::string dir_, prefix_;
  std::vector<std::string> files_;
  size_t next_ = 0;
};

// A list file: one image per line, a path relative to the media root (size
// read from the file) or "URL WIDTH HEIGHT" (nothing is downloaded).
class ImageListSource final : public service::ImportSource {
 public:
  ImageListSource(std::string list, std::string media_root,
                  std::vector<std::string> lines)
      : list_(std::move(list)),
        media_root_(std::move(media_root)),
        lines_(std::move(lines)) {}
  absl::Status Rewind() override {
    next_ = 0;
    return absl::OkStatus();
  }
  absl::StatusOr<bool> Next(service::ImportItem& item) override {
    while (next_ < lines_.size() &&
           absl::StripAsciiWhitespace(lines_[next_]).empty()) {
      ++next_;
    }
    if (next_ >= lines_.size()) return false;
    const size_t number = next_ + 1;
    std::string line(absl::StripAsciiWhitespace(lines_[next_++]));
    item.where = absl::StrCat(list_, ":", number);
    std::vector<std::string> parts =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (IsUrl(parts[0])) {
      int w = 0, h = 0;
      if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &w) ||
          !absl::SimpleAtoi(parts[2], &h)) {
        return InvalidField("image", absl::StrCat(item.where,
                                                  ": a URL needs its width "
                                                  "and height: URL W H"));
      }
      item.data = {{"image", parts[0]}, {"width", w}, {"height", h}};
      return true;
    }
    if (parts.size() != 1) {
      return InvalidField("image",
                          absl::StrCat(item.where, ": expected one path"));
    }
    if (!domain::IsSafeMediaReference(parts[0])) {
      return InvalidField("image", absl::StrCat(item.where,
                                                ": must be a relative path "
                                                "inside the media root"));
    }
    auto size =
        formats::ReadImageSize((fs::path(media_root_) / parts[0]).string());
    if (!size.ok()) {
      return InvalidField(
          "image", absl::StrCat(item.where, ": ", size.status().message()));
    }
    item.data = {
        {"image", parts[0]}, {"width", size->width}, {"height", size->height}};
    return true;
  }

 private:
  std::string list_, media_root_;
  std::vector<std::string> lines_;
  size_t next_ = 0;
};

class DatasetSource final : public service::ImportSource {
 public:
  DatasetSource(formats::DetectionDataset dataset, std::string input,
                std::string prefix, DetectionImportOptions options)
      : dataset_(std::move(dataset)),
        input_(std::move(input)),
        prefix_(std::move(prefix)),
        options_(std::move(options)) {}
  absl::Status Bind(const domain::Pool&, const json& config) override {
    keep_.reset();
    if (options_.only_pool_labels && config.contains("labels")) {
      keep_.emplace();
      for (const json& l : config["labels"]) {
        if (l.is_string()) keep_->insert(l.get<std::string>());
      }
    }
    return absl::OkStatus();
  }
  absl::Status Rewind() override {
    next_ = 0;
    next_warning_ = 0;
    return absl::OkStatus();
  }
  absl::StatusOr<bool> Next(service::ImportItem& item) override {
    // What the reader skipped is reported as skipped items first.
    if (next_warning_ < dataset_.warnings.size()) {
      return absl::InvalidArgumentError(dataset_.warnings[next_warning_++]);
    }
    if (next_ >= dataset_.images.size()) return false;
    const formats::DetectionImage& image = dataset_.images[next_++];
    item.where = absl::StrCat(input_, ": ", image.file);
    std::string path =
        IsUrl(image.file) ? image.file : JoinRel(prefix_, image.file);
    item.data = {
        {"image", path}, {"width", image.width}, {"height", image.height}};
    const auto* keep = keep_ ? &*keep_ : nullptr;
    if (options_.labels_as == LabelsAs::kGold) {
      item.gold = BoxesJson(image.boxes, keep, /*scores=*/false);
    } else {
      item.draft = BoxesJson(image.boxes, keep, /*scores=*/true);
      item.draft_model = options_.model.empty() ? "import" : options_.model;
    }
    // Label Studio predictions come along as drafts.
    if (!image.predictions.empty() && !item.draft) {
      item.draft = BoxesJson(image.predictions, keep, /*scores=*/true);
      item.draft_model = options_.model.empty() ? "import" : options_.model;
    }
    return true;
  }

 private:
  formats::DetectionDataset dataset_;
  std::string input_, prefix_;
  DetectionImportOptions options_;
  std::optional<absl::flat_hash_set<std::string>> keep_;
  size_t next_ = 0;
  size_t next_warning_ = 0;
};

}  // namespace

absl::StatusOr<LabelsAs> ParseLabelsAs(absl::string_view name,
                                       absl::string_view field) {
  if (name == "gold") return LabelsAs::kGold;
  if (name == "preannotation" || name == "preannotations" || name == "draft") {
    return LabelsAs::kPreannotation;
  }
  return InvalidField(field, "must be gold or preannotation");
}

absl::StatusOr<std::unique_ptr<service::ImportSource>> MakeImageFolderSource(
    const std::string& dir, const DetectionImportOptions& options) {
  std::error_code ec;
  if (fs::is_regular_file(dir, ec)) {
    std::ifstream in(dir, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in && !in.eof()) {
      return InvalidField("input", absl::StrCat(dir, ": cannot read"));
    }
    std::vector<std::string> lines = absl::StrSplit(text.str(), '\n');
    return std::make_unique<ImageListSource>(dir, options.media_root,
                                             std::move(lines));
  }
  TS_ASSIGN_OR_RETURN(std::string prefix,
                      RelativeInside(options.media_root, dir));
  TS_ASSIGN_OR_RETURN(std::vector<std::string> files,
                      formats::ListImageFiles(dir));
  if (files.empty()) {
    return InvalidField("images", absl::StrCat(dir, ": no image files"));
  }
  return std::make_unique<ImageFolderSource>(dir, std::move(prefix),
                                             std::move(files));
}

namespace {

// The media-relative directory of the images of a data set at `input`.
absl::StatusOr<std::string> ImagePrefix(formats::DetectionFormat format,
                                        const std::string& input,
                                        const DetectionImportOptions& options) {
  std::string images_dir = options.images_dir;
  if (images_dir.empty()) {
    if (format == formats::DetectionFormat::kYolo) {
      // As the YOLO reader: the labels dir's last `labels` → `images`.
      fs::path p = fs::path(input).lexically_normal();
      if (p.filename().empty()) p = p.parent_path();
      std::vector<std::string> parts;
      for (const auto& c : p) parts.push_back(c.string());
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (*it == "labels") {
          *it = "images";
          break;
        }
      }
      fs::path joined;
      for (const auto& c : parts) joined /= c;
      images_dir = joined.string();
    } else if (format != formats::DetectionFormat::kLabelStudio) {
      return InvalidField("images",
                          "is required for COCO and VOC (their file names "
                          "are relative to it)");
    }
  }
  if (images_dir.empty()) return std::string();
  return RelativeInside(options.media_root, images_dir);
}

formats::ReadOptions ReadOptionsOf(const DetectionImportOptions& options) {
  formats::ReadOptions read;
  read.classes_file = options.classes_file;
  read.images_dir = options.images_dir;
  read.skip_invalid = options.skip_invalid;
  return read;
}

}  // namespace

absl::StatusOr<std::unique_ptr<service::ImportSource>> MakeDetectionSource(
    formats::DetectionFormat format, const std::string& input,
    const DetectionImportOptions& options) {
  TS_ASSIGN_OR_RETURN(std::string prefix, ImagePrefix(format, input, options));
  TS_ASSIGN_OR_RETURN(
      formats::DetectionDataset dataset,
      formats::ReadDetections(format, input, ReadOptionsOf(options)));
  return std::make_unique<DatasetSource>(std::move(dataset), input,
                                         std::move(prefix), options);
}

absl::StatusOr<std::unique_ptr<service::ImportSource>>
MakeDetectionSourceFromText(formats::DetectionFormat format,
                            absl::string_view text, const std::string& name,
                            const DetectionImportOptions& options) {
  formats::DetectionDataset dataset;
  if (format == formats::DetectionFormat::kCoco) {
    TS_ASSIGN_OR_RETURN(dataset,
                        formats::ParseCoco(text, name, ReadOptionsOf(options)));
  } else if (format == formats::DetectionFormat::kLabelStudio) {
    TS_ASSIGN_OR_RETURN(
        dataset, formats::ParseLabelStudio(text, name, ReadOptionsOf(options)));
  } else {
    return InvalidField("format",
                        "only coco and ls documents can be uploaded; import "
                        "yolo and voc folders from the media root (path=)");
  }
  TS_ASSIGN_OR_RETURN(std::string prefix, ImagePrefix(format, name, options));
  return std::make_unique<DatasetSource>(std::move(dataset), name,
                                         std::move(prefix), options);
}

}  // namespace tessera::transfer
