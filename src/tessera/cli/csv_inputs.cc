// Pairwise and box CSV readers: a small tokenizer over the whole file (string
// views into it, line numbers for errors), then dense arrays + interners.
#include "tessera/cli/csv_inputs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tessera/algo/internal/csv_tokenizer.h"

namespace tessera::cli {
namespace {

using algo::internal::Tokenizer;

absl::Status Error(absl::string_view file, int64_t line,
                   absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(file, ":", line, ": ", what));
}

// Column positions by name; -1 when absent.
struct Header {
  size_t count = 0;
  std::vector<int> index;  // parallel to the names asked for
};

// Reads the header row and finds `required` (all must be present) and
// `optional` columns, in that order in Header::index.
absl::StatusOr<Header> ReadHeader(
    Tokenizer& tok, absl::string_view file,
    const std::vector<absl::string_view>& required,
    const std::vector<absl::string_view>& optional) {
  if (!tok.Next()) return Error(file, 1, "empty file: expected a header row");
  if (tok.bad_quote()) return Error(file, tok.line(), "malformed quoted field");
  const auto& f = tok.fields();
  Header h;
  h.count = f.size();
  std::vector<std::string> missing;
  auto find = [&](absl::string_view name) {
    for (size_t i = 0; i < f.size(); ++i) {
      if (f[i] == name) return static_cast<int>(i);
    }
    return -1;
  };
  for (absl::string_view name : required) {
    h.index.push_back(find(name));
    if (h.index.back() < 0) missing.emplace_back(name);
  }
  for (absl::string_view name : optional) h.index.push_back(find(name));
  if (!missing.empty()) {
    return Error(
        file, tok.line(),
        absl::StrCat("missing column(s) ", absl::StrJoin(missing, ", "),
                     " in header (expected ", absl::StrJoin(required, ","),
                     ")"));
  }
  return h;
}

absl::Status CheckRow(const Tokenizer& tok, absl::string_view file,
                      const Header& h) {
  if (tok.bad_quote()) return Error(file, tok.line(), "malformed quoted field");
  if (tok.fields().size() != h.count) {
    return Error(file, tok.line(),
                 absl::StrCat("ragged row: expected ", h.count,
                              " fields, found ", tok.fields().size()));
  }
  return absl::OkStatus();
}

absl::Status NonEmpty(const Tokenizer& tok, absl::string_view file,
                      absl::string_view value, absl::string_view column) {
  if (value.empty())
    return Error(file, tok.line(), absl::StrCat("empty ", column));
  return absl::OkStatus();
}

bool ParseDouble(absl::string_view s, double& out) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b < e && *b == '+') ++b;
  auto [ptr, ec] = std::from_chars(b, e, out);
  return b < e && ec == std::errc() && ptr == e && std::isfinite(out);
}

// Reads the four coordinate fields at `cols[0..3]`. Sets `has_box` false
// when all four are empty.
absl::Status ReadCoordinates(const Tokenizer& tok, absl::string_view file,
                             const int* cols, algo::Box& box, bool& has_box) {
  static constexpr absl::string_view kNames[4] = {"x1", "y1", "x2", "y2"};
  const auto& f = tok.fields();
  int empty = 0;
  for (int i = 0; i < 4; ++i) empty += f[cols[i]].empty() ? 1 : 0;
  has_box = empty == 0;
  if (empty == 4) return absl::OkStatus();
  if (empty > 0) {
    return Error(file, tok.line(),
                 "some coordinates are empty: give all four, or none for "
                 "\"no box\"");
  }
  double v[4];
  for (int i = 0; i < 4; ++i) {
    if (!ParseDouble(f[cols[i]], v[i])) {
      return Error(file, tok.line(),
                   absl::StrCat(kNames[i], " '", std::string(f[cols[i]]),
                                "' is not a finite number"));
    }
  }
  box = {v[0], v[1], v[2], v[3]};
  return absl::OkStatus();
}

}  // namespace

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  return status.code() == absl::StatusCode::kInvalidArgument ||
                 status.code() == absl::StatusCode::kNotFound
             ? kExitBadInput
             : kExitFailure;
}

int ReportFailure(const absl::Status& status, std::ostream& err) {
  err << "tessera: " << status.message() << "\n";
  return ExitCodeFor(status);
}

