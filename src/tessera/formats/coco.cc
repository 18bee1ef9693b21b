// COCO instances JSON: simdjson DOM reader with located errors, and a
// streaming writer that spools annotations to a temp file.
#include "tessera/formats/coco.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "simdjson.h"
#include "tessera/base/json_util.h"
#include "tessera/base/status.h"

namespace tessera::formats {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

std::string Path(absl::string_view array_name, size_t i,
                 absl::string_view key) {
  return absl::StrCat(array_name, "[", i, "].", key);
}

// Reads obj[key] as an integer (an integral JSON number).
absl::StatusOr<int64_t> GetInt(object obj, const char* key,
                               absl::string_view file,
                               const std::string& field) {
  element e;
  if (obj[key].get(e) != simdjson::SUCCESS) {
    return LocatedError(file, 0, field, "missing");
  }
  int64_t i = 0;
  if (e.get_int64().get(i) == simdjson::SUCCESS) return i;
  double d = 0;
  if (e.get_double().get(d) == simdjson::SUCCESS && std::isfinite(d) &&
      d == std::floor(d) && std::fabs(d) < 9e15) {
    return static_cast<int64_t>(d);
  }
  return LocatedError(file, 0, field, "must be an integer");
}

absl::StatusOr<double> GetNumber(element e, absl::string_view file,
                                 const std::string& field) {
  double d = 0;
  if (e.get_double().get(d) != simdjson::SUCCESS || !std::isfinite(d)) {
    return LocatedError(file, 0, field, "must be a number");
  }
  return d;
}

absl::StatusOr<std::string> GetString(object obj, const char* key,
                                      absl::string_view file,
                                      const std::string& field) {
  element e;
  if (obj[key].get(e) != simdjson::SUCCESS) {
    return LocatedError(file, 0, field, "missing");
  }
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) {
    return LocatedError(file, 0, field, "must be a string");
  }
  return std::string(s);
}

absl::StatusOr<array> GetArray(object root, const char* key,
                               absl::string_view file, bool required) {
  element e;
  if (root[key].get(e) != simdjson::SUCCESS) {
    if (!required) return array();
    return LocatedError(file, 0, key, "missing");
  }
  array a;
  if (e.get_array().get(a) != simdjson::SUCCESS) {
    return LocatedError(file, 0, key, "must be an array");
  }
  return a;
}

absl::StatusOr<object> AsObject(element e, absl::string_view file,
                                const std::string& field) {
  object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) {
    return LocatedError(file, 0, field, "must be an object");
  }
  return o;
}

class CocoWriter : public DetectionWriter {
 public:
  explicit CocoWriter(ByteSink sink) : sink_(std::move(sink)) {}
  ~CocoWriter() override {
    if (spool_ != nullptr) std::fclose(spool_);
  }

  absl::Status Begin(const std::vector<std::string>& classes) override {
    TS_ASSIGN_OR_RETURN(class_ids_, IndexClasses(classes, "classes"));
    out_ =
        "{\"info\":{\"description\":\"detection data set written by "
        "tessera\"},\"licenses\":[],\"categories\":[";
    for (size_t i = 0; i < classes.size(); ++i) {
      absl::StrAppend(&out_, i == 0 ? "\n" : ",\n", "{\"id\":", i + 1,
                      ",\"name\":");
      AppendJsonString(classes[i], out_);
      out_ += ",\"supercategory\":\"\"}";
    }
    out_ += "],\n\"images\":[";
    return absl::OkStatus();
  }

