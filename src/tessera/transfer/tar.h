// A FileTreeSink that writes a POSIX ustar archive to a byte sink: how a
// multi-file export (YOLO, VOC) travels over HTTP. Deterministic: fixed
// mode, owner and a zero mtime, files in the order written.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tessera/formats/detection.h"

namespace tessera::transfer {

class TarSink final : public formats::FileTreeSink {
 public:
  explicit TarSink(formats::ByteSink out) : out_(std::move(out)) {}
  // Paths are relative, '/'-separated, at most 255 bytes (split into the
  // ustar prefix and name at a '/').
  absl::Status WriteFile(absl::string_view relative_path,
                         absl::string_view contents) override;
  // Writes the two zero blocks that end an archive.
  absl::Status Finish();

 private:
  formats::ByteSink out_;
};

}  // namespace tessera::transfer
