// Label Studio task JSON: simdjson DOM reader with JSON-path errors and a
// streaming writer.
#include "tessera/formats/labelstudio.h"

#include <cmath>
#include <filesystem>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "simdjson.h"
#include "tessera/base/json_util.h"
#include "tessera/base/status.h"
#include "tessera/formats/image_info.h"

namespace tessera::formats {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// obj[key] if present.
std::optional<element> Find(object obj, const char* key) {
  element e;
  if (obj[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
  return e;
}

absl::StatusOr<double> Number(element e, absl::string_view file,
                              const std::string& field) {
  double d = 0;
  if (e.get_double().get(d) != simdjson::SUCCESS || !std::isfinite(d)) {
    return LocatedError(file, 0, field, "must be a number");
  }
  return d;
}

absl::StatusOr<int> PositiveInt(element e, absl::string_view file,
                                const std::string& field) {
  TS_ASSIGN_OR_RETURN(double d, Number(e, file, field));
  if (d <= 0 || d != std::floor(d) || d > (1 << 30)) {
    return LocatedError(file, 0, field, "must be a positive integer");
  }
  return static_cast<int>(d);
}

absl::StatusOr<object> Object(element e, absl::string_view file,
                              const std::string& field) {
  object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) {
    return LocatedError(file, 0, field, "must be an object");
  }
  return o;
}

absl::StatusOr<array> Array(element e, absl::string_view file,
                            const std::string& field) {
  array a;
  if (e.get_array().get(a) != simdjson::SUCCESS) {
    return LocatedError(file, 0, field, "must be an array");
  }
  return a;
}

// A rectangle result in percent, still to be scaled to pixels.
struct PendingBox {
  std::string label;
  double x, y, w, h;
  std::optional<double> score;
  std::string field;
};

class TaskParser {
 public:
  TaskParser(absl::string_view file, const ReadOptions& options)
      : file_(file), options_(options) {}

  absl::StatusOr<DetectionImage> Parse(element task_el, size_t index,
                                       std::vector<std::string>& warnings) {
    std::string at = absl::StrCat("[", index, "]");
    TS_ASSIGN_OR_RETURN(object task, Object(task_el, file_, at));
    DetectionImage image;
    std::optional<element> data_el = Find(task, "data");
    if (!data_el) return LocatedError(file_, 0, at + ".data", "missing");
    TS_ASSIGN_OR_RETURN(object data, Object(*data_el, file_, at + ".data"));
    std::optional<element> image_el = Find(data, "image");
    std::string_view image_str;
    if (!image_el ||
        image_el->get_string().get(image_str) != simdjson::SUCCESS ||
        image_str.empty()) {
      return LocatedError(file_, 0, at + ".data.image",
                          "must be a non-empty string (the image path or URL)");
    }
    image.file = std::string(image_str);
    width_ = height_ = 0;
    size_field_.clear();
    if (std::optional<element> w = Find(data, "width")) {
      TS_ASSIGN_OR_RETURN(width_, PositiveInt(*w, file_, at + ".data.width"));
      std::optional<element> h = Find(data, "height");
      if (!h) return LocatedError(file_, 0, at + ".data.height", "missing");
      TS_ASSIGN_OR_RETURN(height_, PositiveInt(*h, file_, at + ".data.height"));
      size_field_ = at + ".data.width";
    }

    std::vector<PendingBox> boxes, predictions;
    if (std::optional<element> anns_el = Find(task, "annotations")) {
      TS_ASSIGN_OR_RETURN(array anns,
                          Array(*anns_el, file_, at + ".annotations"));
      size_t k = 0, used = 0;
      for (element ann_el : anns) {
        std::string af = absl::StrCat(at, ".annotations[", k++, "]");
        TS_ASSIGN_OR_RETURN(object ann, Object(ann_el, file_, af));
        bool cancelled = false;
        if (std::optional<element> c = Find(ann, "was_cancelled")) {
          if (c->get_bool().get(cancelled) != simdjson::SUCCESS) {
            cancelled = false;
          }
        }
        if (cancelled) continue;
        if (++used > 1) continue;
        TS_RETURN_IF_ERROR(Results(ann, af, std::nullopt, boxes));
      }
      if (used > 1) {
        warnings.push_back(absl::StrCat(file_, ": task ", at, " (", image.file,
                                        ") has ", used,
                                        " annotations; used the first"));
      }
    }
    if (std::optional<element> preds_el = Find(task, "predictions")) {
      TS_ASSIGN_OR_RETURN(array preds,
                          Array(*preds_el, file_, at + ".predictions"));
      size_t k = 0;
      for (element pred_el : preds) {
        std::string pf = absl::StrCat(at, ".predictions[", k++, "]");
        TS_ASSIGN_OR_RETURN(object pred, Object(pred_el, file_, pf));
        std::optional<double> score;
        if (std::optional<element> s = Find(pred, "score")) {
          TS_ASSIGN_OR_RETURN(score, Number(*s, file_, pf + ".score"));
        }
        TS_RETURN_IF_ERROR(Results(pred, pf, score, predictions));
      }
    }
    if (width_ == 0 && !options_.images_dir.empty()) {
      TS_ASSIGN_OR_RETURN(
          ImageSize size,
          ReadImageSize(
              (std::filesystem::path(options_.images_dir) / image.file)
                  .string()));
      width_ = size.width;
      height_ = size.height;
    }
    if (width_ == 0) {
      return LocatedError(file_, 0, at + ".data",
                          "image size unknown: no data.width/height, no "
                          "result with original_width/height, and no "
                          "images folder (--images) to read it from");
    }
    image.width = width_;
    image.height = height_;
    for (auto [pending, target] :
         {std::pair{&boxes, &image.boxes},
          std::pair{&predictions, &image.predictions}}) {
      for (const PendingBox& p : *pending) {
        Box box{p.label,
                p.x / 100 * width_,
                p.y / 100 * height_,
                p.w / 100 * width_,
                p.h / 100 * height_,
                p.score};
        std::string bad = CheckBox(box, width_, height_);
        if (!bad.empty()) return LocatedError(file_, 0, p.field, bad);
        target->push_back(std::move(box));
      }
    }
    return image;
  }

 private:
  absl::Status Results(object holder, const std::string& at,
                       std::optional<double> score,
                       std::vector<PendingBox>& out) {
    std::optional<element> results_el = Find(holder, "result");
    if (!results_el) return absl::OkStatus();
    TS_ASSIGN_OR_RETURN(array results,
                        Array(*results_el, file_, at + ".result"));
    size_t k = 0;
    for (element r_el : results) {
      std::string rf = absl::StrCat(at, ".result[", k++, "]");
      TS_ASSIGN_OR_RETURN(object r, Object(r_el, file_, rf));
      std::string_view type;
      if (std::optional<element> t = Find(r, "type")) {
        if (t->get_string().get(type) != simdjson::SUCCESS) type = {};
      }
      std::optional<element> value_el = Find(r, "value");
      if (!value_el) {
        if (type == "rectanglelabels") {
          return LocatedError(file_, 0, rf + ".value", "missing");
        }
        continue;
      }
      TS_ASSIGN_OR_RETURN(object value,
                          Object(*value_el, file_, rf + ".value"));
      std::optional<element> labels_el = Find(value, "rectanglelabels");
      if (type != "rectanglelabels" && !(type.empty() && labels_el)) continue;
      std::string vf = rf + ".value";
      if (!labels_el) {
        return LocatedError(file_, 0, vf + ".rectanglelabels", "missing");
      }
      TS_ASSIGN_OR_RETURN(array labels,
                          Array(*labels_el, file_, vf + ".rectanglelabels"));
      std::string_view label;
      if (labels.size() != 1 ||
          labels.at(0).get_string().get(label) != simdjson::SUCCESS ||
          label.empty()) {
        return LocatedError(file_, 0, vf + ".rectanglelabels",
                            "must hold exactly one non-empty label");
      }
      PendingBox box;
      box.label = std::string(label);
      box.field = vf;
      double* targets[] = {&box.x, &box.y, &box.w, &box.h};
      const char* keys[] = {"x", "y", "width", "height"};
      for (int i = 0; i < 4; ++i) {
        std::optional<element> e = Find(value, keys[i]);
        if (!e) return LocatedError(file_, 0, vf + "." + keys[i], "missing");
        TS_ASSIGN_OR_RETURN(*targets[i], Number(*e, file_, vf + "." + keys[i]));
      }
      if (std::optional<element> rot = Find(value, "rotation")) {
        TS_ASSIGN_OR_RETURN(double degrees,
                            Number(*rot, file_, vf + ".rotation"));
        if (degrees != 0) {
          return LocatedError(file_, 0, vf + ".rotation",
                              "rotated rectangles are not supported");
        }
      }
      box.score = score;
      if (std::optional<element> s = Find(r, "score")) {
        TS_ASSIGN_OR_RETURN(box.score, Number(*s, file_, rf + ".score"));
      }
      std::optional<element> ow = Find(r, "original_width");
      std::optional<element> oh = Find(r, "original_height");
      if (ow && oh) {
        TS_ASSIGN_OR_RETURN(int w,
                            PositiveInt(*ow, file_, rf + ".original_width"));
        TS_ASSIGN_OR_RETURN(int h,
                            PositiveInt(*oh, file_, rf + ".original_height"));
        if (width_ == 0) {
          width_ = w;
          height_ = h;
          size_field_ = rf + ".original_width";
        } else if (w != width_ || h != height_) {
          return LocatedError(
              file_, 0, rf + ".original_width",
              absl::StrCat("image size ", w, "x", h, " disagrees with ", width_,
                           "x", height_, " from ", size_field_));
        }
      }
      out.push_back(std::move(box));
    }
    return absl::OkStatus();
  }

  absl::string_view file_;
  const ReadOptions& options_;
  int width_ = 0;
  int height_ = 0;
  std::string size_field_;
};

absl::StatusOr<DetectionDataset> ParseBody(absl::string_view json, bool padded,
                                           absl::string_view file,
                                           const ReadOptions& options) {
  simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(json.data(), json.size(), !padded).get(root);
      err) {
    return JsonSyntaxError(json, file, simdjson::error_message(err));
  }
  array tasks;
  if (root.get_array().get(tasks) != simdjson::SUCCESS) {
    return LocatedError(file, 0, "",
                        "Label Studio JSON must be a list of tasks");
  }
  DetectionDataset out;
  TaskParser parser_for_tasks(file, options);
  absl::flat_hash_set<int64_t> task_ids;
  absl::flat_hash_map<std::string, size_t> files;
  size_t index = 0;
  for (element task : tasks) {
    size_t i = index++;
    absl::StatusOr<DetectionImage> image =
        parser_for_tasks.Parse(task, i, out.warnings);
    if (image.ok()) {
      std::string at = absl::StrCat("[", i, "]");
      object o;
      int64_t id = 0;
      if (task.get_object().get(o) != simdjson::SUCCESS) {
        image = LocatedError(file, 0, at, "must be an object");
      } else if (std::optional<element> id_el = Find(o, "id");
                 id_el && id_el->get_int64().get(id) == simdjson::SUCCESS &&
                 !task_ids.insert(id).second) {
        image = LocatedError(file, 0, at + ".id",
                             absl::StrCat("duplicate task id ", id));
      } else if (auto [it, inserted] = files.emplace(image->file, i);
                 !inserted) {
        image = LocatedError(file, 0, at + ".data.image",
                             absl::StrCat("image ", image->file,
                                          " is also task [", it->second, "]"));
      }
    }
    if (!image.ok()) {
      if (!options.skip_invalid) return image.status();
      out.warnings.push_back(absl::StrCat(
          "skipped: ", WithJsonLine(image.status(), json, file).message()));
      continue;
    }
    out.images.push_back(*std::move(image));
  }
  if (options.classes_file.empty()) {
    ClassesFromLabels(out);
  } else {
    TS_ASSIGN_OR_RETURN(std::vector<std::string> classes,
                        ReadClassesFile(options.classes_file));
    TS_RETURN_IF_ERROR(ApplyClassList(out, classes, options.classes_file));
  }
  return out;
}

// ParseBody with the line added to errors that name a field.
absl::StatusOr<DetectionDataset> ParseImpl(absl::string_view json, bool padded,
                                           absl::string_view file,
                                           const ReadOptions& options) {
  absl::StatusOr<DetectionDataset> out = ParseBody(json, padded, file, options);
  if (!out.ok()) return WithJsonLine(out.status(), json, file);
  return out;
}

class LabelStudioWriter : public DetectionWriter {
 public:
  LabelStudioWriter(ByteSink sink, LabelStudioWriterOptions options)
      : sink_(std::move(sink)), options_(std::move(options)) {}

