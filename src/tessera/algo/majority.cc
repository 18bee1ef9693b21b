// Majority vote and Wawa (worker agreement with aggregate), plus the method
// table and accuracy helper shared by all categorical methods.
#include <cmath>
#include <limits>

#include "tessera/algo/categorical.h"
#include "tessera/algo/internal/grouping.h"
#include "tessera/algo/internal/memory.h"
#include "tessera/base/mix.h"

namespace tessera::algo {
namespace {

using internal::ByItem;

// Weighted vote over grouped answers. weight == nullptr means 1 per answer.
// Items whose weights all vanish fall back to the unweighted vote.
CategoricalResult Vote(const ByItem& g, const std::vector<double>* weight,
                       const MajorityVoteOptions& options) {
  const int K = g.num_classes;
  CategoricalResult r;
  r.num_items = g.num_items;
  r.num_workers = g.num_workers;
  r.num_classes = K;
  r.label.assign(g.num_items, -1);
  internal::ResizeHuge(r.posterior, static_cast<size_t>(g.num_items) * K);
  std::vector<double> score(K);
  std::vector<int32_t> tied(K);
  std::vector<double> prior(K, 0.0);
  int64_t answered = 0;
  for (int32_t j = 0; j < g.num_items; ++j) {
    const int64_t b = g.begin[j], e = g.begin[j + 1];
    if (b == e) continue;
    ++answered;
    std::fill(score.begin(), score.end(), 0.0);
    double total = 0.0;
    if (weight != nullptr) {
      for (int64_t k = b; k < e; ++k)
        score[g.label[k]] += (*weight)[g.worker[k]];
      for (double s : score) total += s;
    }
    if (!(total > 0.0)) {
      std::fill(score.begin(), score.end(), 0.0);
      for (int64_t k = b; k < e; ++k) score[g.label[k]] += 1.0;
      total = static_cast<double>(e - b);
    }
    double best = -1.0;
    int n_tied = 0;
    for (int c = 0; c < K; ++c) {
      if (score[c] > best) {
        best = score[c];
        n_tied = 0;
      }
      if (score[c] == best) tied[n_tied++] = c;
    }
    int pick = 0;
    if (n_tied > 1 && options.tie_break == TieBreak::kSeededRandom) {
      pick = static_cast<int>(
          SplitMix64(options.seed ^ SplitMix64(static_cast<uint64_t>(j))) %
          static_cast<uint64_t>(n_tied));
    }
    r.label[j] = tied[pick];
    double* post = &r.posterior[static_cast<size_t>(j) * K];
    for (int c = 0; c < K; ++c) {
      post[c] = score[c] / total;
      prior[c] += post[c];
    }
  }
  for (double& p : prior) p = answered > 0 ? p / answered : 1.0 / K;
  for (int32_t j = 0; j < g.num_items; ++j) {
    if (g.begin[j] == g.begin[j + 1]) {
      std::copy(prior.begin(), prior.end(),
                r.posterior.begin() + static_cast<size_t>(j) * K);
    }
  }
  r.class_prior = std::move(prior);
  return r;
}

// Each worker's share of answers equal to the item's inferred label.
std::vector<double> Agreement(const ByItem& g,
                              const std::vector<int32_t>& label) {
  std::vector<double> hits(g.num_workers, 0.0), count(g.num_workers, 0.0);
  for (int32_t j = 0; j < g.num_items; ++j) {
    for (int64_t k = g.begin[j]; k < g.begin[j + 1]; ++k) {
      count[g.worker[k]] += 1.0;
      if (g.label[k] == label[j]) hits[g.worker[k]] += 1.0;
    }
  }
  for (int32_t w = 0; w < g.num_workers; ++w) {
    hits[w] = count[w] > 0 ? hits[w] / count[w]
                           : std::numeric_limits<double>::quiet_NaN();
  }
  return hits;
}

}  // namespace

CategoricalResult MajorityVote(const CategoricalData& data,
                               const MajorityVoteOptions& options) {
  const ByItem g = internal::GroupByItem(data);
  CategoricalResult r = Vote(g, nullptr, options);
  r.skill = Agreement(g, r.label);
  return r;
}

CategoricalResult Wawa(const CategoricalData& data,
                       const WawaOptions& options) {
  const ByItem g = internal::GroupByItem(data);
  CategoricalResult mv = Vote(g, nullptr, options.vote);
  std::vector<double> weight = Agreement(g, mv.label);
  for (double& w : weight) {
    if (std::isnan(w)) w = 0.0;
  }
  // Only the labels of the first vote are needed from here on.
  std::vector<double>().swap(mv.posterior);
  CategoricalResult r = Vote(g, &weight, options.vote);
  r.skill = Agreement(g, mv.label);
  return r;
}

std::optional<CategoricalMethod> ParseCategoricalMethod(
    absl::string_view name) {
  for (CategoricalMethod m :
       {CategoricalMethod::kBest, CategoricalMethod::kMv,
        CategoricalMethod::kWawa, CategoricalMethod::kDs,
        CategoricalMethod::kOcds, CategoricalMethod::kGlad,
        CategoricalMethod::kMace}) {
    if (CategoricalMethodName(m) == name) return m;
  }
  return std::nullopt;
}

absl::string_view CategoricalMethodName(CategoricalMethod method) {
  switch (method) {
    case CategoricalMethod::kBest:
      return "best";
    case CategoricalMethod::kMv:
      return "mv";
    case CategoricalMethod::kWawa:
      return "wawa";
    case CategoricalMethod::kDs:
      return "ds";
    case CategoricalMethod::kOcds:
      return "ocds";
    case CategoricalMethod::kGlad:
      return "glad";
    case CategoricalMethod::kMace:
      return "mace";
  }
  return "best";
}

CategoricalResult RunCategorical(CategoricalMethod method,
                                 const CategoricalData& data, int threads) {
  switch (method) {
    case CategoricalMethod::kMv:
      return MajorityVote(data);
    case CategoricalMethod::kWawa:
      return Wawa(data);
    case CategoricalMethod::kDs: {
      DawidSkeneOptions o;
      o.threads = threads;
      return DawidSkene(data, o);
    }
    case CategoricalMethod::kOcds: {
      OneCoinOptions o;
      o.threads = threads;
      return OneCoinDawidSkene(data, o);
    }
    case CategoricalMethod::kGlad: {
      GladOptions o;
      o.threads = threads;
      return Glad(data, o);
    }
    case CategoricalMethod::kMace: {
      MaceOptions o;
      o.threads = threads;
      return Mace(data, o);
    }
    case CategoricalMethod::kBest:
      break;
  }
  BestOptions o;
  o.threads = threads;
  return Best(data, o);
}

AccuracyReport Accuracy(const CategoricalResult& result,
                        const std::vector<int32_t>& truth) {
  AccuracyReport a;
  const size_t n = std::min(truth.size(), result.label.size());
  for (size_t j = 0; j < n; ++j) {
    if (truth[j] == -1) continue;
    if (result.label[j] < 0) continue;  // no answers: not evaluated
    ++a.evaluated;
    if (truth[j] == result.label[j]) ++a.correct;
  }
  a.accuracy = a.evaluated > 0 ? static_cast<double>(a.correct) / a.evaluated
                               : std::numeric_limits<double>::quiet_NaN();
  return a;
}

}  // namespace tessera::algo
