// `tessera agreement`: parse a labels (or boxes) CSV, compute one agreement
// metric from algo/agreement.h, print a summary or one JSON object.
#include "tessera/cli/agreement.h"

#include <chrono>
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tessera/algo/agreement.h"
#include "tessera/algo/labels_csv.h"
#include "tessera/cli/csv_inputs.h"

namespace tessera::cli {
namespace {

using Json = nlohmann::ordered_json;
using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

std::string Short(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.4f", v);
  return buf;
}

struct Outcome {
  Json json;
  std::string summary;
};

absl::Status BadOption(absl::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

// Algorithm errors are about the file's data: name the file.
absl::Status InFile(const absl::Status& s, const std::string& path) {
  return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
}

algo::LabelsCsvOptions CsvOptions(const AgreementOptions& o) {
  algo::LabelsCsvOptions c;
  c.repeats = o.keep_repeats ? algo::RepeatPolicy::kKeepAll
                             : algo::RepeatPolicy::kRejectConflicts;
  return c;
}

void Counts(Json& json, int32_t items, int32_t workers, size_t labels) {
  json["items"] = items;
  json["workers"] = workers;
  json["labels"] = labels;
}

absl::StatusOr<Outcome> Alpha(const AgreementOptions& o) {
  const std::string level_name = o.level.empty() ? "nominal" : o.level;
  algo::AlphaLevel level;
  if (level_name == "nominal") {
    level = algo::AlphaLevel::kNominal;
  } else if (level_name == "ordinal") {
    level = algo::AlphaLevel::kOrdinal;
  } else if (level_name == "interval") {
    level = algo::AlphaLevel::kInterval;
  } else if (level_name == "ratio") {
    level = algo::AlphaLevel::kRatio;
  } else {
    return BadOption(absl::StrCat("unknown --level '", o.level,
                                  "' (expected nominal, ordinal, interval or "
                                  "ratio)"));
  }
  const auto t0 = SteadyClock::now();
  algo::RatingData data;
  if (level == algo::AlphaLevel::kNominal) {
    // Labels are names compared by equality: any text will do.
    absl::StatusOr<algo::CategoricalLabels> l =
        algo::ReadCategoricalLabels(o.labels_path, CsvOptions(o));
    if (!l.ok()) return l.status();
    data.num_units = l->data.num_items;
    data.num_coders = l->data.num_workers;
    data.unit = std::move(l->data.item);
    data.coder = std::move(l->data.worker);
    data.value.assign(l->data.label.begin(), l->data.label.end());
  } else {
    absl::StatusOr<algo::NumericLabels> l =
        algo::ReadNumericLabels(o.labels_path, CsvOptions(o));
    if (!l.ok()) return l.status();
    data.num_units = l->data.num_items;
    data.num_coders = l->data.num_workers;
    data.unit = std::move(l->data.item);
    data.coder = std::move(l->data.worker);
    data.value = std::move(l->data.value);
  }
  const double parse_seconds = SecondsSince(t0);
  const auto t1 = SteadyClock::now();
  absl::StatusOr<algo::AlphaResult> r = algo::KrippendorffAlpha(data, level);
  if (!r.ok()) return InFile(r.status(), o.labels_path);
  const double seconds = SecondsSince(t1);
  Outcome out;
  out.json["metric"] = "alpha";
  out.json["level"] = level_name;
  out.json["value"] = r->alpha;
  Counts(out.json, data.num_units, data.num_coders, data.size());
  out.json["observed_disagreement"] = r->observed_disagreement;
  out.json["expected_disagreement"] = r->expected_disagreement;
  out.json["pairable_values"] = r->pairable_values;
  out.json["pairable_units"] = r->pairable_units;
  out.json["seconds"] = seconds;
  out.json["parse_seconds"] = parse_seconds;
  out.summary = absl::StrCat(
      "Krippendorff's alpha (", level_name, "): ", Short(r->alpha), "\n",
      r->pairable_units, " of ", data.num_units, " items with two or more ",
      "labels (", r->pairable_values, " values), ", data.num_coders,
      " workers; D_o ", Short(r->observed_disagreement), ", D_e ",
      Short(r->expected_disagreement), "\n");
  return out;
}

absl::StatusOr<Outcome> Categorical(const AgreementOptions& o) {
  const auto t0 = SteadyClock::now();
  absl::StatusOr<algo::CategoricalLabels> l =
      algo::ReadCategoricalLabels(o.labels_path, CsvOptions(o));
  if (!l.ok()) return l.status();
  const algo::CategoricalData& d = l->data;
  const double parse_seconds = SecondsSince(t0);
  if (o.metric == "cohen" && d.num_workers != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        o.labels_path, ": cohen's kappa needs exactly two workers, found ",
        d.num_workers, " (use --metric fleiss or alpha for more)"));
  }
  Outcome out;
  out.json["metric"] = o.metric;
  const auto t1 = SteadyClock::now();
  if (o.metric == "percent") {
    absl::StatusOr<double> r = algo::PercentAgreement(d);
    if (!r.ok()) return InFile(r.status(), o.labels_path);
    out.json["value"] = *r;
    out.summary = absl::StrCat("percent agreement: ", Short(*r), "\n");
  } else {
    absl::StatusOr<algo::KappaResult> r =
        o.metric == "cohen" ? algo::CohenKappa(d) : algo::FleissKappa(d);
    if (!r.ok()) return InFile(r.status(), o.labels_path);
    out.json["value"] = r->kappa;
    out.json["observed_agreement"] = r->observed_agreement;
    out.json["expected_agreement"] = r->expected_agreement;
    out.json["evaluated_items"] = r->items;
    out.summary = absl::StrCat(o.metric == "cohen" ? "Cohen's" : "Fleiss'",
                               " kappa: ", Short(r->kappa), "\n", r->items,
                               " items; P_o ", Short(r->observed_agreement),
                               ", P_e ", Short(r->expected_agreement), "\n");
  }
  const double seconds = SecondsSince(t1);
  Counts(out.json, d.num_items, d.num_workers, d.size());
  out.json["classes"] = d.num_classes;
  out.json["seconds"] = seconds;
  out.json["parse_seconds"] = parse_seconds;
  absl::StrAppend(&out.summary, d.num_items, " items, ", d.num_workers,
                  " workers, ", d.size(), " labels, ", d.num_classes,
                  " classes\n");
  return out;
}

absl::StatusOr<Outcome> BoxIou(const AgreementOptions& o) {
  const auto t0 = SteadyClock::now();
  absl::StatusOr<BoxLabels> l = ReadBoxLabels(o.labels_path);
  if (!l.ok()) return l.status();
  const double parse_seconds = SecondsSince(t0);
  const auto t1 = SteadyClock::now();
  absl::StatusOr<algo::BoxAgreement> r = algo::MeanPairwiseIoU(l->data);
  if (!r.ok()) return InFile(r.status(), o.labels_path);
  const double seconds = SecondsSince(t1);
  Outcome out;
  out.json["metric"] = "iou";
  out.json["value"] = r->mean_pairwise_iou;
  out.json["mean_matched_iou"] = r->mean_matched_iou;
  out.json["worker_pairs"] = r->worker_pairs;
  out.json["matched_boxes"] = r->matched_boxes;
  out.json["images"] = l->data.num_images;
  out.json["workers"] = l->data.num_workers;
  out.json["labels"] = l->rows;
  out.json["seconds"] = seconds;
  out.json["parse_seconds"] = parse_seconds;
  out.summary = absl::StrCat(
      "mean pairwise IoU: ", Short(r->mean_pairwise_iou), " over ",
      r->worker_pairs, " (image, worker pair)s; matched boxes' mean IoU ",
      Short(r->mean_matched_iou), "\n", l->data.num_images, " images, ",
      l->data.num_workers, " workers, ", l->data.size(), " boxes\n");
  return out;
}

absl::StatusOr<Outcome> Agreement(const AgreementOptions& o) {
  if (o.labels_path.empty()) return BadOption("--labels FILE.csv is required");
  if (o.metric.empty()) {
    return BadOption(
        "--metric is required (alpha, fleiss, cohen, percent or iou)");
  }
  if (o.metric != "alpha" && !o.level.empty())
    return BadOption("--level applies only to --metric alpha");
  if (o.metric == "alpha") return Alpha(o);
  if (o.metric == "fleiss" || o.metric == "cohen" || o.metric == "percent")
    return Categorical(o);
  if (o.metric == "iou") return BoxIou(o);
  return BadOption(absl::StrCat("unknown --metric '", o.metric,
                                "' (expected alpha, fleiss, cohen, percent "
                                "or iou)"));
}

}  // namespace

int RunAgreement(const AgreementOptions& options, std::ostream& out,
                 std::ostream& err) {
  absl::StatusOr<Outcome> r = Agreement(options);
  if (!r.ok()) return ReportFailure(r.status(), err);
  if (options.json) {
    out << r->json.dump() << "\n";
  } else {
    out << r->summary;
  }
  out.flush();
  return kExitOk;
}

}  // namespace tessera::cli
