// Offline detection format conversion: reader by format, then writer by
// format into a folder or file.
#include "tessera/formats/convert.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tessera/base/status.h"
#include "tessera/formats/coco.h"
#include "tessera/formats/labelstudio.h"
#include "tessera/formats/voc.h"
#include "tessera/formats/yolo.h"

namespace tessera::formats {

absl::StatusOr<DetectionFormat> ParseDetectionFormat(absl::string_view name) {
  if (name == "yolo") return DetectionFormat::kYolo;
  if (name == "coco") return DetectionFormat::kCoco;
  if (name == "voc") return DetectionFormat::kVoc;
  if (name == "ls" || name == "labelstudio") {
    return DetectionFormat::kLabelStudio;
  }
  return InvalidField("format",
                      absl::StrCat("unknown detection format \"", name,
                                   "\" (expected yolo, coco, voc or ls)"));
}

absl::string_view DetectionFormatName(DetectionFormat format) {
  switch (format) {
    case DetectionFormat::kYolo:
      return "yolo";
    case DetectionFormat::kCoco:
      return "coco";
    case DetectionFormat::kVoc:
      return "voc";
    case DetectionFormat::kLabelStudio:
      return "ls";
  }
  return "?";
}

absl::StatusOr<DetectionDataset> ReadDetections(DetectionFormat format,
                                                const std::string& input,
                                                const ReadOptions& options) {
  switch (format) {
    case DetectionFormat::kYolo:
      return ReadYolo(input, options);
    case DetectionFormat::kCoco:
      return ReadCoco(input, options);
    case DetectionFormat::kVoc:
      return ReadVoc(input, options);
    case DetectionFormat::kLabelStudio:
      return ReadLabelStudio(input, options);
  }
  return absl::InvalidArgumentError("unknown detection format");
}

absl::StatusOr<ConvertReport> ConvertDetections(const ConvertOptions& options) {
  if (options.input.empty() || options.output.empty()) {
    return absl::InvalidArgumentError("convert needs an input and an output");
  }
  ReadOptions read;
  read.classes_file = options.classes_file;
  read.images_dir = options.images_dir;
  read.skip_invalid = options.skip_invalid;
  TS_ASSIGN_OR_RETURN(DetectionDataset dataset,
                      ReadDetections(options.from, options.input, read));
  ConvertReport report;
  report.images = dataset.images.size();
  for (const DetectionImage& image : dataset.images) {
    report.boxes += image.boxes.size();
  }
  report.warnings = std::move(dataset.warnings);

  switch (options.to) {
    case DetectionFormat::kYolo:
    case DetectionFormat::kVoc: {
      std::unique_ptr<FileTreeSink> sink = MakeDirectorySink(options.output);
      std::unique_ptr<DetectionWriter> writer =
          options.to == DetectionFormat::kYolo ? MakeYoloWriter(*sink)
                                               : MakeVocWriter(*sink);
      TS_RETURN_IF_ERROR(WriteDataset(dataset, *writer));
      break;
    }
    case DetectionFormat::kCoco:
    case DetectionFormat::kLabelStudio: {
      TS_ASSIGN_OR_RETURN(std::unique_ptr<FileByteSink> file,
                          FileByteSink::Open(options.output));
      std::unique_ptr<DetectionWriter> writer =
          options.to == DetectionFormat::kCoco
              ? MakeCocoWriter(file->sink())
              : MakeLabelStudioWriter(file->sink());
      TS_RETURN_IF_ERROR(WriteDataset(dataset, *writer));
      TS_RETURN_IF_ERROR(file->Close());
      break;
    }
  }
  return report;
}

}  // namespace tessera::formats
