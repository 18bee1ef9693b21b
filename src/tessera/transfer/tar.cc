// ustar writer (see tar.h).
#include "tessera/transfer/tar.h"

#include <cstdio>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "tessera/base/status.h"

namespace tessera::transfer {
namespace {

constexpr size_t kBlock = 512;

// Writes `value` as a zero-padded octal field of `width` bytes (NUL last).
void Octal(char* field, size_t width, uint64_t value) {
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(value));
}

}  // namespace

absl::Status TarSink::WriteFile(absl::string_view path,
                                absl::string_view contents) {
  std::string name(path), prefix;
  if (name.empty() || name.front() == '/' ||
      name.find("..") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsafe archive path: ", path));
  }
  if (name.size() > 100) {
    size_t cut = name.rfind('/', 155);
    if (cut == std::string::npos || name.size() - cut - 1 > 100) {
      return absl::InvalidArgumentError(
          absl::StrCat("archive path too long: ", path));
    }
    prefix = name.substr(0, cut);
    name = name.substr(cut + 1);
  }
  char header[kBlock];
  std::memset(header, 0, sizeof header);
  std::memcpy(header, name.data(), name.size());
  Octal(header + 100, 8, 0644);
  Octal(header + 108, 8, 0);
  Octal(header + 116, 8, 0);
  Octal(header + 124, 12, contents.size());
  Octal(header + 136, 12, 0);
  header[156] = '0';
  std::memcpy(header + 257, "ustar", 6);
  std::memcpy(header + 263, "00", 2);
  std::memcpy(header + 345, prefix.data(), prefix.size());
  std::memset(header + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : header) sum += c;
  std::snprintf(header + 148, 8, "%06o", sum);
  header[155] = ' ';
  TS_RETURN_IF_ERROR(out_(absl::string_view(header, kBlock)));
  TS_RETURN_IF_ERROR(out_(contents));
  size_t pad = (kBlock - contents.size() % kBlock) % kBlock;
  static const char kZeros[kBlock] = {};
  if (pad > 0) TS_RETURN_IF_ERROR(out_(absl::string_view(kZeros, pad)));
  return absl::OkStatus();
}

absl::Status TarSink::Finish() {
  static const char kZeros[2 * kBlock] = {};
  return out_(absl::string_view(kZeros, sizeof kZeros));
}

}  // namespace tessera::transfer