absl::StatusOr<PairwiseLabels> ParsePairwiseLabels(absl::string_view content,
                                                   absl::string_view file,
                                                   algo::RepeatPolicy repeats) {
  Tokenizer tok(content);
  absl::StatusOr<Header> h =
      ReadHeader(tok, file, {"worker", "left", "right", "winner"}, {});
  if (!h.ok()) return h.status();
  const int cw = h->index[0], cl = h->index[1], cr = h->index[2],
            cx = h->index[3];
  PairwiseLabels out;
  algo::PairwiseData& d = out.data;
  // (worker, lower item, higher item) -> (outcome seen from the lower item,
  // line of the first answer).
  absl::flat_hash_map<std::tuple<int32_t, int32_t, int32_t>,
                      std::pair<algo::PairOutcome, int64_t>>
      seen;
  while (tok.Next()) {
    if (absl::Status s = CheckRow(tok, file, *h); !s.ok()) return s;
    const auto& f = tok.fields();
    for (auto [col, name] : {std::pair{cw, "worker"}, std::pair{cl, "left"},
                             std::pair{cr, "right"}, std::pair{cx, "winner"}}) {
      if (absl::Status s = NonEmpty(tok, file, f[col], name); !s.ok()) return s;
    }
    algo::PairOutcome outcome;
    if (f[cx] == "left") {
      outcome = algo::PairOutcome::kLeft;
    } else if (f[cx] == "right") {
      outcome = algo::PairOutcome::kRight;
    } else if (f[cx] == "tie") {
      outcome = algo::PairOutcome::kTie;
    } else {
      return Error(file, tok.line(),
                   absl::StrCat("winner '", std::string(f[cx]),
                                "' is not left, right or tie"));
    }
    if (f[cl] == f[cr]) {
      return Error(file, tok.line(),
                   absl::StrCat("item '", std::string(f[cl]),
                                "' is compared with itself"));
    }
    const int32_t w = out.workers.Intern(f[cw]);
    const int32_t a = out.items.Intern(f[cl]);
    const int32_t b = out.items.Intern(f[cr]);
    if (repeats == algo::RepeatPolicy::kRejectConflicts) {
      // The answer as seen from the lower-numbered item.
      algo::PairOutcome canon = outcome;
      if (a > b && outcome != algo::PairOutcome::kTie) {
        canon = outcome == algo::PairOutcome::kLeft ? algo::PairOutcome::kRight
                                                    : algo::PairOutcome::kLeft;
      }
      auto [it, fresh] =
          seen.try_emplace(std::make_tuple(w, std::min(a, b), std::max(a, b)),
                           canon, tok.line());
      if (!fresh) {
        if (it->second.first == canon) {
          ++out.duplicates_dropped;
          continue;
        }
        return Error(
            file, tok.line(),
            absl::StrCat("worker '", std::string(f[cw]), "' compares '",
                         std::string(f[cl]), "' and '", std::string(f[cr]),
                         "' again with a different answer (first on line ",
                         it->second.second, ")"));
      }
    }
    d.worker.push_back(w);
    d.left.push_back(a);
    d.right.push_back(b);
    d.outcome.push_back(outcome);
  }
  if (d.left.empty() && out.duplicates_dropped == 0)
    return Error(file, tok.line(), "no data rows after the header");
  d.num_items = out.items.size();
  d.num_workers = out.workers.size();
  return out;
}

absl::StatusOr<PairwiseLabels> ReadPairwiseLabels(const std::string& path,
                                                  algo::RepeatPolicy repeats) {
  absl::StatusOr<std::string> content = algo::ReadWholeFile(path);
  if (!content.ok()) return content.status();
  return ParsePairwiseLabels(*content, path, repeats);
}

absl::StatusOr<BoxLabels> ParseBoxLabels(absl::string_view content,
                                         absl::string_view file) {
  Tokenizer tok(content);
  absl::StatusOr<Header> h = ReadHeader(
      tok, file, {"image", "worker", "x1", "y1", "x2", "y2"}, {"label"});
  if (!h.ok()) return h.status();
  const int ci = h->index[0], cw = h->index[1], clabel = h->index[6];
  const int coords[4] = {h->index[2], h->index[3], h->index[4], h->index[5]};
  BoxLabels out;
  out.has_label_column = clabel >= 0;
  if (!out.has_label_column) out.labels.Intern("");
  algo::BoxAnnotations& d = out.data;
  while (tok.Next()) {
    if (absl::Status s = CheckRow(tok, file, *h); !s.ok()) return s;
    const auto& f = tok.fields();
    if (absl::Status s = NonEmpty(tok, file, f[ci], "image"); !s.ok()) return s;
    if (absl::Status s = NonEmpty(tok, file, f[cw], "worker"); !s.ok())
      return s;
    algo::Box box;
    bool has_box = false;
    if (absl::Status s = ReadCoordinates(tok, file, coords, box, has_box);
        !s.ok()) {
      return s;
    }
    ++out.rows;
    const int32_t img = out.images.Intern(f[ci]);
    const int32_t w = out.workers.Intern(f[cw]);
    if (!has_box) {
      d.view_image.push_back(img);
      d.view_worker.push_back(w);
      continue;
    }
    int32_t label = 0;
    if (out.has_label_column) {
      if (absl::Status s = NonEmpty(tok, file, f[clabel], "label on a box");
          !s.ok()) {
        return s;
      }
      label = out.labels.Intern(f[clabel]);
    }
    d.image.push_back(img);
    d.worker.push_back(w);
    d.label.push_back(label);
    d.box.push_back(box);
  }
  if (out.rows == 0)
    return Error(file, tok.line(), "no data rows after the header");
  d.num_images = out.images.size();
  d.num_workers = out.workers.size();
  d.num_labels = std::max(1, out.labels.size());
  return out;
}

