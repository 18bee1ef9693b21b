// Pool exports (see exporters.h): one visitor per format family over
// Service::ExportPool's paged walk.
#include "tessera/transfer/exporters.h"

#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tessera/base/status.h"
#include "tessera/formats/coco.h"
#include "tessera/formats/labelstudio.h"
#include "tessera/formats/llm.h"
#include "tessera/formats/voc.h"
#include "tessera/formats/yolo.h"
#include "tessera/service/internal/access.h"

namespace tessera::transfer {
namespace {

using domain::TaskType;
using nlohmann::json;
using service::ExportHeader;
using service::ExportTask;
using service::internal::ParseStored;
using service::internal::PreannotationJson;

std::string Pseudonym(UserId id) { return absl::StrCat("a", id.value); }

std::vector<std::string> Strings(const json& config, const char* key) {
  std::vector<std::string> out;
  if (!config.is_object() || !config.contains(key)) return out;
  for (const json& v : config[key]) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string Str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// Writes a std::string buffer through a ByteSink in large pieces.
class Buffered {
 public:
  explicit Buffered(formats::ByteSink sink) : sink_(std::move(sink)) {}
  absl::Status Flush() {
    if (buf_.empty()) return absl::OkStatus();
    absl::Status s = sink_(buf_);
    buf_.clear();
    return s;
  }
  absl::Status Maybe() {
    return buf_.size() >= (1 << 16) ? Flush() : absl::OkStatus();
  }
  std::string& buf() { return buf_; }

 private:
  formats::ByteSink sink_;
  std::string buf_;
};

// An std::ostream over a ByteSink (the LLM writers take streams).
class SinkStreamBuf final : public std::streambuf {
 public:
  explicit SinkStreamBuf(formats::ByteSink sink) : out_(std::move(sink)) {}
  absl::Status status() const { return status_; }
  absl::Status Finish() {
    TS_RETURN_IF_ERROR(status_);
    return out_.Flush();
  }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    out_.buf().append(s, static_cast<size_t>(n));
    if (absl::Status st = out_.Maybe(); !st.ok()) {
      status_ = st;
      return 0;
    }
    return n;
  }
  int_type overflow(int_type c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    char ch = static_cast<char>(c);
    return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
  }

 private:
  Buffered out_;
  absl::Status status_;
};

json DraftsJson(const std::vector<domain::Preannotation>& drafts) {
  json list = json::array();
  for (const auto& d : drafts) list.push_back(PreannotationJson(d));
  return list;
}

// ------------------------------------------------------------- jsonl

absl::StatusOr<ExportSummary> ExportJsonl(
    service::Service& svc, const std::optional<service::Principal>& actor,
    PoolId pool, const ExportSpec& spec, formats::ByteSink bytes) {
  ExportSummary sum;
  Buffered out(std::move(bytes));
  service::ExportOptions options;
  options.aggregated = spec.mode == ExportMode::kAggregated;
  options.drafts =
      spec.include_preannotations || spec.mode == ExportMode::kPreannotations;
  auto line = [&](json j) -> absl::Status {
    out.buf() += j.dump(-1, ' ', false, json::error_handler_t::replace);
    out.buf() += '\n';
    ++sum.records;
    return out.Maybe();
  };
  TS_RETURN_IF_ERROR(svc.ExportPool(
      actor, pool, options,
      [](const ExportHeader&) { return absl::OkStatus(); },
      [&](const ExportTask& t) -> absl::Status {
        ++sum.tasks;
        json drafts;
        if (options.drafts) drafts = DraftsJson(t.drafts);
        switch (spec.mode) {
          case ExportMode::kRaw:
            for (const auto& r : t.accepted) {
              json j = {{"task_id", t.task.id.value},
                        {"submission_id", r.submission_id.value},
                        {"annotator", Pseudonym(r.annotator_id)},
                        {"round", r.round},
                        {"data", t.data},
                        {"result", ParseStored(r.result_json)}};
              if (spec.include_preannotations) j["preannotations"] = drafts;
              TS_RETURN_IF_ERROR(line(std::move(j)));
            }
            return absl::OkStatus();
          case ExportMode::kAggregated: {
            if (t.inferred == nullptr) return absl::OkStatus();
            json j = {{"task_id", t.task.id.value},
                      {"data", t.data},
                      {"answer", *t.inferred}};
            j["answer"].erase("task_id");
            if (spec.include_preannotations) j["preannotations"] = drafts;
            return line(std::move(j));
          }
          case ExportMode::kGold: {
            if (!t.task.gold_json) return absl::OkStatus();
            json j = {{"task_id", t.task.id.value},
                      {"data", t.data},
                      {"gold", ParseStored(*t.task.gold_json)}};
            if (spec.include_preannotations) j["preannotations"] = drafts;
            return line(std::move(j));
          }
          case ExportMode::kPreannotations:
            if (t.drafts.empty()) return absl::OkStatus();
            return line({{"task_id", t.task.id.value},
                         {"data", t.data},
                         {"preannotations", drafts}});
        }
        return absl::OkStatus();
      }));
  TS_RETURN_IF_ERROR(out.Flush());
  return sum;
}

// --------------------------------------------------------- detection

std::vector<formats::Box> BoxesOf(const json& result, const char* score_key) {
  std::vector<formats::Box> out;
  if (!result.is_object() || !result.contains("boxes")) return out;
  for (const json& b : result["boxes"]) {
    if (!b.is_object()) continue;
    formats::Box box;
    box.label = Str(b, "label");
    box.x = b.value("x", 0.0);
    box.y = b.value("y", 0.0);
    box.w = b.value("w", 0.0);
    box.h = b.value("h", 0.0);
    if (score_key != nullptr && b.contains(score_key) &&
        b[score_key].is_number()) {
      box.score = b[score_key].get<double>();
    }
    out.push_back(std::move(box));
  }
  return out;
}

std::vector<formats::Box> DraftBoxes(
    const std::vector<domain::Preannotation>& drafts) {
  std::vector<formats::Box> out;
  for (const auto& d : drafts) {
    for (formats::Box& b : BoxesOf(ParseStored(d.result_json), "score")) {
      if (!b.score && d.score) b.score = d.score;
      out.push_back(std::move(b));
    }
  }
  return out;
}

absl::StatusOr<ExportSummary> ExportDetections(
    service::Service& svc, const std::optional<service::Principal>& actor,
    PoolId pool, const ExportSpec& spec, formats::ByteSink bytes,
    formats::FileTreeSink* files) {
  ExportSummary sum;
  std::unique_ptr<formats::DetectionWriter> writer;
  switch (spec.format) {
    case ExportFormat::kCoco:
      writer = formats::MakeCocoWriter(bytes);
      break;
    case ExportFormat::kLabelStudio:
      writer = formats::MakeLabelStudioWriter(bytes);
      break;
    case ExportFormat::kYolo:
      writer = formats::MakeYoloWriter(*files);
      break;
    case ExportFormat::kVoc:
      writer = formats::MakeVocWriter(*files);
      break;
    default:
      return absl::InternalError("not a detection format");
  }
  service::ExportOptions options;
  options.aggregated = spec.mode == ExportMode::kAggregated;
  options.drafts =
      spec.include_preannotations || spec.mode == ExportMode::kPreannotations;
  formats::DetectionImage image;
  TS_RETURN_IF_ERROR(svc.ExportPool(
      actor, pool, options,
      [&](const ExportHeader& h) -> absl::Status {
        if (h.pool.task_type != TaskType::kBbox) {
          return InvalidField("format", absl::StrCat(FormatName(spec.format),
                                                     " needs a bbox pool"));
        }
        return writer->Begin(Strings(h.config, "labels"));
      },
      [&](const ExportTask& t) -> absl::Status {
        ++sum.tasks;
        image = formats::DetectionImage{};
        image.file = ExportImagePath(Str(t.data, "image"));
        image.width = t.data.value("width", 0);
        image.height = t.data.value("height", 0);
        switch (spec.mode) {
          case ExportMode::kRaw:
            if (t.accepted.empty()) return absl::OkStatus();
            for (const auto& r : t.accepted) {
              for (formats::Box& b :
                   BoxesOf(ParseStored(r.result_json), nullptr)) {
                image.boxes.push_back(std::move(b));
              }
            }
            break;
          case ExportMode::kAggregated:
            if (t.inferred == nullptr) return absl::OkStatus();
            image.boxes = BoxesOf(*t.inferred, "confidence");
            break;
          case ExportMode::kGold:
            if (!t.task.gold_json) return absl::OkStatus();
            image.boxes = BoxesOf(ParseStored(*t.task.gold_json), nullptr);
            break;
          case ExportMode::kPreannotations:
            if (t.drafts.empty()) return absl::OkStatus();
            image.boxes = DraftBoxes(t.drafts);
            break;
        }
        if (spec.include_preannotations &&
            spec.mode != ExportMode::kPreannotations) {
          image.predictions = DraftBoxes(t.drafts);
        }
        ++sum.records;
        return writer->Add(image);
      }));
  TS_RETURN_IF_ERROR(writer->Finish());
  return sum;
}

// --------------------------------------------------------------- LLM

std::string Text(const json& result) { return Str(result, "text"); }

// Pairwise answer → a row (choice from a result or gold).
formats::PairRow PairFrom(const ExportTask& t, absl::string_view choice) {
  formats::PairRow row;
  row.task_id = t.task.id.value;
  row.prompt = Str(t.data, "prompt");
  const json& rs = t.data.value("responses", json::array());
  if (rs.size() == 2) {
    row.response_a = rs[0].is_string() ? rs[0].get<std::string>() : "";
    row.response_b = rs[1].is_string() ? rs[1].get<std::string>() : "";
  }
  row.choice = choice == "a"   ? formats::Choice::kA
               : choice == "b" ? formats::Choice::kB
                               : formats::Choice::kTie;
  return row;
}

std::vector<formats::ChatMessage> Context(const json& data) {
  std::vector<formats::ChatMessage> out;
  if (!data.contains("messages") || !data["messages"].is_array()) return out;
  for (const json& m : data["messages"]) {
    out.push_back({Str(m, "role"), Str(m, "content")});
  }
  return out;
}

formats::RatingRow RatingFrom(const ExportTask& t, const json& scores) {
  formats::RatingRow row;
  row.task_id = t.task.id.value;
  row.prompt = Str(t.data, "prompt");
  row.response = Str(t.data, "response");
  if (scores.is_object()) {
    for (const auto& [k, v] : scores.items()) {
      if (v.is_number()) row.scores.emplace_back(k, v.get<double>());
    }
  }
  return row;
}

absl::StatusOr<ExportSummary> ExportLlm(
    service::Service& svc, const std::optional<service::Principal>& actor,
    PoolId pool, const ExportSpec& spec, formats::ByteSink bytes) {
  ExportSummary sum;
  SinkStreamBuf buf(std::move(bytes));
  std::ostream os(&buf);
  std::optional<formats::PreferencePairWriter> dpo;
  std::optional<formats::SftWriter> sft;
  std::optional<formats::RatingJsonlWriter> rjsonl;
  std::optional<formats::RatingCsvWriter> rcsv;
  service::ExportOptions options;
  options.aggregated = spec.mode == ExportMode::kAggregated;
  if (spec.mode == ExportMode::kPreannotations) {
    return InvalidField("mode",
                        "preannotations exports are for jsonl and image "
                        "formats");
  }
  TS_RETURN_IF_ERROR(svc.ExportPool(
      actor, pool, options,
      [&](const ExportHeader& h) -> absl::Status {
        TaskType type = h.pool.task_type;
        switch (spec.format) {
          case ExportFormat::kDpo:
            if (type != TaskType::kPairwise) {
              return InvalidField("format", "dpo needs a pairwise pool");
            }
            dpo.emplace(os);
            break;
          case ExportFormat::kSft:
            if (type != TaskType::kRewrite && type != TaskType::kReference) {
              return InvalidField("format",
                                  "sft needs a rewrite or reference pool");
            }
            sft.emplace(os);
            break;
          case ExportFormat::kRatingsJsonl:
          case ExportFormat::kRatingsCsv:
            if (type != TaskType::kRating) {
              return InvalidField("format",
                                  absl::StrCat(FormatName(spec.format),
                                               " needs a rating "
                                               "pool"));
            }
            if (spec.format == ExportFormat::kRatingsCsv) {
              rcsv.emplace(os, Strings(h.config, "criteria"));
            } else {
              rjsonl.emplace(os);
            }
            break;
          default:
            return absl::InternalError("not an LLM format");
        }
        return absl::OkStatus();
      },
      [&](const ExportTask& t) -> absl::Status {
        ++sum.tasks;
        auto write_rating = [&](const formats::RatingRow& row) {
          ++sum.records;
          return rcsv ? rcsv->Write(row) : rjsonl->Write(row);
        };
        if (dpo) {
          if (spec.mode == ExportMode::kRaw) {
            for (const auto& r : t.accepted) {
              json result = ParseStored(r.result_json);
              formats::PairRow row = PairFrom(t, Str(result, "choice"));
              row.annotators = 1;
              row.annotator = Pseudonym(r.annotator_id);
              row.round = r.round;
              TS_RETURN_IF_ERROR(dpo->Write(row));
            }
          } else if (spec.mode == ExportMode::kGold) {
            if (!t.task.gold_json) return absl::OkStatus();
            formats::PairRow row =
                PairFrom(t, Str(ParseStored(*t.task.gold_json), "choice"));
            TS_RETURN_IF_ERROR(dpo->Write(row));
          } else if (t.inferred != nullptr) {
            const json& inf = *t.inferred;
            formats::PairRow row = PairFrom(t, Str(inf, "choice"));
            const json& post = inf.value("posterior", json::object());
            row.margin = std::abs(post.value("a", 0.0) - post.value("b", 0.0));
            if (inf.contains("confidence") && inf["confidence"].is_number()) {
              row.confidence = inf["confidence"].get<double>();
            }
            row.annotators = inf.value("answers", int64_t{0});
            TS_RETURN_IF_ERROR(dpo->Write(row));
          }
          return buf.status();
        }
        if (sft) {
          auto write = [&](const std::string& text, const char* source,
                           std::optional<std::string> who,
                           std::optional<int64_t> round) {
            formats::SftRow row;
            row.task_id = t.task.id.value;
            row.context = Context(t.data);
            row.prompt = Str(t.data, "prompt");
            row.completion = text;
            row.source = source;
            row.annotator = std::move(who);
            row.round = round;
            ++sum.records;
            return sft->Write(row);
          };
          const char* source =
              t.data.contains("response") ? "rewrite" : "reference";
          if (spec.mode == ExportMode::kGold) {
            if (!t.task.gold_json) return absl::OkStatus();
            return write(Text(ParseStored(*t.task.gold_json)), source,
                         std::nullopt, std::nullopt);
          }
          // Aggregated: free text has no inference; the first accepted
          // answer stands for the task.
          for (const auto& r : t.accepted) {
            TS_RETURN_IF_ERROR(write(Text(ParseStored(r.result_json)), source,
                                     Pseudonym(r.annotator_id), r.round));
            if (spec.mode == ExportMode::kAggregated) break;
          }
          return buf.status();
        }
        // Ratings.
        if (spec.mode == ExportMode::kRaw) {
          for (const auto& r : t.accepted) {
            json result = ParseStored(r.result_json);
            formats::RatingRow row =
                RatingFrom(t, result.value("scores", json::object()));
            if (result.contains("rationale") &&
                result["rationale"].is_string()) {
              row.rationale = result["rationale"].get<std::string>();
            }
            row.annotators = 1;
            row.annotator = Pseudonym(r.annotator_id);
            row.round = r.round;
            TS_RETURN_IF_ERROR(write_rating(row));
          }
        } else if (spec.mode == ExportMode::kGold) {
          if (!t.task.gold_json) return absl::OkStatus();
          json gold = ParseStored(*t.task.gold_json);
          TS_RETURN_IF_ERROR(write_rating(
              RatingFrom(t, gold.value("scores", json::object()))));
        } else if (t.inferred != nullptr) {
          formats::RatingRow row =
              RatingFrom(t, t.inferred->value("scores", json::object()));
          row.annotators = t.inferred->value("ratings", int64_t{0});
          if (t.inferred->contains("confidence") &&
              (*t.inferred)["confidence"].is_number()) {
            row.confidence = (*t.inferred)["confidence"].get<double>();
          }
          TS_RETURN_IF_ERROR(write_rating(row));
        }
        return buf.status();
      }));
  if (rcsv) TS_RETURN_IF_ERROR(rcsv->Finish());
  os.flush();
  TS_RETURN_IF_ERROR(buf.Finish());
  if (dpo) {
    sum.records = dpo->written();
    sum.skipped = dpo->skipped_ties();
  }
  return sum;
}

}  // namespace

absl::StatusOr<ExportSpec> ParseExportSpec(absl::string_view format,
                                           absl::string_view mode,
                                           bool include_preannotations) {
  ExportSpec spec;
  spec.include_preannotations = include_preannotations;
  static constexpr std::pair<const char*, ExportFormat> kFormats[] = {
      {"jsonl", ExportFormat::kJsonl},
      {"coco", ExportFormat::kCoco},
      {"yolo", ExportFormat::kYolo},
      {"voc", ExportFormat::kVoc},
      {"ls", ExportFormat::kLabelStudio},
      {"dpo", ExportFormat::kDpo},
      {"sft", ExportFormat::kSft},
      {"ratings-jsonl", ExportFormat::kRatingsJsonl},
      {"ratings-csv", ExportFormat::kRatingsCsv},
  };
  bool found = false;
  for (const auto& [name, f] : kFormats) {
    if (format == name) {
      spec.format = f;
      found = true;
    }
  }
  if (!found) {
    return InvalidField("format",
                        "must be jsonl, coco, yolo, voc, ls, dpo, sft, "
                        "ratings-jsonl or ratings-csv");
  }
  if (mode == "raw") {
    spec.mode = ExportMode::kRaw;
  } else if (mode == "aggregated") {
    spec.mode = ExportMode::kAggregated;
  } else if (mode == "gold") {
    spec.mode = ExportMode::kGold;
  } else if (mode == "preannotations") {
    spec.mode = ExportMode::kPreannotations;
  } else {
    return InvalidField("mode",
                        "must be raw, aggregated, gold or "
                        "preannotations");
  }
  return spec;
}

absl::string_view FormatName(ExportFormat format) {
  switch (format) {
    case ExportFormat::kJsonl:
      return "jsonl";
    case ExportFormat::kCoco:
      return "coco";
    case ExportFormat::kYolo:
      return "yolo";
    case ExportFormat::kVoc:
      return "voc";
    case ExportFormat::kLabelStudio:
      return "ls";
    case ExportFormat::kDpo:
      return "dpo";
    case ExportFormat::kSft:
      return "sft";
    case ExportFormat::kRatingsJsonl:
      return "ratings-jsonl";
    case ExportFormat::kRatingsCsv:
      return "ratings-csv";
  }
  return "?";
}

bool IsMultiFile(ExportFormat format) {
  return format == ExportFormat::kYolo || format == ExportFormat::kVoc;
}

absl::string_view ContentType(ExportFormat format) {
  switch (format) {
    case ExportFormat::kCoco:
    case ExportFormat::kLabelStudio:
      return "application/json";
    case ExportFormat::kYolo:
    case ExportFormat::kVoc:
      return "application/x-tar";
    case ExportFormat::kRatingsCsv:
      return "text/csv; charset=utf-8";
    default:
      return "application/x-ndjson";
  }
}

absl::string_view FileExtension(ExportFormat format) {
  switch (format) {
    case ExportFormat::kCoco:
    case ExportFormat::kLabelStudio:
      return ".json";
    case ExportFormat::kYolo:
    case ExportFormat::kVoc:
      return ".tar";
    case ExportFormat::kRatingsCsv:
      return ".csv";
    default:
      return ".jsonl";
  }
}

std::string ExportImagePath(absl::string_view image) {
  if (absl::StartsWith(image, "images/")) {
    return std::string(image.substr(7));
  }
  size_t at = image.rfind("/images/");
  if (at == absl::string_view::npos) return std::string(image);
  return std::string(image.substr(at + 8));
}

absl::StatusOr<ExportSummary> ExportPool(
    service::Service& svc, const std::optional<service::Principal>& actor,
    PoolId pool, const ExportSpec& spec, formats::ByteSink bytes,
    formats::FileTreeSink* files) {
  switch (spec.format) {
    case ExportFormat::kJsonl:
      return ExportJsonl(svc, actor, pool, spec, std::move(bytes));
    case ExportFormat::kCoco:
    case ExportFormat::kYolo:
    case ExportFormat::kVoc:
    case ExportFormat::kLabelStudio:
      if (IsMultiFile(spec.format) && files == nullptr) {
        return absl::InternalError("multi-file export without a file sink");
      }
      return ExportDetections(svc, actor, pool, spec, std::move(bytes), files);
    default:
      return ExportLlm(svc, actor, pool, spec, std::move(bytes));
  }
}

}  // namespace tessera::transfer
