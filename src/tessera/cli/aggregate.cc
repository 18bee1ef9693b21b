// `tessera aggregate`: parse (timed), run one algo/ method (timed), score
// against truth, then write --out atomically and print a summary or JSON.
#include "tessera/cli/aggregate.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tessera/algo/boxes.h"
#include "tessera/algo/categorical.h"
#include "tessera/algo/labels_csv.h"
#include "tessera/algo/numeric.h"
#include "tessera/algo/pairwise.h"
#include "tessera/cli/csv_inputs.h"

namespace tessera::cli {
namespace {

using Json = nlohmann::ordered_json;
using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

// What a run produced: the JSON report, the human summary and the --out CSV.
struct Outcome {
  Json json;
  std::string summary;
  std::string csv;
  int64_t csv_rows = 0;
};

absl::Status BadOption(absl::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

// Shortest text that reads back as the same double.
std::string Num(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

// A probability or rate for people: 4 decimals.
std::string Short(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.4f", v);
  return buf;
}

// A confidence in the --out CSV: 6 significant digits.
std::string Confidence(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

std::string Timing(double parse_seconds, double seconds) {
  char buf[128];
  std::snprintf(buf, sizeof(buf), "parse %.3f s, compute %.3f s", parse_seconds,
                seconds);
  return buf;
}

algo::LabelsCsvOptions CsvOptions(const AggregateOptions& o) {
  algo::LabelsCsvOptions c;
  c.repeats = o.keep_repeats ? algo::RepeatPolicy::kKeepAll
                             : algo::RepeatPolicy::kRejectConflicts;
  return c;
}

// ---- categorical ----------------------------------------------------------

absl::StatusOr<Outcome> Categorical(const AggregateOptions& o) {
  std::optional<algo::CategoricalMethod> method =
      o.method.empty() ? algo::CategoricalMethod::kBest
                       : algo::ParseCategoricalMethod(o.method);
  if (!method) {
    return BadOption(absl::StrCat(
        "unknown --method '", o.method,
        "' for --kind categorical (expected best, mv, wawa, ds, ocds, glad or "
        "mace)"));
  }
  const auto t0 = SteadyClock::now();
  absl::StatusOr<algo::CategoricalLabels> labels =
      algo::ReadCategoricalLabels(o.labels_path, CsvOptions(o));
  if (!labels.ok()) return labels.status();
  std::optional<std::vector<int32_t>> truth;
  if (!o.truth_path.empty()) {
    absl::StatusOr<std::vector<int32_t>> t = algo::ReadCategoricalTruth(
        o.truth_path, labels->items, labels->classes);
    if (!t.ok()) return t.status();
    truth = std::move(*t);
  }
  const double parse_seconds = SecondsSince(t0);
  const algo::CategoricalData& d = labels->data;
  const auto t1 = SteadyClock::now();
  const algo::CategoricalResult r = algo::RunCategorical(*method, d, o.threads);
  const double seconds = SecondsSince(t1);

  Outcome out;
  const std::string name(algo::CategoricalMethodName(*method));
  out.json["kind"] = "categorical";
  out.json["method"] = name;
  out.json["items"] = d.num_items;
  out.json["workers"] = d.num_workers;
  out.json["labels"] = d.size();
  out.json["classes"] = d.num_classes;
  out.json["duplicates_dropped"] = labels->duplicates_dropped;
  absl::StrAppend(&out.summary, "categorical labels: ", d.num_items, " items, ",
                  d.num_workers, " workers, ", d.size(), " labels, ",
                  d.num_classes, " classes\n");
  if (truth) {
    const algo::AccuracyReport a = algo::Accuracy(r, *truth);
    out.json["accuracy"] = a.accuracy;
    out.json["evaluated"] = a.evaluated;
    out.json["correct"] = a.correct;
    absl::StrAppend(&out.summary, "accuracy ", Short(a.accuracy), " (",
                    a.correct, " of ", a.evaluated, " truth items)\n");
  }
  out.json["iterations"] = r.iterations;
  out.json["converged"] = r.converged;
  out.json["seconds"] = seconds;
  out.json["parse_seconds"] = parse_seconds;
  absl::StrAppend(&out.summary, "method ", name, ": ", r.iterations,
                  " iterations", r.converged ? "" : " (not converged)", "; ",
                  Timing(parse_seconds, seconds), "\n");

  if (!o.out_path.empty()) {
    out.csv = "item,label,confidence\n";
    const int32_t k = r.num_classes;
    for (int32_t j = 0; j < r.num_items; ++j) {
      const int32_t c = r.label[j];
      AppendCsvField(out.csv, labels->items.Name(j));
      out.csv.push_back(',');
      if (c >= 0) AppendCsvField(out.csv, labels->classes.Name(c));
      out.csv.push_back(',');
      if (c >= 0)
        out.csv += Confidence(r.posterior[static_cast<size_t>(j) * k + c]);
      out.csv.push_back('\n');
      ++out.csv_rows;
    }
  }
  return out;
}

// ---- numeric --------------------------------------------------------------

absl::StatusOr<Outcome> Numeric(const AggregateOptions& o) {
  // Default: the lowest MAE on tests/golden emotion-numeric (mean 12.02,
  // bias-corrected 12.38, median 13.53).
  const std::string method = o.method.empty() ? "mean" : o.method;
  if (method != "mean" && method != "median" && method != "bias") {
    return BadOption(absl::StrCat("unknown --method '", o.method,
                                  "' for --kind numeric (expected mean, "
                                  "median or bias)"));
  }
  const auto t0 = SteadyClock::now();
  absl::StatusOr<algo::NumericLabels> labels =
      algo::ReadNumericLabels(o.labels_path, CsvOptions(o));
  if (!labels.ok()) return labels.status();
  std::optional<std::vector<double>> truth;
  if (!o.truth_path.empty()) {
    absl::StatusOr<std::vector<double>> t =
        algo::ReadNumericTruth(o.truth_path, labels->items);
    if (!t.ok()) return t.status();
    truth = std::move(*t);
  }
  const double parse_seconds = SecondsSince(t0);
  const algo::NumericData& d = labels->data;
  const auto t1 = SteadyClock::now();
  const algo::NumericResult r = method == "mean" ? algo::NumericMean(d)
                                : method == "median"
                                    ? algo::NumericMedian(d)
                                    : algo::NumericBiasCorrectedMean(d);
  const double seconds = SecondsSince(t1);

  Outcome out;
  out.json["kind"] = "numeric";
  out.json["method"] = method;
  out.json["items"] = d.num_items;
  out.json["workers"] = d.num_workers;
  out.json["labels"] = d.size();
  out.json["duplicates_dropped"] = labels->duplicates_dropped;
  absl::StrAppend(&out.summary, "numeric labels: ", d.num_items, " items, ",
                  d.num_workers, " workers, ", d.size(), " labels\n");
  if (truth) {
    const algo::NumericErrors e = algo::CompareNumeric(r.value, *truth);
    out.json["mae"] = e.mae;
    out.json["rmse"] = e.rmse;
    out.json["evaluated"] = e.evaluated;
    absl::StrAppend(&out.summary, "MAE ", Short(e.mae), ", RMSE ",
                    Short(e.rmse), " (", e.evaluated, " truth items)\n");
  }
  out.json["iterations"] = r.iterations;
  out.json["seconds"] = seconds;
  out.json["parse_seconds"] = parse_seconds;
  absl::StrAppend(&out.summary, "method ", method, ": ", r.iterations,
                  " iterations; ", Timing(parse_seconds, seconds), "\n");

  if (!o.out_path.empty()) {
    out.csv = "item,value\n";
    for (int32_t j = 0; j < d.num_items; ++j) {
      AppendCsvField(out.csv, labels->items.Name(j));
      out.csv.push_back(',');
      if (std::isfinite(r.value[j])) out.csv += Num(r.value[j]);
      out.csv.push_back('\n');
      ++out.csv_rows;
    }
  }
  return out;
}

// ---- pairwise -------------------------------------------------------------

absl::StatusOr<Outcome> Pairwise(const AggregateOptions& o) {
  const std::string method = o.method.empty() ? "crowdbt" : o.method;
  if (method != "crowdbt" && method != "bt") {
    return BadOption(absl::StrCat("unknown --method '", o.method,
                                  "' for --kind pairwise (expected crowdbt "
                                  "or bt)"));
  }
  if (!o.truth_path.empty())
    return BadOption("--truth is not supported with --kind pairwise");
  const auto t0 = SteadyClock::now();
  absl::StatusOr<PairwiseLabels> labels = ReadPairwiseLabels(
      o.labels_path, o.keep_repeats ? algo::RepeatPolicy::kKeepAll
                                    : algo::RepeatPolicy::kRejectConflicts);
  if (!labels.ok()) return labels.status();
  const double parse_seconds = SecondsSince(t0);
  const algo::PairwiseData& d = labels->data;
  const auto t1 = SteadyClock::now();
  absl::StatusOr<algo::PairwiseResult> r =
      method == "bt" ? algo::BradleyTerry(d) : algo::CrowdBradleyTerry(d);
  if (!r.ok()) {
    return absl::Status(r.status().code(), absl::StrCat(o.labels_path, ": ",
                                                        r.status().message()));
  }
  const double seconds = SecondsSince(t1);

  Outcome out;
  out.json["kind"] = "pairwise";
  out.json["method"] = method;
  out.json["items"] = d.num_items;
  out.json["workers"] = d.num_workers;
  out.json["labels"] = d.size();
  out.json["duplicates_dropped"] = labels->duplicates_dropped;
  out.json["iterations"] = r->iterations;
  out.json["converged"] = r->converged;
  out.json["log_likelihood"] = r->log_likelihood;
  out.json["seconds"] = seconds;
  out.json["parse_seconds"] = parse_seconds;
  absl::StrAppend(&out.summary, "pairwise comparisons: ", d.num_items,
                  " items, ", d.num_workers, " workers, ", d.size(),
                  " comparisons\n");
  absl::StrAppend(&out.summary, "method ", method, ": ", r->iterations,
                  " iterations", r->converged ? "" : " (not converged)", "; ",
                  Timing(parse_seconds, seconds), "\n");
  const size_t top = std::min<size_t>(5, r->ranking.size());
  absl::StrAppend(&out.summary, "top ", top, ":");
  for (size_t i = 0; i < top; ++i) {
    const int32_t item = r->ranking[i];
    absl::StrAppend(&out.summary, i == 0 ? " " : ", ", labels->items.Name(item),
                    " (", Short(r->score[item]), ")");
  }
  out.summary.push_back('\n');

  if (!o.out_path.empty()) {
    out.csv = "item,score,rank\n";
    for (size_t i = 0; i < r->ranking.size(); ++i) {
      const int32_t item = r->ranking[i];
      AppendCsvField(out.csv, labels->items.Name(item));
      absl::StrAppend(&out.csv, ",", Num(r->score[item]), ",", i + 1, "\n");
      ++out.csv_rows;
    }
  }
  return out;
}

// ---- boxes ----------------------------------------------------------------

absl::StatusOr<Outcome> Boxes(const AggregateOptions& o) {
  const std::string method = o.method.empty() ? "weighted" : o.method;
  algo::BoxAggregationOptions options;
  if (method == "weighted") {
    options.method = algo::BoxMethod::kWeighted;
  } else if (method == "unweighted") {
    options.method = algo::BoxMethod::kUnweighted;
  } else if (method == "single") {
    options.method = algo::BoxMethod::kSingle;
  } else {
    return BadOption(absl::StrCat("unknown --method '", o.method,
                                  "' for --kind boxes (expected weighted, "
                                  "unweighted or single)"));
  }
  const auto t0 = SteadyClock::now();
  absl::StatusOr<BoxLabels> labels = ReadBoxLabels(o.labels_path);
  if (!labels.ok()) return labels.status();
  std::optional<BoxTruth> truth;
  if (!o.truth_path.empty()) {
    absl::StatusOr<BoxTruth> t = ReadBoxTruth(o.truth_path, *labels);
    if (!t.ok()) return t.status();
    truth = std::move(*t);
  }
  const double parse_seconds = SecondsSince(t0);
  const algo::BoxAnnotations& d = labels->data;
  const auto t1 = SteadyClock::now();
  absl::StatusOr<algo::BoxAggregation> r = algo::AggregateBoxes(d, options);
  if (!r.ok()) {
    return absl::Status(r.status().code(), absl::StrCat(o.labels_path, ": ",
                                                        r.status().message()));
  }
  const double seconds = SecondsSince(t1);

  Outcome out;
  out.json["kind"] = "boxes";
  out.json["method"] = method;
  out.json["images"] = d.num_images;
  out.json["workers"] = d.num_workers;
  out.json["labels"] = labels->rows;
  out.json["boxes"] = d.size();
  out.json["merged_boxes"] = r->boxes.size();
  absl::StrAppend(&out.summary, "boxes: ", d.num_images, " images, ",
                  d.num_workers, " workers, ", d.size(), " boxes\n");
  absl::StrAppend(&out.summary, "method ", method, ": ", r->boxes.size(),
                  " merged boxes, ", r->iterations, " iterations; ",
                  Timing(parse_seconds, seconds), "\n");
  if (truth) {
    const algo::BoxEvaluation e =
        algo::EvaluateBoxes(r->boxes, truth->boxes, truth->images, 0.5);
    out.json["precision"] = e.precision;
    out.json["recall"] = e.recall;
    out.json["f1"] = e.f1;
    out.json["mean_iou"] = e.mean_iou;
    out.json["evaluated_images"] = truth->images.size();
    out.json["true_positives"] = e.true_positives;
    out.json["false_positives"] = e.false_positives;
    out.json["false_negatives"] = e.false_negatives;
    absl::StrAppend(&out.summary, "at IoU >= 0.5 on ", truth->images.size(),
                    " truth images: precision ", Short(e.precision),
                    ", recall ", Short(e.recall), ", F1 ", Short(e.f1),
                    ", mean IoU ", Short(e.mean_iou), "\n");
  }
  out.json["iterations"] = r->iterations;
  out.json["converged"] = r->converged;
  out.json["seconds"] = seconds;
  out.json["parse_seconds"] = parse_seconds;

  if (!o.out_path.empty()) {
    // Merged boxes by image (input order of first appearance); an image
    // with none gets one row with empty label and coordinates, as in the
    // input format.
    out.csv = "image,label,x1,y1,x2,y2,confidence\n";
    std::vector<std::vector<size_t>> by_image(d.num_images);
    for (size_t k = 0; k < r->boxes.size(); ++k)
      by_image[r->boxes.image[k]].push_back(k);
    for (int32_t img = 0; img < d.num_images; ++img) {
      if (by_image[img].empty()) {
        AppendCsvField(out.csv, labels->images.Name(img));
        out.csv += ",,,,,,\n";
        ++out.csv_rows;
        continue;
      }
      for (size_t k : by_image[img]) {
        const algo::Box& b = r->boxes.box[k];
        AppendCsvField(out.csv, labels->images.Name(img));
        out.csv.push_back(',');
        AppendCsvField(out.csv, labels->labels.Name(r->boxes.label[k]));
        const double conf =
            r->boxes.confidence.empty() ? 1.0 : r->boxes.confidence[k];
        absl::StrAppend(&out.csv, ",", Num(b.x1), ",", Num(b.y1), ",",
                        Num(b.x2), ",", Num(b.y2), ",", Confidence(conf), "\n");
        ++out.csv_rows;
      }
    }
  }
  return out;
}

absl::StatusOr<Outcome> Aggregate(const AggregateOptions& o) {
  if (o.labels_path.empty()) return BadOption("--labels FILE.csv is required");
  if (o.threads < 0) return BadOption("--threads must be >= 0");
  const std::string kind = o.kind.empty() ? "categorical" : o.kind;
  if (kind == "categorical") return Categorical(o);
  if (kind == "numeric") return Numeric(o);
  if (kind == "pairwise") return Pairwise(o);
  if (kind == "boxes") return Boxes(o);
  return BadOption(absl::StrCat("unknown --kind '", o.kind,
                                "' (expected categorical, numeric, pairwise "
                                "or boxes)"));
}

}  // namespace

int RunAggregate(const AggregateOptions& options, std::ostream& out,
                 std::ostream& err) {
  absl::StatusOr<Outcome> r = Aggregate(options);
  if (!r.ok()) return ReportFailure(r.status(), err);
  if (!options.out_path.empty()) {
    if (absl::Status s = WriteFileAtomically(options.out_path, r->csv);
        !s.ok()) {
      return ReportFailure(s, err);
    }
  }
  if (options.json) {
    out << r->json.dump() << "\n";
  } else {
    out << r->summary;
    if (!options.out_path.empty()) {
      out << "wrote " << r->csv_rows << " rows to " << options.out_path << "\n";
    }
  }
  out.flush();
  return kExitOk;
}

}  // namespace tessera::cli
