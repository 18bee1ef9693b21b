// Import request → source (see import_request.h).
#include "tessera/transfer/import_request.h"

#include "tessera/base/status.h"
#include "tessera/formats/convert.h"

namespace tessera::transfer {

absl::StatusOr<std::unique_ptr<service::ImportSource>> MakeImportSource(
    const ImportRequest& r) {
  const std::string& f = r.format;
  if (f == "auto" || f == "tasks" || f == "llm" || f == "oasst") {
    TextImportOptions text = r.text;
    TS_ASSIGN_OR_RETURN(text.format, ParseTextFormat(f, "format"));
    ReaderFactory open =
        r.body ? StringLines(r.body_name, r.body) : FileLines(r.input);
    return MakeTextSource(std::move(open), text);
  }
  if (f == "images") {
    if (r.body) {
      return InvalidField("format", "images are imported from a folder");
    }
    return MakeImageFolderSource(r.input, r.detection);
  }
  auto format = formats::ParseDetectionFormat(f);
  if (!format.ok()) {
    return InvalidField("format",
                        "must be auto, tasks, llm, oasst, images, yolo, coco, "
                        "voc or ls");
  }
  if (r.body) {
    return MakeDetectionSourceFromText(*format, *r.body, r.body_name,
                                       r.detection);
  }
  return MakeDetectionSource(*format, r.input, r.detection);
}

}  // namespace tessera::transfer