  absl::Status Add(const DetectionImage& image) override {
    if (image.width <= 0 || image.height <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(image.file, ": image size ", image.width, "x",
                       image.height, " must be positive"));
    }
    ++image_id_;
    absl::StrAppend(&out_, image_id_ == 1 ? "\n" : ",\n", "{\"id\":", image_id_,
                    ",\"file_name\":");
    AppendJsonString(image.file, out_);
    absl::StrAppend(&out_, ",\"width\":", image.width,
                    ",\"height\":", image.height, "}");
    for (size_t i = 0; i < image.boxes.size(); ++i) {
      const Box& b = image.boxes[i];
      auto it = class_ids_.find(b.label);
      if (it == class_ids_.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            image.file, ": box ", i, " has unknown class \"", b.label, "\""));
      }
      std::string bad = CheckBox(b, image.width, image.height);
      if (!bad.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(image.file, ": box ", i, ": ", bad));
      }
      ++annotation_id_;
      absl::StrAppend(&annotations_, annotation_id_ == 1 ? "\n" : ",\n",
                      "{\"id\":", annotation_id_, ",\"image_id\":", image_id_,
                      ",\"category_id\":", it->second + 1, ",\"bbox\":[");
      AppendDouble(annotations_, b.x);
      annotations_.push_back(',');
      AppendDouble(annotations_, b.y);
      annotations_.push_back(',');
      AppendDouble(annotations_, b.w);
      annotations_.push_back(',');
      AppendDouble(annotations_, b.h);
      annotations_ += "],\"area\":";
      AppendDouble(annotations_, b.w * b.h);
      annotations_ += ",\"iscrowd\":0";
      if (b.score) {
        annotations_ += ",\"score\":";
        AppendDouble(annotations_, *b.score);
      }
      annotations_.push_back('}');
    }
    if (out_.size() >= kChunk) TS_RETURN_IF_ERROR(FlushOut());
    if (annotations_.size() >= kChunk) TS_RETURN_IF_ERROR(Spool());
    return absl::OkStatus();
  }

  absl::Status Finish() override {
    out_ += "],\n\"annotations\":[";
    TS_RETURN_IF_ERROR(FlushOut());
    if (spool_ != nullptr) {
      TS_RETURN_IF_ERROR(Spool());
      if (std::fflush(spool_) != 0 || std::fseek(spool_, 0, SEEK_SET) != 0) {
        return absl::InternalError("cannot read back the annotation spool");
      }
      std::string buf(kChunk, '\0');
      size_t n;
      while ((n = std::fread(buf.data(), 1, buf.size(), spool_)) > 0) {
        TS_RETURN_IF_ERROR(sink_(absl::string_view(buf.data(), n)));
      }
      if (std::ferror(spool_)) {
        return absl::InternalError("cannot read back the annotation spool");
      }
      std::fclose(spool_);
      spool_ = nullptr;
    }
    out_ = std::move(annotations_);
    annotations_.clear();
    out_ += "]}\n";
    return FlushOut();
  }

 private:
  static constexpr size_t kChunk = size_t{1} << 20;

  absl::Status FlushOut() {
    absl::Status s = sink_(out_);
    out_.clear();
    return s;
  }

  absl::Status Spool() {
    if (spool_ == nullptr) {
      spool_ = std::tmpfile();
      if (spool_ == nullptr) {
        return absl::InternalError("cannot create a temp file for annotations");
      }
    }
    if (std::fwrite(annotations_.data(), 1, annotations_.size(), spool_) !=
        annotations_.size()) {
      return absl::InternalError("cannot write the annotation spool");
    }
    annotations_.clear();
    return absl::OkStatus();
  }

  ByteSink sink_;
  absl::flat_hash_map<std::string, int> class_ids_;
  std::string out_;
  std::string annotations_;
  std::FILE* spool_ = nullptr;
  int64_t image_id_ = 0;
  int64_t annotation_id_ = 0;
};

