// Bradley-Terry (MM) and Crowd-BT (EM) on dense comparison arrays.
#include "tessera/algo/pairwise.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tessera::algo {
namespace {

absl::Status Validate(const PairwiseData& d) {
  const size_t n = d.left.size();
  if (d.right.size() != n || d.outcome.size() != n || d.worker.size() != n) {
    return absl::InvalidArgumentError(
        "pairwise data: worker, left, right and outcome differ in length");
  }
  if (d.num_items < 0 || d.num_workers < 0) {
    return absl::InvalidArgumentError("pairwise data: negative counts");
  }
  for (size_t k = 0; k < n; ++k) {
    if (d.left[k] < 0 || d.left[k] >= d.num_items || d.right[k] < 0 ||
        d.right[k] >= d.num_items) {
      return absl::InvalidArgumentError(absl::StrCat(
          "pairwise data: comparison ", k, " has an item out of range"));
    }
    if (d.left[k] == d.right[k]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "pairwise data: comparison ", k, " compares an item with itself"));
    }
    if (d.worker[k] < 0 || d.worker[k] >= d.num_workers) {
      return absl::InvalidArgumentError(absl::StrCat(
          "pairwise data: comparison ", k, " has a worker out of range"));
    }
    const auto o = static_cast<int>(d.outcome[k]);
    if (o < 0 || o > 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "pairwise data: comparison ", k, " has an invalid outcome"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateBt(const BradleyTerryOptions& o) {
  if (!(o.prior_comparisons >= 0) || !(o.tolerance > 0) ||
      o.max_iterations < 1) {
    return absl::InvalidArgumentError(
        "Bradley-Terry options: need prior_comparisons >= 0, tolerance > 0, "
        "max_iterations >= 1");
  }
  return absl::OkStatus();
}

// The comparisons in "reported first" form: item a[k] was reported as the
// winner (the left item for a tie), b[k] is the other.
struct Edges {
  std::vector<int32_t> a;
  std::vector<int32_t> b;
  std::vector<uint8_t> tie;
};

Edges MakeEdges(const PairwiseData& d) {
  Edges e;
  const size_t n = d.size();
  e.a.resize(n);
  e.b.resize(n);
  e.tie.resize(n);
  for (size_t k = 0; k < n; ++k) {
    const bool right_won = d.outcome[k] == PairOutcome::kRight;
    e.a[k] = right_won ? d.right[k] : d.left[k];
    e.b[k] = right_won ? d.left[k] : d.right[k];
    e.tie[k] = d.outcome[k] == PairOutcome::kTie;
  }
  return e;
}

// Weighted MM fitter. Comparison k credits q[k] of a win to a[k] and 1 - q[k]
// to b[k]; pi holds the strengths and is updated in place.
class MmFitter {
 public:
  MmFitter(const Edges& edges, int32_t num_items, double prior)
      : edges_(edges),
        prior_(prior),
        wins_(num_items),
        denom_(num_items),
        count_(num_items, 0) {
    for (size_t k = 0; k < edges.a.size(); ++k) {
      ++count_[edges.a[k]];
      ++count_[edges.b[k]];
    }
  }

  const std::vector<int32_t>& counts() const { return count_; }

  void SetWins(absl::Span<const double> q) {
    for (size_t i = 0; i < wins_.size(); ++i) {
      wins_[i] = count_[i] > 0 ? prior_ : 0.0;
    }
    for (size_t k = 0; k < edges_.a.size(); ++k) {
      wins_[edges_.a[k]] += q[k];
      wins_[edges_.b[k]] += 1.0 - q[k];
    }
  }

  // One simultaneous MM update of every strength (Hunter 2004, eq. 3).
  // Returns the largest change of a log-strength.
  double Sweep(std::vector<double>& pi) {
    std::fill(denom_.begin(), denom_.end(), 0.0);
    const size_t n = edges_.a.size();
    const int32_t* a = edges_.a.data();
    const int32_t* b = edges_.b.data();
    for (size_t k = 0; k < n; ++k) {
      const double c = 1.0 / (pi[a[k]] + pi[b[k]]);
      denom_[a[k]] += c;
      denom_[b[k]] += c;
    }
    double max_change = 0.0;
    for (size_t i = 0; i < pi.size(); ++i) {
      if (count_[i] == 0) continue;
      const double d = denom_[i] + 2.0 * prior_ / (pi[i] + 1.0);
      const double next = wins_[i] / d;
      max_change = std::max(max_change, std::abs(std::log(next / pi[i])));
      pi[i] = next;
    }
    return max_change;
  }

 private:
  const Edges& edges_;
  double prior_;
  std::vector<double> wins_;
  std::vector<double> denom_;
  std::vector<int32_t> count_;
};

void Finish(const std::vector<double>& pi, const std::vector<int32_t>& counts,
            PairwiseResult& r) {
  const size_t n = pi.size();
  r.score.resize(n);
  for (size_t i = 0; i < n; ++i) r.score[i] = std::log(pi[i]);
  r.ranking.resize(n);
  std::iota(r.ranking.begin(), r.ranking.end(), 0);
  std::stable_sort(
      r.ranking.begin(), r.ranking.end(),
      [&](int32_t x, int32_t y) { return r.score[x] > r.score[y]; });
  r.comparisons = counts;
}

// P(a beats b).
inline double Win(const std::vector<double>& pi, int32_t a, int32_t b) {
  return pi[a] / (pi[a] + pi[b]);
}

}  // namespace

absl::StatusOr<PairwiseResult> BradleyTerry(
    const PairwiseData& data, const BradleyTerryOptions& options) {
  if (auto s = Validate(data); !s.ok()) return s;
  if (auto s = ValidateBt(options); !s.ok()) return s;
  const Edges edges = MakeEdges(data);
  MmFitter fit(edges, data.num_items, options.prior_comparisons);
  std::vector<double> q(data.size());
  for (size_t k = 0; k < q.size(); ++k) q[k] = edges.tie[k] ? 0.5 : 1.0;
  fit.SetWins(q);
  std::vector<double> pi(data.num_items, 1.0);
  PairwiseResult r;
  while (r.iterations < options.max_iterations) {
    ++r.iterations;
    if (fit.Sweep(pi) < options.tolerance) {
      r.converged = true;
      break;
    }
  }
  for (size_t k = 0; k < q.size(); ++k) {
    const double p = Win(pi, edges.a[k], edges.b[k]);
    r.log_likelihood += q[k] * std::log(p) + (1.0 - q[k]) * std::log1p(-p);
  }
  Finish(pi, fit.counts(), r);
  return r;
}

absl::StatusOr<PairwiseResult> CrowdBradleyTerry(
    const PairwiseData& data, const CrowdBtOptions& options) {
  if (auto s = Validate(data); !s.ok()) return s;
  if (auto s = ValidateBt(options.bt); !s.ok()) return s;
  if (!(options.prior_agree >= 0) || !(options.prior_disagree >= 0) ||
      options.max_em_iterations < 1 || options.score_sweeps < 1 ||
      !(options.tolerance > 0)) {
    return absl::InvalidArgumentError(
        "Crowd-BT options: need non-negative priors, max_em_iterations >= 1, "
        "score_sweeps >= 1, tolerance > 0");
  }
  const Edges edges = MakeEdges(data);
  const size_t n = data.size();
  MmFitter fit(edges, data.num_items, options.bt.prior_comparisons);

  // Seed the scores with plain Bradley-Terry.
  std::vector<double> q(n);
  for (size_t k = 0; k < n; ++k) q[k] = edges.tie[k] ? 0.5 : 1.0;
  fit.SetWins(q);
  std::vector<double> pi(data.num_items, 1.0);
  for (int sweep = 0; sweep < options.bt.max_iterations; ++sweep) {
    if (fit.Sweep(pi) < options.bt.tolerance) break;
  }

  const double prior_total = options.prior_agree + options.prior_disagree;
  std::vector<double> eta(
      data.num_workers,
      prior_total > 0 ? options.prior_agree / prior_total : 0.8);
  std::vector<double> agree(data.num_workers);
  std::vector<double> answered(data.num_workers);
  PairwiseResult r;
  double last_ll = 0.0;
  while (r.iterations < options.max_em_iterations) {
    ++r.iterations;
    // E-step: posterior that answer k is in the true order; and the
    // log-likelihood of the current parameters.
    double ll = 0;
    for (size_t k = 0; k < n; ++k) {
      const double p = Win(pi, edges.a[k], edges.b[k]);
      if (edges.tie[k]) {
        ll += 0.5 * std::log(p) + 0.5 * std::log1p(-p);
        continue;
      }
      const double e = eta[data.worker[k]];
      const double yes = e * p;
      const double all = yes + (1.0 - e) * (1.0 - p);
      q[k] = yes / all;
      ll += std::log(all);
    }
    if (r.iterations > 1 && (ll - last_ll) < options.tolerance * n) {
      r.converged = true;
      break;
    }
    last_ll = ll;
    // M-step for the reliabilities (MAP under the Beta prior).
    std::fill(agree.begin(), agree.end(), 0.0);
    std::fill(answered.begin(), answered.end(), 0.0);
    for (size_t k = 0; k < n; ++k) {
      if (edges.tie[k]) continue;
      agree[data.worker[k]] += q[k];
      answered[data.worker[k]] += 1.0;
    }
    for (int32_t w = 0; w < data.num_workers; ++w) {
      const double denom = answered[w] + prior_total;
      const double next =
          denom > 0 ? (agree[w] + options.prior_agree) / denom : 0.5;
      eta[w] = std::clamp(next, 1e-4, 1.0 - 1e-4);
    }
    // M-step for the scores: MM sweeps on the expected wins.
    fit.SetWins(q);
    for (int s = 0; s < options.score_sweeps; ++s) fit.Sweep(pi);
  }
  for (size_t k = 0; k < n; ++k) {
    const double p = Win(pi, edges.a[k], edges.b[k]);
    if (edges.tie[k]) {
      r.log_likelihood += 0.5 * std::log(p) + 0.5 * std::log1p(-p);
    } else {
      const double e = eta[data.worker[k]];
      r.log_likelihood += std::log(e * p + (1.0 - e) * (1.0 - p));
    }
  }
  r.worker_reliability = std::move(eta);
  Finish(pi, fit.counts(), r);
  return r;
}

namespace {
std::vector<double> AverageRanks(absl::Span<const double> v) {
  std::vector<int32_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int32_t x, int32_t y) { return v[x] < v[y]; });
  std::vector<double> rank(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double r = 0.5 * static_cast<double>(i + j);
    for (size_t t = i; t <= j; ++t) rank[order[t]] = r;
    i = j + 1;
  }
  return rank;
}
}  // namespace

double SpearmanCorrelation(absl::Span<const double> a,
                           absl::Span<const double> b) {
  const std::vector<double> ra = AverageRanks(a);
  const std::vector<double> rb = AverageRanks(b);
  const double n = static_cast<double>(ra.size());
  if (n < 2) return 0.0;
  const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / n;
  const double mb = std::accumulate(rb.begin(), rb.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) * (ra[i] - ma);
    sbb += (rb[i] - mb) * (rb[i] - mb);
  }
  if (saa == 0 || sbb == 0) return 0.0;
  return sab / std::sqrt(saa * sbb);
}

}  // namespace tessera::algo
