// `tessera import`, `tessera export` and `tessera convert`: data in and out
// of a pool from the command line, and offline conversion between detection
// formats. The contract (flags, output) is in docs/cli.md.
#pragma once

#include <ostream>
#include <string>

#include "tessera/service/service.h"
#include "tessera/transfer/import_request.h"

namespace tessera::cli {

struct ImportCommand {
  int64_t pool = 0;
  transfer::ImportRequest request;  // format, input, options
  std::string labels_as = "gold";   // gold | preannotation
  std::string pairs = "all";        // all | adjacent
  bool skip_invalid = false;
  bool dedupe = false;
};
// Imports with the machine's trust (no acting user). Prints the report JSON
// to `out`; errors to `err` as "tessera: FILE:LINE: what (field F)". Exit
// status: 0 done, 2 bad input (nothing imported), 1 other failures.
int RunImport(service::Service& service, ImportCommand command,
              std::ostream& out, std::ostream& err);

struct ExportCommand {
  int64_t pool = 0;
  std::string format = "jsonl";
  std::string mode = "raw";
  bool preannotations = false;
  // A file ("-" = standard output) for single-file formats; a directory for
  // yolo and voc. Written to a temp name and renamed when complete.
  std::string out_path = "-";
};
// Prints a one-line summary to `err` (the data may be on `out`).
int RunExport(service::Service& service, const ExportCommand& command,
              std::ostream& out, std::ostream& err);

struct ConvertCommand {
  std::string from, to, input, output, classes_file, images_dir;
  bool skip_invalid = false;
};
int RunConvert(const ConvertCommand& command, std::ostream& out,
               std::ostream& err);

}  // namespace tessera::cli
