// Pool exports in the formats training code reads: COCO, YOLO, Pascal VOC and
// Label Studio for image pools; DPO preference pairs, SFT conversations and
// ratings (JSONL, CSV) for LLM pools; Tessera's own JSONL for any pool. Each
// in four modes (raw accepted work, aggregated answers, gold, drafts).
// Streamed: tasks are read in pages and written as they come.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/formats/detection.h"
#include "tessera/service/service.h"

namespace tessera::transfer {

enum class ExportFormat {
  kJsonl,         // any pool: Tessera's own lines
  kCoco,          // bbox: instances JSON
  kYolo,          // bbox: labels/*.txt + data.yaml (several files)
  kVoc,           // bbox: one XML per image + classes.txt (several files)
  kLabelStudio,   // bbox: Label Studio task JSON
  kDpo,           // pairwise: {prompt, chosen, rejected, ...} lines
  kSft,           // rewrite, reference: {messages: [...]} lines
  kRatingsJsonl,  // rating
  kRatingsCsv,    // rating
};

enum class ExportMode {
  kRaw,             // every accepted submission (annotator pseudonym, round)
  kAggregated,      // one answer per task from the quality engine
  kGold,            // the known answers the requester imported
  kPreannotations,  // the model drafts
};

struct ExportSpec {
  ExportFormat format = ExportFormat::kJsonl;
  ExportMode mode = ExportMode::kRaw;
  // Also carry drafts where the format has room (jsonl, Label Studio
  // predictions).
  bool include_preannotations = false;
};

// From the API's query or the CLI's flags; errors name `format` or `mode`.
absl::StatusOr<ExportSpec> ParseExportSpec(absl::string_view format,
                                           absl::string_view mode,
                                           bool include_preannotations);
absl::string_view FormatName(ExportFormat format);
// YOLO and VOC write several files (a directory, or a tar over HTTP).
bool IsMultiFile(ExportFormat format);
// The HTTP Content-Type and the file name extension of a single-file export
// (multi-file: of the tar archive).
absl::string_view ContentType(ExportFormat format);
absl::string_view FileExtension(ExportFormat format);

struct ExportSummary {
  int64_t tasks = 0;    // tasks read
  int64_t records = 0;  // lines, images or rows written
  int64_t skipped = 0;  // e.g. ties in a preference export
};

// Exports `pool` (see Service::ExportPool for who may). Single-file formats
// write to `bytes`; multi-file formats to `files`. A format that does not
// fit the pool's task type is kInvalidArgument naming `format`.
absl::StatusOr<ExportSummary> ExportPool(
    service::Service& service, const std::optional<service::Principal>& actor,
    PoolId pool, const ExportSpec& spec, formats::ByteSink bytes,
    formats::FileTreeSink* files);

// The file path an exported image gets: data.image after its last "images/"
// directory (Ultralytics' images/ ↔ labels/ layout), else all of it.
std::string ExportImagePath(absl::string_view image);

}  // namespace tessera::transfer
