// Import, export and convert commands (see transfer.h).
#include "tessera/cli/transfer.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tessera/base/status.h"
#include "tessera/formats/convert.h"
#include "tessera/formats/detection.h"
#include "tessera/transfer/exporters.h"

namespace tessera::cli {
namespace {

namespace fs = std::filesystem;

int Report(const absl::Status& s, std::ostream& err) {
  err << "tessera: " << s.message();
  // Codec errors already name their field in the message.
  if (auto f = FieldOf(s);
      f && !absl::StrContains(s.message(), absl::StrCat("(field ", *f, ")"))) {
    err << " (field " << *f << ")";
  }
  err << "\n";
  return s.code() == absl::StatusCode::kInvalidArgument ||
                 s.code() == absl::StatusCode::kNotFound ||
                 s.code() == absl::StatusCode::kFailedPrecondition ||
                 s.code() == absl::StatusCode::kAlreadyExists
             ? 2
             : 1;
}

}  // namespace

int RunImport(service::Service& service, ImportCommand c, std::ostream& out,
              std::ostream& err) {
  auto labels_as = transfer::ParseLabelsAs(c.labels_as, "labels-as");
  if (!labels_as.ok()) return Report(labels_as.status(), err);
  c.request.detection.labels_as = *labels_as;
  c.request.detection.skip_invalid = c.skip_invalid;
  if (c.pairs == "all") {
    c.request.text.pair_mode = formats::PairMode::kAllPairs;
  } else if (c.pairs == "adjacent") {
    c.request.text.pair_mode = formats::PairMode::kAdjacent;
  } else {
    return Report(InvalidField("pairs", "must be all or adjacent"), err);
  }
  auto source = transfer::MakeImportSource(c.request);
  if (!source.ok()) return Report(source.status(), err);
  service::ImportOptions options;
  options.skip_invalid = c.skip_invalid;
  options.dedupe = c.dedupe;
  auto report =
      service.ImportTasks(std::nullopt, PoolId(c.pool), **source, options);
  if (!report.ok()) return Report(report.status(), err);
  out << report->dump() << std::endl;
  return 0;
}

int RunExport(service::Service& service, const ExportCommand& c,
              std::ostream& out, std::ostream& err) {
  auto spec = transfer::ParseExportSpec(c.format, c.mode, c.preannotations);
  if (!spec.ok()) return Report(spec.status(), err);
  const bool multi = transfer::IsMultiFile(spec->format);
  if (multi && c.out_path == "-") {
    return Report(InvalidField("out", absl::StrCat(c.format,
                                                   " writes a folder: give "
                                                   "--out DIR")),
                  err);
  }
  // Written next to the target, renamed into place when complete.
  std::string tmp =
      c.out_path == "-" ? "" : absl::StrCat(c.out_path, ".tmp-", ::getpid());
  absl::StatusOr<transfer::ExportSummary> summary;
  if (multi) {
    std::unique_ptr<formats::FileTreeSink> dir =
        formats::MakeDirectorySink(tmp);
    summary = transfer::ExportPool(service, std::nullopt, PoolId(c.pool), *spec,
                                   formats::ByteSink(), dir.get());
  } else if (tmp.empty()) {
    summary = transfer::ExportPool(
        service, std::nullopt, PoolId(c.pool), *spec,
        [&out](absl::string_view bytes) {
          out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
          return out ? absl::OkStatus()
                     : absl::DataLossError("cannot write to standard output");
        },
        nullptr);
    out.flush();
  } else {
    auto file = formats::FileByteSink::Open(tmp);
    if (!file.ok()) return Report(file.status(), err);
    summary = transfer::ExportPool(service, std::nullopt, PoolId(c.pool), *spec,
                                   (*file)->sink(), nullptr);
    absl::Status closed = (*file)->Close();
    if (summary.ok() && !closed.ok()) summary = closed;
  }
  std::error_code ec;
  if (!summary.ok()) {
    if (!tmp.empty()) fs::remove_all(tmp, ec);
    return Report(summary.status(), err);
  }
  if (!tmp.empty()) {
    if (multi) fs::remove_all(c.out_path, ec);
    fs::rename(tmp, c.out_path, ec);
    if (ec) {
      fs::remove_all(tmp, ec);
      return Report(absl::InternalError(absl::StrCat(
                        "cannot write ", c.out_path, ": ", ec.message())),
                    err);
    }
  }
  err << "tessera: exported " << summary->records << " records from "
      << summary->tasks << " tasks (" << transfer::FormatName(spec->format)
      << ", " << c.mode << ")";
  if (summary->skipped > 0) err << ", skipped " << summary->skipped << " ties";
  err << "\n";
  return 0;
}

int RunConvert(const ConvertCommand& c, std::ostream& out, std::ostream& err) {
  formats::ConvertOptions o;
  auto from = formats::ParseDetectionFormat(c.from);
  if (!from.ok()) return Report(from.status(), err);
  auto to = formats::ParseDetectionFormat(c.to);
  if (!to.ok()) return Report(to.status(), err);
  o.from = *from;
  o.to = *to;
  o.input = c.input;
  o.output = c.output;
  o.classes_file = c.classes_file;
  o.images_dir = c.images_dir;
  o.skip_invalid = c.skip_invalid;
  auto report = formats::ConvertDetections(o);
  if (!report.ok()) return Report(report.status(), err);
  for (const std::string& w : report->warnings) {
    err << "tessera: warning: " << w << "\n";
  }
  out << "converted " << report->images << " images, " << report->boxes
      << " boxes (" << c.from << " -> " << c.to << ")" << std::endl;
  return 0;
}

}  // namespace tessera::cli
