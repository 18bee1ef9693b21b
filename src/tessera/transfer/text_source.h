// Import sources for JSONL files: Tessera's own task lines ({data, gold?,
// preannotation?}), LLM feedback records (prompt/response(s), chat,
// chosen/rejected) and OpenAssistant trees, read one line at a time.
#pragma once

#include <functional>
#include <istream>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/domain/types.h"
#include "tessera/formats/jsonl.h"
#include "tessera/formats/llm.h"
#include "tessera/formats/oasst.h"
#include "tessera/service/transfer.h"

namespace tessera::transfer {

// What each line is.
enum class TextFormat {
  kAuto,   // per line: {data,...} is a task, a tree is OpenAssistant, else LLM
  kTasks,  // {data, gold?, preannotation?: {result, model?, version?, score?}}
  kLlm,    // formats::LlmRecordToTasks
  kOasst,  // formats::OasstTreeToTasks
};
absl::StatusOr<TextFormat> ParseTextFormat(absl::string_view name,
                                           absl::string_view field);

struct TextImportOptions {
  TextFormat format = TextFormat::kAuto;
  formats::PairMode pair_mode = formats::PairMode::kAllPairs;
  bool oasst_skip_synthetic = false;
};

// A reader and, when it reads memory, the stream under it.
struct LineInput {
  std::unique_ptr<std::istream> stream;
  std::unique_ptr<formats::JsonlReader> reader;
};
// Opens the input from its start; called again on every Rewind.
using ReaderFactory = std::function<absl::StatusOr<LineInput>()>;
// A file on disk.
ReaderFactory FileLines(std::string path, formats::JsonlReaderOptions o = {});
// A request body held in memory; `name` prefixes errors ("body").
ReaderFactory StringLines(std::string name,
                          std::shared_ptr<const std::string> text,
                          formats::JsonlReaderOptions o = {});

// Tasks from the lines `open` yields, for the pool the import binds it to.
std::unique_ptr<service::ImportSource> MakeTextSource(
    ReaderFactory open, TextImportOptions options);

}  // namespace tessera::transfer