  absl::Status Begin(const std::vector<std::string>& classes) override {
    TS_ASSIGN_OR_RETURN(index_, IndexClasses(classes, "classes"));
    return sink_("[");
  }

  absl::Status Add(const DetectionImage& image) override {
    if (image.width <= 0 || image.height <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(image.file, ": image size ", image.width, "x",
                       image.height, " must be positive"));
    }
    std::string out = first_ ? "\n" : ",\n";
    first_ = false;
    out += "{\"data\":{\"image\":";
    AppendJsonString(image.file, out);
    absl::StrAppend(&out, ",\"width\":", image.width,
                    ",\"height\":", image.height, "},\"annotations\":[");
    TS_RETURN_IF_ERROR(AppendResults(out, image, image.boxes, "b"));
    out += "]";
    if (!image.predictions.empty()) {
      out += ",\"predictions\":[";
      TS_RETURN_IF_ERROR(AppendResults(out, image, image.predictions, "p"));
      out += "]";
    }
    out += "}";
    return sink_(out);
  }

  absl::Status Finish() override { return sink_("\n]\n"); }

 private:
  absl::Status AppendResults(std::string& out, const DetectionImage& image,
                             const std::vector<Box>& boxes,
                             absl::string_view id_prefix) {
    out += "{\"result\":[";
    for (size_t i = 0; i < boxes.size(); ++i) {
      const Box& b = boxes[i];
      if (!index_.contains(b.label)) {
        return absl::InvalidArgumentError(absl::StrCat(
            image.file, ": box ", i, " has unknown class \"", b.label, "\""));
      }
      std::string bad = CheckBox(b, image.width, image.height);
      if (!bad.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(image.file, ": box ", i, ": ", bad));
      }
      absl::StrAppend(&out, i == 0 ? "" : ",", "{\"id\":\"", id_prefix, i + 1,
                      "\",\"type\":\"rectanglelabels\",\"from_name\":");
      AppendJsonString(options_.from_name, out);
      out += ",\"to_name\":";
      AppendJsonString(options_.to_name, out);
      absl::StrAppend(&out, ",\"original_width\":", image.width,
                      ",\"original_height\":", image.height,
                      ",\"image_rotation\":0,\"value\":{\"x\":");
      AppendDouble(out, b.x / image.width * 100);
      out += ",\"y\":";
      AppendDouble(out, b.y / image.height * 100);
      out += ",\"width\":";
      AppendDouble(out, b.w / image.width * 100);
      out += ",\"height\":";
      AppendDouble(out, b.h / image.height * 100);
      out += ",\"rotation\":0,\"rectanglelabels\":[";
      AppendJsonString(b.label, out);
      out += "]}";
      if (b.score) {
        out += ",\"score\":";
        AppendDouble(out, *b.score);
      }
      out += "}";
    }
    out += "]}";
    return absl::OkStatus();
  }

  ByteSink sink_;
  LabelStudioWriterOptions options_;
  absl::flat_hash_map<std::string, int> index_;
  bool first_ = true;
};

}  // namespace

absl::StatusOr<DetectionDataset> ParseLabelStudio(absl::string_view json,
                                                  absl::string_view file,
                                                  const ReadOptions& options) {
  return ParseImpl(json, false, file, options);
}

absl::StatusOr<DetectionDataset> ReadLabelStudio(const std::string& path,
                                                 const ReadOptions& options) {
  simdjson::padded_string text;
  if (auto err = simdjson::padded_string::load(path).get(text); err) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot read: ", simdjson::error_message(err)));
  }
  return ParseImpl(absl::string_view(text.data(), text.size()), true, path,
                   options);
}

std::unique_ptr<DetectionWriter> MakeLabelStudioWriter(
    ByteSink sink, LabelStudioWriterOptions options) {
  return std::make_unique<LabelStudioWriter>(std::move(sink),
                                             std::move(options));
}

}  // namespace tessera::formats
