// JSONL import sources (see text_source.h).
#include "tessera/transfer/text_source.h"

#include <deque>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tessera/base/status.h"

namespace tessera::transfer {
namespace {

using nlohmann::json;

class TextSource final : public service::ImportSource {
 public:
  TextSource(ReaderFactory open, TextImportOptions options)
      : open_(std::move(open)), options_(options) {}

  absl::Status Bind(const domain::Pool& pool, const json&) override {
    type_ = pool.task_type;
    return absl::OkStatus();
  }

  absl::Status Rewind() override {
    pending_.clear();
    reader_ = nullptr;
    TS_ASSIGN_OR_RETURN(input_, open_());
    reader_ = input_.reader.get();
    return absl::OkStatus();
  }

  absl::StatusOr<bool> Next(service::ImportItem& item) override {
    if (reader_ == nullptr) TS_RETURN_IF_ERROR(Rewind());
    while (pending_.empty()) {
      TS_ASSIGN_OR_RETURN(std::optional<formats::JsonlLine> line,
                          reader_->Next());
      if (!line) return false;
      TS_RETURN_IF_ERROR(Expand(*line));
    }
    item = std::move(pending_.front());
    pending_.pop_front();
    return true;
  }

 private:
  // Turns one line into zero or more items in pending_.
  absl::Status Expand(const formats::JsonlLine& line) {
    const std::string& name = reader_->name();
    TS_ASSIGN_OR_RETURN(json record, formats::ParseJsonObjectLine(name, line));
    std::string where = absl::StrCat(name, ":", line.number);
    TextFormat format = options_.format;
    if (format == TextFormat::kAuto) {
      if (record.contains("data")) {
        format = TextFormat::kTasks;
      } else if (record.contains("message_tree_id") &&
                 record.value("prompt", json()).is_object()) {
        format = TextFormat::kOasst;
      } else {
        format = TextFormat::kLlm;
      }
    }
    std::vector<formats::ImportedTask> tasks;
    switch (format) {
      case TextFormat::kTasks:
        return AddTaskLine(std::move(record), where, name, line.number);
      case TextFormat::kLlm: {
        formats::LlmImportOptions o;
        o.type = type_;
        o.pair_mode = options_.pair_mode;
        auto made = formats::LlmRecordToTasks(record, o);
        if (!made.ok())
          return formats::AtLine(name, line.number, made.status());
        tasks = std::move(*made);
        break;
      }
      case TextFormat::kOasst: {
        formats::OasstOptions o;
        o.type = type_;
        o.pair_mode = options_.pair_mode;
        o.skip_synthetic = options_.oasst_skip_synthetic;
        auto made = formats::OasstTreeToTasks(record, o);
        if (!made.ok())
          return formats::AtLine(name, line.number, made.status());
        tasks = std::move(made->tasks);
        break;
      }
      case TextFormat::kAuto:
        break;
    }
    for (formats::ImportedTask& t : tasks) {
      service::ImportItem item;
      item.where = where;
      item.data = std::move(t.data);
      item.gold = std::move(t.gold);
      pending_.push_back(std::move(item));
    }
    return absl::OkStatus();
  }

  absl::Status AddTaskLine(json record, const std::string& where,
                           const std::string& name, int64_t number) {
    service::ImportItem item;
    item.where = where;
    auto data = record.find("data");
    if (data == record.end() || !data->is_object()) {
      return formats::LineError(name, number, "data", "must be an object");
    }
    item.data = std::move(*data);
    if (auto g = record.find("gold"); g != record.end() && !g->is_null()) {
      item.gold = std::move(*g);
    }
    auto pre = record.find("preannotation");
    if (pre != record.end() && !pre->is_null()) {
      if (!pre->is_object() || !pre->contains("result")) {
        return formats::LineError(name, number, "preannotation",
                                  "must be an object with a result");
      }
      item.draft = (*pre)["result"];
      if (pre->contains("model") && (*pre)["model"].is_string()) {
        item.draft_model = (*pre)["model"].get<std::string>();
      }
      if (pre->contains("version") && (*pre)["version"].is_string()) {
        item.draft_version = (*pre)["version"].get<std::string>();
      }
      if (pre->contains("score") && (*pre)["score"].is_number()) {
        item.draft_score = (*pre)["score"].get<double>();
      }
    }
    pending_.push_back(std::move(item));
    return absl::OkStatus();
  }

  ReaderFactory open_;
  domain::TaskType type_ = domain::TaskType::kClassify;
  TextImportOptions options_;
  LineInput input_;
  formats::JsonlReader* reader_ = nullptr;  // input_.reader
  std::deque<service::ImportItem> pending_;
};

}  // namespace

absl::StatusOr<TextFormat> ParseTextFormat(absl::string_view name,
                                           absl::string_view field) {
  if (name == "auto") return TextFormat::kAuto;
  if (name == "tasks") return TextFormat::kTasks;
  if (name == "llm") return TextFormat::kLlm;
  if (name == "oasst") return TextFormat::kOasst;
  return InvalidField(field, "must be auto, tasks, llm or oasst");
}

ReaderFactory FileLines(std::string path, formats::JsonlReaderOptions o) {
  return [path = std::move(path), o]() -> absl::StatusOr<LineInput> {
    LineInput in;
    TS_ASSIGN_OR_RETURN(in.reader, formats::JsonlReader::Open(path, o));
    return in;
  };
}

ReaderFactory StringLines(std::string name,
                          std::shared_ptr<const std::string> text,
                          formats::JsonlReaderOptions o) {
  return [name = std::move(name), text = std::move(text),
          o]() -> absl::StatusOr<LineInput> {
    LineInput in;
    in.stream = std::make_unique<std::istringstream>(*text);
    in.reader = std::make_unique<formats::JsonlReader>(*in.stream, name, o);
    return in;
  };
}

std::unique_ptr<service::ImportSource> MakeTextSource(
    ReaderFactory open, TextImportOptions options) {
  return std::make_unique<TextSource>(std::move(open), options);
}

}  // namespace tessera::transfer
