// Label Studio ML-backend JSON: request/response codecs and the percent <->
// pixel box conversion.
#include "tessera/preannotate/ml_backend_protocol.h"

#include <regex>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tessera/base/json_util.h"
#include "tessera/base/status.h"

namespace tessera::preannotate {
namespace {

using nlohmann::json;

// The value of attribute `attr` in the first <tag ...> element, if any.
std::optional<std::string> Attribute(const std::string& xml,
                                     const std::string& tag,
                                     const std::string& attr) {
  const std::regex element("<" + tag + R"(\b([^>]*)>)");
  std::smatch m;
  if (!std::regex_search(xml, m, element)) return std::nullopt;
  const std::string attrs = m[1].str();
  const std::regex value(R"((?:^|\s))" + attr + R"(\s*=\s*["']([^"']*)["'])");
  std::smatch v;
  if (!std::regex_search(attrs, v, value)) return std::nullopt;
  return v[1].str();
}

absl::StatusOr<double> Number(const json& obj, const std::string& key,
                              const std::string& field) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) {
    return InvalidField(JoinField(field, key), "must be a number");
  }
  return it->get<double>();
}

}  // namespace

LabelNames LabelNamesFromConfig(absl::string_view label_config) {
  LabelNames names;
  const std::string xml(label_config);
  if (auto v = Attribute(xml, "RectangleLabels", "name")) names.from_name = *v;
  if (auto v = Attribute(xml, "RectangleLabels", "toName")) names.to_name = *v;
  if (auto v = Attribute(xml, "Image", "value");
      v && v->size() > 1 && (*v)[0] == '$') {
    names.image_key = v->substr(1);
  }
  return names;
}

absl::StatusOr<PredictRequest> ParsePredictRequest(absl::string_view body) {
  TS_ASSIGN_OR_RETURN(json root, ParseJson(body));
  TS_RETURN_IF_ERROR(RequireObject(root, "body"));
  auto tasks = root.find("tasks");
  if (tasks == root.end() || !tasks->is_array()) {
    return InvalidField("tasks", "must be an array of tasks");
  }
  PredictRequest req;
  for (size_t i = 0; i < tasks->size(); ++i) {
    const json& t = (*tasks)[i];
    const std::string field = absl::StrCat("tasks[", i, "]");
    TS_RETURN_IF_ERROR(RequireObject(t, field));
    auto data = t.find("data");
    if (data == t.end() || !data->is_object()) {
      return InvalidField(JoinField(field, "data"), "must be an object");
    }
    BackendTask task;
    task.id = t.value("id", json());
    task.data = *data;
    req.tasks.push_back(std::move(task));
  }
  TS_ASSIGN_OR_RETURN(auto config, OptionalString(root, "label_config"));
  if (config) req.label_config = std::move(*config);
  return req;
}

json EncodePredictRequest(const std::vector<json>& tasks,
                          absl::string_view label_config) {
  json out = {{"tasks", tasks}};
  if (!label_config.empty()) out["label_config"] = std::string(label_config);
  return out;
}

json EncodePrediction(const std::vector<Detection>& boxes, int width,
                      int height, const LabelNames& names,
                      absl::string_view model_version) {
  json result = json::array();
  double total = 0;
  for (size_t i = 0; i < boxes.size(); ++i) {
    const Detection& d = boxes[i];
    total += d.score;
    result.push_back({
        {"id", absl::StrCat("r", i)},
        {"from_name", names.from_name},
        {"to_name", names.to_name},
        {"type", "rectanglelabels"},
        {"original_width", width},
        {"original_height", height},
        {"image_rotation", 0},
        {"value",
         {{"x", 100.0 * d.x / width},
          {"y", 100.0 * d.y / height},
          {"width", 100.0 * d.w / width},
          {"height", 100.0 * d.h / height},
          {"rotation", 0},
          {"rectanglelabels", {d.label}}}},
        {"score", d.score},
    });
  }
  return {{"result", std::move(result)},
          {"score", boxes.empty() ? 0.0 : total / boxes.size()},
          {"model_version", std::string(model_version)}};
}

json EncodePredictResponse(std::vector<json> predictions,
                           absl::string_view model_version) {
  return {{"results", std::move(predictions)},
          {"model_version", std::string(model_version)}};
}