// `json` is followed by simdjson::SIMDJSON_PADDING readable bytes when
// `padded`; otherwise the parser copies it.
absl::StatusOr<DetectionDataset> ParseCocoBody(absl::string_view json,
                                               bool padded,
                                               absl::string_view file,
                                               const ReadOptions& options) {
  simdjson::dom::parser parser;
  element root_el;
  if (auto err = parser.parse(json.data(), json.size(), !padded).get(root_el);
      err) {
    return JsonSyntaxError(json, file, simdjson::error_message(err));
  }
  object root;
  if (root_el.get_object().get(root) != simdjson::SUCCESS) {
    return LocatedError(file, 0, "", "COCO JSON must be an object");
  }
  TS_ASSIGN_OR_RETURN(array categories,
                      GetArray(root, "categories", file, true));
  TS_ASSIGN_OR_RETURN(array images, GetArray(root, "images", file, true));
  TS_ASSIGN_OR_RETURN(array annotations,
                      GetArray(root, "annotations", file, false));

  DetectionDataset out;
  // Categories, ordered by id.
  std::map<int64_t, std::string> category_by_id;
  absl::flat_hash_set<std::string> category_names;
  size_t i = 0;
  for (element e : categories) {
    std::string at = absl::StrCat("categories[", i, "]");
    TS_ASSIGN_OR_RETURN(object c, AsObject(e, file, at));
    TS_ASSIGN_OR_RETURN(int64_t id,
                        GetInt(c, "id", file, Path("categories", i, "id")));
    TS_ASSIGN_OR_RETURN(
        std::string name,
        GetString(c, "name", file, Path("categories", i, "name")));
    if (name.empty()) {
      return LocatedError(file, 0, Path("categories", i, "name"), "empty name");
    }
    if (!category_by_id.emplace(id, name).second) {
      return LocatedError(file, 0, Path("categories", i, "id"),
                          absl::StrCat("duplicate category id ", id));
    }
    if (!category_names.insert(name).second) {
      return LocatedError(
          file, 0, Path("categories", i, "name"),
          absl::StrCat("duplicate category name \"", name, "\""));
    }
    ++i;
  }
  for (const auto& [id, name] : category_by_id) out.classes.push_back(name);

  // Images, in file order; a bad one is fatal or (skip_invalid) dropped.
  absl::flat_hash_map<int64_t, size_t> image_index;  // id -> index in out
  absl::flat_hash_set<int64_t> image_ids;
  absl::flat_hash_set<std::string> file_names;
  std::vector<bool> dropped;
  auto fail = [&](absl::Status s, std::optional<size_t> image) -> absl::Status {
    if (!options.skip_invalid) return s;
    if (image) dropped[*image] = true;
    out.warnings.push_back(absl::StrCat(
        "skipped: ", WithJsonLine(std::move(s), json, file).message()));
    return absl::OkStatus();
  };
  i = 0;
  for (element e : images) {
    size_t index = i++;
    absl::StatusOr<DetectionImage> image =
        [&]() -> absl::StatusOr<DetectionImage> {
      std::string at = absl::StrCat("images[", index, "]");
      TS_ASSIGN_OR_RETURN(object o, AsObject(e, file, at));
      TS_ASSIGN_OR_RETURN(int64_t id,
                          GetInt(o, "id", file, Path("images", index, "id")));
      if (!image_ids.insert(id).second) {
        return LocatedError(file, 0, Path("images", index, "id"),
                            absl::StrCat("duplicate image id ", id));
      }
      DetectionImage image;
      TS_ASSIGN_OR_RETURN(
          image.file,
          GetString(o, "file_name", file, Path("images", index, "file_name")));
      if (image.file.empty() || !file_names.insert(image.file).second) {
        return LocatedError(
            file, 0, Path("images", index, "file_name"),
            image.file.empty()
                ? std::string("empty file_name")
                : absl::StrCat("duplicate file_name \"", image.file, "\""));
      }
      for (const char* key : {"width", "height"}) {
        TS_ASSIGN_OR_RETURN(int64_t v,
                            GetInt(o, key, file, Path("images", index, key)));
        if (v <= 0 || v > (1 << 30)) {
          return LocatedError(
              file, 0, Path("images", index, key),
              absl::StrCat("image ", key, " ", v, " must be positive"));
        }
        (key[0] == 'w' ? image.width : image.height) = static_cast<int>(v);
      }
      image_index[id] = out.images.size();
      return image;
    }();
    if (!image.ok()) {
      TS_RETURN_IF_ERROR(fail(image.status(), std::nullopt));
      continue;
    }
    out.images.push_back(*std::move(image));
    dropped.push_back(false);
  }

  absl::flat_hash_set<int64_t> annotation_ids;
  size_t crowd = 0;
  i = 0;
  for (element e : annotations) {
    size_t index = i++;
    std::optional<size_t> owner;
    absl::Status s = [&]() -> absl::Status {
      std::string at = absl::StrCat("annotations[", index, "]");
      TS_ASSIGN_OR_RETURN(object o, AsObject(e, file, at));
      TS_ASSIGN_OR_RETURN(
          int64_t id, GetInt(o, "id", file, Path("annotations", index, "id")));
      if (!annotation_ids.insert(id).second) {
        return LocatedError(file, 0, Path("annotations", index, "id"),
                            absl::StrCat("duplicate annotation id ", id));
      }
      TS_ASSIGN_OR_RETURN(
          int64_t image_id,
          GetInt(o, "image_id", file, Path("annotations", index, "image_id")));
      auto img = image_index.find(image_id);
      if (img == image_index.end()) {
        return LocatedError(file, 0, Path("annotations", index, "image_id"),
                            absl::StrCat("no image has id ", image_id));
      }
      owner = img->second;
      TS_ASSIGN_OR_RETURN(int64_t category_id,
                          GetInt(o, "category_id", file,
                                 Path("annotations", index, "category_id")));
      auto cat = category_by_id.find(category_id);
      if (cat == category_by_id.end()) {
        return LocatedError(file, 0, Path("annotations", index, "category_id"),
                            absl::StrCat("no category has id ", category_id));
      }
      element crowd_el;
      int64_t iscrowd = 0;
      if (o["iscrowd"].get(crowd_el) == simdjson::SUCCESS) {
        TS_ASSIGN_OR_RETURN(
            iscrowd,
            GetInt(o, "iscrowd", file, Path("annotations", index, "iscrowd")));
      }
      element bbox_el;
      array bbox;
      std::string bbox_field = Path("annotations", index, "bbox");
      if (o["bbox"].get(bbox_el) != simdjson::SUCCESS ||
          bbox_el.get_array().get(bbox) != simdjson::SUCCESS ||
          bbox.size() != 4) {
        return LocatedError(file, 0, bbox_field,
                            "must be an array [x, y, w, h]");
      }
      double v[4];
      for (size_t k = 0; k < 4; ++k) {
        TS_ASSIGN_OR_RETURN(v[k],
                            GetNumber(bbox.at(k).value_unsafe(), file,
                                      absl::StrCat(bbox_field, "[", k, "]")));
      }
      Box box{cat->second, v[0], v[1], v[2], v[3], std::nullopt};
      element score_el;
      if (o["score"].get(score_el) == simdjson::SUCCESS) {
        TS_ASSIGN_OR_RETURN(
            box.score,
            GetNumber(score_el, file, Path("annotations", index, "score")));
      }
      DetectionImage& image = out.images[*owner];
      std::string bad = CheckBox(box, image.width, image.height);
      if (!bad.empty()) {
        return LocatedError(file, 0, bbox_field,
                            absl::StrCat(bad, " (", image.file, ")"));
      }
      if (iscrowd != 0) {
        ++crowd;
        return absl::OkStatus();
      }
      image.boxes.push_back(std::move(box));
      return absl::OkStatus();
    }();
    if (!s.ok()) TS_RETURN_IF_ERROR(fail(s, owner));
  }
  if (crowd > 0) {
    out.warnings.push_back(absl::StrCat(
        file, ": left out ", crowd,
        " iscrowd=1 annotations (crowd regions are not object boxes)"));
  }
  if (options.skip_invalid) {
    std::vector<DetectionImage> kept;
    for (size_t k = 0; k < out.images.size(); ++k) {
      if (!dropped[k]) kept.push_back(std::move(out.images[k]));
    }
    out.images = std::move(kept);
  }
  if (!options.classes_file.empty()) {
    TS_ASSIGN_OR_RETURN(std::vector<std::string> classes,
                        ReadClassesFile(options.classes_file));
    for (const std::string& name : out.classes) {
      if (std::find(classes.begin(), classes.end(), name) == classes.end()) {
        return LocatedError(
            file, 0, "categories",
            absl::StrCat("category \"", name, "\" is not in the class list ",
                         options.classes_file));
      }
    }
    out.classes = std::move(classes);
  }
  return out;
}

}  // namespace

// ParseCocoBody with the line added to errors that name a field.
absl::StatusOr<DetectionDataset> ParseCocoImpl(absl::string_view json,
                                               bool padded,
                                               absl::string_view file,
                                               const ReadOptions& options) {
  absl::StatusOr<DetectionDataset> out =
      ParseCocoBody(json, padded, file, options);
  if (!out.ok()) return WithJsonLine(out.status(), json, file);
  return out;
}

absl::StatusOr<DetectionDataset> ParseCoco(absl::string_view json,
                                           absl::string_view file,
                                           const ReadOptions& options) {
  return ParseCocoImpl(json, false, file, options);
}

absl::StatusOr<DetectionDataset> ReadCoco(const std::string& path,
                                          const ReadOptions& options) {
  simdjson::padded_string text;
  if (auto err = simdjson::padded_string::load(path).get(text); err) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot read: ", simdjson::error_message(err)));
  }
  return ParseCocoImpl(absl::string_view(text.data(), text.size()), true, path,
                       options);
}

std::unique_ptr<DetectionWriter> MakeCocoWriter(ByteSink sink) {
  return std::make_unique<CocoWriter>(std::move(sink));
}

}  // namespace tessera::formats
