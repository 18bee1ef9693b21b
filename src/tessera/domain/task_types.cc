// Validation of pool configs, task data, results and review comments.
#include "tessera/domain/task_types.h"

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tessera/base/json_util.h"
#include "tessera/base/status.h"
#include "tessera/domain/workforce.h"

namespace tessera::domain {
namespace {

using nlohmann::json;

constexpr size_t kMaxText = 200'000;

std::string F(absl::string_view prefix, absl::string_view key) {
  return JoinField(prefix, key);
}

absl::StatusOr<json> NormalizeLabels(const json& config,
                                     absl::string_view field) {
  auto it = config.find("labels");
  std::string f = F(field, "labels");
  if (it == config.end() || !it->is_array() || it->empty()) {
    return InvalidField(f, "must be a non-empty array of label names");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& l = (*it)[i];
    std::string fi = absl::StrCat(f, "[", i, "]");
    if (!l.is_string() || l.get<std::string>().empty()) {
      return InvalidField(fi, "must be a non-empty string");
    }
    if (!seen.insert(l.get<std::string>()).second) {
      return InvalidField(fi, "duplicate label");
    }
  }
  return *it;
}

absl::Status RequireNonEmptyText(const json& obj, absl::string_view key,
                                 absl::string_view field) {
  TS_ASSIGN_OR_RETURN(std::string text, RequiredString(obj, key, field));
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidField(F(field, key), "must not be empty");
  }
  if (text.size() > kMaxText) {
    return InvalidField(F(field, key), "is too long");
  }
  return absl::OkStatus();
}

bool HasLabel(const json& config, const std::string& label) {
  for (const json& l : config.at("labels")) {
    if (l.get<std::string>() == label) return true;
  }
  return false;
}

absl::Status ValidateImageData(const json& data, absl::string_view field) {
  TS_ASSIGN_OR_RETURN(std::string image, RequiredString(data, "image", field));
  if (!IsSafeMediaReference(image)) {
    return InvalidField(F(field, "image"),
                        "must be a relative path inside the media root or an "
                        "http(s) URL");
  }
  for (const char* key : {"width", "height"}) {
    TS_ASSIGN_OR_RETURN(int64_t v, RequiredInt(data, key, field));
    if (v <= 0 || v > 100'000) {
      return InvalidField(F(field, key), "must be a positive pixel count");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateBoxes(const json& config, const json& data,
                           const json& result, absl::string_view field) {
  auto it = result.find("boxes");
  std::string f = F(field, "boxes");
  if (it == result.end() || !it->is_array()) {
    return InvalidField(f, "must be an array (possibly empty)");
  }
  double width = data.at("width").get<double>();
  double height = data.at("height").get<double>();
  for (size_t i = 0; i < it->size(); ++i) {
    const json& box = (*it)[i];
    std::string fb = absl::StrCat(f, "[", i, "]");
    TS_RETURN_IF_ERROR(RequireObject(box, fb));
    TS_ASSIGN_OR_RETURN(std::string label, RequiredString(box, "label", fb));
    if (!HasLabel(config, label)) {
      return InvalidField(
          F(fb, "label"),
          absl::StrCat("'", label, "' is not in the pool's labels"));
    }
    double v[4];
    const char* keys[4] = {"x", "y", "w", "h"};
    for (int k = 0; k < 4; ++k) {
      auto c = box.find(keys[k]);
      if (c == box.end() || !c->is_number()) {
        return InvalidField(F(fb, keys[k]), "must be a number (pixels)");
      }
      v[k] = c->get<double>();
    }
    if (v[2] <= 0 || v[3] <= 0) {
      return InvalidField(F(fb, v[2] <= 0 ? "w" : "h"), "must be positive");
    }
    // Boxes may overhang an edge by 1e-5 of the image size: what rounding
    // YOLO's 6-digit normalised coordinates leaves (imports keep them exact).
    const double tx = width * 1e-5, ty = height * 1e-5;
    if (v[0] < -tx || v[1] < -ty || v[0] + v[2] > width + tx ||
        v[1] + v[3] > height + ty) {
      return InvalidField(fb, absl::StrCat("box lies outside the ", width, "x",
                                           height, " image"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsSafeMediaReference(absl::string_view path) {
  if (absl::StartsWith(path, "http://") || absl::StartsWith(path, "https://")) {
    return path.find_first_of(" \n\r\t") == absl::string_view::npos;
  }
  if (path.empty() || path.front() == '/' ||
      path.find('\0') != absl::string_view::npos ||
      path.find('\\') != absl::string_view::npos ||
      path.find(':') != absl::string_view::npos) {
    return false;
  }
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

namespace {

// {"model": "hog" | "onnx:PATH"} or {"backend": "http(s)://…"}, with
// "min_score" in [0, 1] (default 0.85 for HOG: below it its drafts cost more
// edits than they save on COCO street images, docs/benchmarks.md; else 0).
absl::StatusOr<json> NormalizePreannotate(const json& p,
                                          const std::string& field) {
  TS_RETURN_IF_ERROR(RequireObject(p, field));
  const bool has_model = p.contains("model"),
             has_backend = p.contains("backend");
  if (has_model == has_backend) {
    return InvalidField(field, "needs exactly one of model or backend");
  }
  json out = json::object();
  double default_score = 0;
  if (has_model) {
    TS_ASSIGN_OR_RETURN(std::string model, RequiredString(p, "model", field));
    if (model != "hog" &&
        !(absl::StartsWith(model, "onnx:") && model.size() > 5)) {
      return InvalidField(F(field, "model"), "must be hog or onnx:PATH");
    }
    if (model == "hog") default_score = 0.85;
    out["model"] = model;
  } else {
    TS_ASSIGN_OR_RETURN(std::string url, RequiredString(p, "backend", field));
    if (!absl::StartsWith(url, "http://") &&
        !absl::StartsWith(url, "https://")) {
      return InvalidField(F(field, "backend"), "must be an http(s) URL");
    }
    out["backend"] = url;
  }
  auto ms = p.find("min_score");
  if (ms == p.end()) {
    out["min_score"] = default_score;
  } else if (!ms->is_number() || ms->get<double>() < 0 ||
             ms->get<double>() > 1) {
    return InvalidField(F(field, "min_score"), "must be a number in [0, 1]");
  } else {
    out["min_score"] = ms->get<double>();
  }
  return out;
}

// Text drafts: {"chat": URL of an OpenAI-compatible endpoint, "model"?:
// the model name it is asked for}.
absl::StatusOr<json> NormalizeChatDrafts(const json& p,
                                         const std::string& field) {
  TS_RETURN_IF_ERROR(RequireObject(p, field));
  TS_ASSIGN_OR_RETURN(std::string url, RequiredString(p, "chat", field));
  if (!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) {
    return InvalidField(F(field, "chat"), "must be an http(s) URL");
  }
  TS_ASSIGN_OR_RETURN(auto model, OptionalString(p, "model", field));
  return json{{"chat", url}, {"model", model.value_or("")}};
}

}  // namespace

absl::StatusOr<json> NormalizePoolConfig(TaskType type, const json& config_in,
                                         absl::string_view field) {
  json config = config_in.is_null() ? json::object() : config_in;
  TS_RETURN_IF_ERROR(RequireObject(config, field));
  switch (type) {
    case TaskType::kBbox:
    case TaskType::kClassify: {
      TS_ASSIGN_OR_RETURN(config["labels"], NormalizeLabels(config, field));
      if (config.contains("preannotate")) {
        if (type != TaskType::kBbox) {
          return InvalidField(F(field, "preannotate"),
                              "model drafts are for bbox pools");
        }
        TS_ASSIGN_OR_RETURN(config["preannotate"],
                            NormalizePreannotate(config["preannotate"],
                                                 F(field, "preannotate")));
      }
      break;
    }
    case TaskType::kPairwise:
    case TaskType::kRating: {
      auto rr = config.find("rationale_required");
      if (rr == config.end()) {
        config["rationale_required"] = false;
      } else if (!rr->is_boolean()) {
        return InvalidField(F(field, "rationale_required"),
                            "must be a boolean");
      }
      if (type == TaskType::kPairwise) break;
      auto criteria = config.find("criteria");
      if (criteria == config.end() || !criteria->is_array() ||
          criteria->empty()) {
        return InvalidField(F(field, "criteria"),
                            "must be a non-empty array of criterion names");
      }
      std::set<std::string> seen;
      for (size_t i = 0; i < criteria->size(); ++i) {
        const json& c = (*criteria)[i];
        if (!c.is_string() || c.get<std::string>().empty() ||
            !seen.insert(c.get<std::string>()).second) {
          return InvalidField(absl::StrCat(F(field, "criteria"), "[", i, "]"),
                              "must be a unique non-empty string");
        }
      }
      json scale = config.value("scale", json{{"min", 1}, {"max", 5}});
      std::string fs = F(field, "scale");
      TS_RETURN_IF_ERROR(RequireObject(scale, fs));
      TS_ASSIGN_OR_RETURN(int64_t lo, RequiredInt(scale, "min", fs));
      TS_ASSIGN_OR_RETURN(int64_t hi, RequiredInt(scale, "max", fs));
      if (lo >= hi || hi - lo > 100) {
        return InvalidField(fs, "needs min < max and at most 100 steps");
      }
      config["scale"] = {{"min", lo}, {"max", hi}};
      break;
    }
    case TaskType::kRewrite:
    case TaskType::kReference:
      if (config.contains("preannotate")) {
        TS_ASSIGN_OR_RETURN(config["preannotate"],
                            NormalizeChatDrafts(config["preannotate"],
                                                F(field, "preannotate")));
      }
      break;
  }
  if (auto w = config.find("workforce"); w != config.end()) {
    TS_ASSIGN_OR_RETURN(WorkforceSettings settings,
                        ParseWorkforce(*w, F(field, "workforce")));
    *w = WorkforceToJson(settings);
  }
  return config;
}

absl::Status ValidateTaskData(TaskType type, const json& config,
                              const json& data, absl::string_view field) {
  TS_RETURN_IF_ERROR(RequireObject(data, field));
  switch (type) {
    case TaskType::kBbox:
      return ValidateImageData(data, field);
    case TaskType::kClassify:
      if (data.contains("image")) return ValidateImageData(data, field);
      if (!data.contains("text")) {
        return InvalidField(F(field, "image"),
                            "classify tasks need an image (with width and "
                            "height) or a text");
      }
      return RequireNonEmptyText(data, "text", field);
    case TaskType::kPairwise: {
      TS_RETURN_IF_ERROR(RequireNonEmptyText(data, "prompt", field));
      auto r = data.find("responses");
      if (r == data.end() || !r->is_array() || r->size() != 2) {
        return InvalidField(F(field, "responses"),
                            "must be an array of exactly two responses [a, b]");
      }
      for (int i = 0; i < 2; ++i) {
        if (!(*r)[i].is_string() || (*r)[i].get<std::string>().empty()) {
          return InvalidField(absl::StrCat(F(field, "responses"), "[", i, "]"),
                              "must be a non-empty string");
        }
      }
      return absl::OkStatus();
    }
    case TaskType::kRating:
    case TaskType::kRewrite:
      TS_RETURN_IF_ERROR(RequireNonEmptyText(data, "prompt", field));
      return RequireNonEmptyText(data, "response", field);
    case TaskType::kReference:
      return RequireNonEmptyText(data, "prompt", field);
  }
  return absl::OkStatus();
}

absl::Status ValidateResult(TaskType type, const json& config, const json& data,
                            const json& result, absl::string_view field) {
  TS_RETURN_IF_ERROR(RequireObject(result, field));
  switch (type) {
    case TaskType::kBbox:
      return ValidateBoxes(config, data, result, field);
    case TaskType::kClassify: {
      TS_ASSIGN_OR_RETURN(std::string label,
                          RequiredString(result, "label", field));
      if (!HasLabel(config, label)) {
        return InvalidField(
            F(field, "label"),
            absl::StrCat("'", label, "' is not in the pool's labels"));
      }
      return absl::OkStatus();
    }
    case TaskType::kPairwise: {
      TS_ASSIGN_OR_RETURN(std::string choice,
                          RequiredString(result, "choice", field));
      if (choice != "a" && choice != "b" && choice != "tie") {
        return InvalidField(F(field, "choice"), "must be a, b or tie");
      }
      break;
    }
    case TaskType::kRating: {
      auto scores = result.find("scores");
      std::string fs = F(field, "scores");
      if (scores == result.end() || !scores->is_object()) {
        return InvalidField(fs, "must be an object {criterion: score}");
      }
      int64_t lo = config.at("scale").at("min").get<int64_t>();
      int64_t hi = config.at("scale").at("max").get<int64_t>();
      std::set<std::string> criteria;
      for (const json& c : config.at("criteria")) {
        criteria.insert(c.get<std::string>());
      }
      for (const auto& [name, value] : scores->items()) {
        std::string fc = F(fs, name);
        if (!criteria.count(name)) {
          return InvalidField(fc, "is not one of the pool's criteria");
        }
        if (!value.is_number_integer() || value.get<int64_t>() < lo ||
            value.get<int64_t>() > hi) {
          return InvalidField(
              fc, absl::StrCat("must be an integer from ", lo, " to ", hi));
        }
      }
      for (const std::string& c : criteria) {
        if (!scores->contains(c)) {
          return InvalidField(F(fs, c), "is required");
        }
      }
      break;
    }
    case TaskType::kRewrite:
    case TaskType::kReference:
      return RequireNonEmptyText(result, "text", field);
  }
  // Pairwise and rating: the rationale.
  TS_ASSIGN_OR_RETURN(auto rationale,
                      OptionalString(result, "rationale", field));
  if (config.value("rationale_required", false) &&
      (!rationale ||
       rationale->find_first_not_of(" \t\r\n") == std::string::npos)) {
    return InvalidField(F(field, "rationale"), "is required by this pool");
  }
  if (rationale && rationale->size() > kMaxText) {
    return InvalidField(F(field, "rationale"), "is too long");
  }
  return absl::OkStatus();
}

absl::Status ValidateGold(TaskType type, const json& config, const json& data,
                          const json& gold, absl::string_view field) {
  if (!config.is_object() || !config.value("rationale_required", false)) {
    return ValidateResult(type, config, data, gold, field);
  }
  json relaxed = config;
  relaxed["rationale_required"] = false;
  return ValidateResult(type, relaxed, data, gold, field);
}

absl::Status ValidateComments(const json& comments, absl::string_view field) {
  if (comments.is_null()) return absl::OkStatus();
  if (!comments.is_array()) {
    return InvalidField(field, "must be an array of {text, anchor?}");
  }
  for (size_t i = 0; i < comments.size(); ++i) {
    const json& c = comments[i];
    std::string fc = absl::StrCat(field, "[", i, "]");
    TS_RETURN_IF_ERROR(RequireObject(c, fc));
    TS_RETURN_IF_ERROR(RequireNonEmptyText(c, "text", fc));
    auto anchor = c.find("anchor");
    if (anchor == c.end() || anchor->is_null()) continue;
    std::string fa = F(fc, "anchor");
    TS_RETURN_IF_ERROR(RequireObject(*anchor, fa));
    if (anchor->contains("box")) {
      TS_ASSIGN_OR_RETURN(int64_t box, RequiredInt(*anchor, "box", fa));
      if (box < 0) return InvalidField(F(fa, "box"), "must be >= 0");
    } else if (anchor->contains("span")) {
      const json& span = anchor->at("span");
      std::string fs = F(fa, "span");
      TS_RETURN_IF_ERROR(RequireObject(span, fs));
      TS_ASSIGN_OR_RETURN(int64_t start, RequiredInt(span, "start", fs));
      TS_ASSIGN_OR_RETURN(int64_t end, RequiredInt(span, "end", fs));
      if (start < 0 || end < start) {
        return InvalidField(fs, "needs 0 <= start <= end");
      }
    } else {
      return InvalidField(fa, "must name a box or a span");
    }
  }
  return absl::OkStatus();
}

}  // namespace tessera::domain