absl::StatusOr<std::vector<TaskPrediction>> ParsePredictResponse(
    absl::string_view body, size_t expected_tasks,
    const std::vector<std::optional<ImageSize>>& sizes) {
  TS_ASSIGN_OR_RETURN(json root, ParseJson(body));
  const json* results = &root;
  std::string response_version;
  std::string prefix;
  if (root.is_object()) {
    auto it = root.find("results");
    if (it == root.end() || !it->is_array()) {
      return InvalidField("results", "must be an array of predictions");
    }
    results = &*it;
    prefix = "results";
    if (auto v = root.find("model_version"); v != root.end() && v->is_string())
      response_version = v->get<std::string>();
  } else if (!root.is_array()) {
    return InvalidField("body", "must be an object with \"results\"");
  }
  if (results->size() != expected_tasks) {
    return InvalidField(
        prefix.empty() ? "body" : prefix,
        absl::StrCat("has ", results->size(), " predictions for ",
                     expected_tasks, " tasks"));
  }
  std::vector<TaskPrediction> out;
  out.reserve(results->size());
  for (size_t i = 0; i < results->size(); ++i) {
    const json& p = (*results)[i];
    const std::string field = absl::StrCat(prefix, "[", i, "]");
    TS_RETURN_IF_ERROR(RequireObject(p, field));
    TaskPrediction pred;
    pred.model_version = response_version;
    if (auto v = p.find("model_version"); v != p.end() && v->is_string())
      pred.model_version = v->get<std::string>();
    if (auto s = p.find("score"); s != p.end() && s->is_number())
      pred.score = s->get<double>();
    auto items = p.find("result");
    if (items == p.end() || !items->is_array()) {
      return InvalidField(JoinField(field, "result"), "must be an array");
    }
    for (size_t j = 0; j < items->size(); ++j) {
      const json& r = (*items)[j];
      const std::string rfield =
          absl::StrCat(JoinField(field, "result"), "[", j, "]");
      TS_RETURN_IF_ERROR(RequireObject(r, rfield));
      if (r.value("type", "") != "rectanglelabels") continue;
      auto value = r.find("value");
      const std::string vfield = JoinField(rfield, "value");
      if (value == r.end() || !value->is_object()) {
        return InvalidField(vfield, "must be an object");
      }
      if (auto rot = value->find("rotation");
          rot != value->end() && rot->is_number() && rot->get<double>() != 0) {
        return InvalidField(JoinField(vfield, "rotation"),
                            "rotated boxes are not supported");
      }
      ImageSize size;
      auto ow = r.find("original_width"), oh = r.find("original_height");
      if (ow != r.end() && ow->is_number() && oh != r.end() &&
          oh->is_number()) {
        size = {ow->get<int>(), oh->get<int>()};
      } else if (i < sizes.size() && sizes[i]) {
        size = *sizes[i];
      }
      if (size.width <= 0 || size.height <= 0) {
        return InvalidField(JoinField(rfield, "original_width"),
                            "image size unknown: need original_width and "
                            "original_height (or the task's width/height)");
      }
      TS_ASSIGN_OR_RETURN(double x, Number(*value, "x", vfield));
      TS_ASSIGN_OR_RETURN(double y, Number(*value, "y", vfield));
      TS_ASSIGN_OR_RETURN(double w, Number(*value, "width", vfield));
      TS_ASSIGN_OR_RETURN(double h, Number(*value, "height", vfield));
      auto labels = value->find("rectanglelabels");
      if (labels == value->end() || !labels->is_array() || labels->empty() ||
          !(*labels)[0].is_string()) {
        return InvalidField(JoinField(vfield, "rectanglelabels"),
                            "must be a non-empty array of strings");
      }
      Detection d;
      d.label = (*labels)[0].get<std::string>();
      d.x = x * size.width / 100.0;
      d.y = y * size.height / 100.0;
      d.w = w * size.width / 100.0;
      d.h = h * size.height / 100.0;
      if (auto s = r.find("score"); s != r.end() && s->is_number()) {
        d.score = s->get<double>();
      } else {
        d.score = pred.score;
      }
      pred.boxes.push_back(std::move(d));
    }
    out.push_back(std::move(pred));
  }
  return out;
}

}  // namespace tessera::preannotate