absl::StatusOr<BoxLabels> ReadBoxLabels(const std::string& path) {
  absl::StatusOr<std::string> content = algo::ReadWholeFile(path);
  if (!content.ok()) return content.status();
  return ParseBoxLabels(*content, path);
}

absl::StatusOr<BoxTruth> ParseBoxTruth(absl::string_view content,
                                       absl::string_view file,
                                       BoxLabels& crowd) {
  Tokenizer tok(content);
  absl::StatusOr<Header> h =
      ReadHeader(tok, file, {"image", "x1", "y1", "x2", "y2"}, {"label"});
  if (!h.ok()) return h.status();
  const int ci = h->index[0], clabel = h->index[5];
  const int coords[4] = {h->index[1], h->index[2], h->index[3], h->index[4]};
  if ((clabel >= 0) != crowd.has_label_column) {
    return Error(file, tok.line(),
                 crowd.has_label_column
                     ? "the boxes file has a label column, the truth has none"
                     : "the truth has a label column, the boxes file has none");
  }
  BoxTruth out;
  int64_t rows = 0;
  while (tok.Next()) {
    if (absl::Status s = CheckRow(tok, file, *h); !s.ok()) return s;
    const auto& f = tok.fields();
    if (absl::Status s = NonEmpty(tok, file, f[ci], "image"); !s.ok()) return s;
    algo::Box box;
    bool has_box = false;
    if (absl::Status s = ReadCoordinates(tok, file, coords, box, has_box);
        !s.ok()) {
      return s;
    }
    ++rows;
    const int32_t img = crowd.images.Intern(f[ci]);
    out.images.push_back(img);
    if (!has_box) continue;
    int32_t label = 0;
    if (clabel >= 0) {
      if (absl::Status s = NonEmpty(tok, file, f[clabel], "label on a box");
          !s.ok()) {
        return s;
      }
      label = crowd.labels.Intern(f[clabel]);
    }
    out.boxes.image.push_back(img);
    out.boxes.label.push_back(label);
    out.boxes.box.push_back(box);
  }
  if (rows == 0)
    return Error(file, tok.line(), "no data rows after the header");
  std::sort(out.images.begin(), out.images.end());
  out.images.erase(std::unique(out.images.begin(), out.images.end()),
                   out.images.end());
  return out;
}

absl::StatusOr<BoxTruth> ReadBoxTruth(const std::string& path,
                                      BoxLabels& crowd) {
  absl::StatusOr<std::string> content = algo::ReadWholeFile(path);
  if (!content.ok()) return content.status();
  return ParseBoxTruth(*content, path, crowd);
}

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view content) {
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string base =
      slash == std::string::npos ? path : path.substr(slash + 1);
  std::string tmp = absl::StrCat(dir, ".", base, ".tmp.XXXXXX");
  const int fd = ::mkstemp(tmp.data());
  auto fail = [&](absl::string_view what, int err) {
    const std::string msg =
        absl::StrCat(path, ": ", what, ": ", std::strerror(err));
    return err == EACCES || err == EPERM || err == EROFS
               ? absl::PermissionDeniedError(msg)
               : absl::InternalError(msg);
  };
  if (fd < 0) return fail("cannot create", errno);
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail("write failed", err);
    }
    done += static_cast<size_t>(n);
  }
  // mkstemp creates the file 0600; results are ordinary files.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return fail("write failed", err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return fail("cannot rename the temporary file into place", err);
  }
  return absl::OkStatus();
}

void AppendCsvField(std::string& out, absl::string_view field) {
  if (field.find_first_of(",\"\r\n") == absl::string_view::npos) {
    out.append(field.data(), field.size());
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace tessera::cli
