// Dawid-Skene (full confusion), one-coin Dawid-Skene and the default method:
// one EM engine over answers grouped by item. E-step in parallel over item
// parts; M-step sums per part, reduced in part order (thread-count free).
#include <algorithm>
#include <cmath>
#include <limits>

#include "tessera/algo/categorical.h"
#include "tessera/algo/internal/grouping.h"

namespace tessera::algo {
namespace {

using internal::ByItem;

constexpr double kEps = 1e-10;  // crowd-kit's clip for counts and priors
const double kLogEps = std::log(kEps);

enum class Model { kFull, kOneCoin };

struct EmConfig {
  Model model = Model::kFull;
  double tolerance = 1e-5;
  int max_iterations = 100;
  double confusion_prior = 0.0;
  double diagonal_prior = 0.0;
  double class_prior_smoothing = 0.0;
  double pooled_prior = 0.0;
  int threads = 0;
};

class DsEngine {
 public:
  DsEngine(const CategoricalData& data, const EmConfig& config)
      : c_(config),
        g_(internal::GroupByItem(data)),
        K_(g_.num_classes),
        W_(g_.num_workers) {
    const int64_t cells = static_cast<int64_t>(W_) * K_ * K_;
    bounds_ = internal::SplitItems(g_, c_.model == Model::kFull ? cells : W_);
    parts_ = static_cast<int>(bounds_.size()) - 1;
    answers_ = g_.size();
    for (int32_t j = 0; j < g_.num_items; ++j) {
      if (g_.begin[j + 1] > g_.begin[j]) ++answered_items_;
    }
    answers_of_.assign(static_cast<size_t>(W_) * K_, 0);
    for (int64_t k = 0; k < answers_; ++k)
      ++answers_of_[g_.worker[k] * K_ + g_.label[k]];
    post_.assign(static_cast<size_t>(g_.num_items) * K_, 0.0);
    log_conf_.assign(cells, 0.0);
    prior_.assign(K_, 1.0 / std::max(K_, 1));
  }

  CategoricalResult Run() {
    CategoricalResult r;
    r.num_items = g_.num_items;
    r.num_workers = W_;
    r.num_classes = K_;
    if (K_ == 0 || answers_ == 0) return Finish(std::move(r));
    InitFromVoteShares();
    UpdatePrior(prior_sum_);
    FillSums();
    MStep();
    double last = -std::numeric_limits<double>::infinity();
    r.converged = false;
    for (int it = 0; it < c_.max_iterations; ++it) {
      const double log_lik = EStep();
      UpdatePrior(prior_sum_);
      const double elbo = MStep() / static_cast<double>(answers_);
      r.log_likelihood.push_back(log_lik / static_cast<double>(answers_));
      r.iterations = it + 1;
      if (elbo - last < c_.tolerance) {
        r.converged = true;
        break;
      }
      last = elbo;
    }
    return Finish(std::move(r));
  }

 private:
  // Posterior = vote shares; the class prior starts as their mean.
  void InitFromVoteShares() {
    prior_sum_.assign(K_, 0.0);
    weighted_prior_sum_.assign(K_, 0.0);
    entropy_ = 0.0;
    for (int32_t j = 0; j < g_.num_items; ++j) {
      const int64_t b = g_.begin[j], e = g_.begin[j + 1];
      if (b == e) continue;
      double* p = &post_[static_cast<size_t>(j) * K_];
      for (int64_t k = b; k < e; ++k) p[g_.label[k]] += 1.0;
      const double n = static_cast<double>(e - b);
      for (int t = 0; t < K_; ++t) {
        p[t] /= n;
        prior_sum_[t] += p[t];
        weighted_prior_sum_[t] += n * p[t];
        const double q = std::max(p[t], kEps);
        entropy_ -= q * std::log(q);
      }
    }
  }

  void UpdatePrior(const std::vector<double>& sum) {
    const double a = c_.class_prior_smoothing;
    double total = 0.0;
    for (int t = 0; t < K_; ++t) total += sum[t] + a;
    for (int t = 0; t < K_; ++t) {
      prior_[t] = total > 0 ? (sum[t] + a) / total : 1.0 / K_;
    }
  }

  // The E-step over part p's items (kK: the class count, or 0 for K_).
  // Adds the part's log-likelihood and entropy to ll and ent, posterior sums
  // to ps[0..K) and answer-weighted ones to ps[K..2K), and each item's
  // posterior to the M-step accumulator acc.
  template <int kK>
  void EStepPart(int p, const double* log_prior, double* ps, double* acc,
                 double& ll, double& ent) {
    const int K = kK > 0 ? kK : K_;
    std::vector<double> lp(K), log_lp(K);
    double* pw = ps + K;
    const double* lc = log_conf_.data();
    const bool full = c_.model == Model::kFull;
    for (int32_t j = bounds_[p]; j < bounds_[p + 1]; ++j) {
      const int64_t b = g_.begin[j], e = g_.begin[j + 1];
      if (b == e) continue;
      // The rows and cells of the items two ahead: random worker accesses
      // stall otherwise, as exp() and log() fill the out-of-order window.
      if (j + 3 <= bounds_[p + 1]) {
        for (int64_t k = g_.begin[j + 2]; k < g_.begin[j + 3]; ++k) {
          const size_t cell =
              (static_cast<size_t>(g_.worker[k]) * K + g_.label[k]) * K;
          __builtin_prefetch(lc + cell);
          if (full) __builtin_prefetch(acc + cell, 1);
        }
      }
      std::copy(log_prior, log_prior + K, lp.begin());
      for (int64_t k = b; k < e; ++k) {
        const double* row =
            lc + (static_cast<size_t>(g_.worker[k]) * K + g_.label[k]) * K;
        for (int t = 0; t < K; ++t) lp[t] += row[t];
      }
      double mx = lp[0];
      for (int t = 1; t < K; ++t) mx = std::max(mx, lp[t]);
      double s = 0.0;
      for (int t = 0; t < K; ++t) {
        log_lp[t] = lp[t] - mx;
        lp[t] = std::exp(log_lp[t]);
        s += lp[t];
      }
      const double log_s = std::log(s);
      ll += mx + log_s;
      double* out = &post_[static_cast<size_t>(j) * K];
      const double n = static_cast<double>(e - b);
      const double inv_s = 1.0 / s;
      for (int t = 0; t < K; ++t) {
        const double q = lp[t] * inv_s;
        out[t] = q;
        ps[t] += q;
        pw[t] += n * q;
        // log q = (lp - mx) - log s, already known: no log() per class.
        ent -= q >= kEps ? q * (log_lp[t] - log_s) : kEps * kLogEps;
      }
      // The M-step sums, while this item's answers are in cache.
      if (full) {
        for (int64_t k = b; k < e; ++k) {
          double* cell =
              acc + (static_cast<size_t>(g_.worker[k]) * K + g_.label[k]) * K;
          for (int t = 0; t < K; ++t) cell[t] += out[t];
        }
      } else {
        for (int64_t k = b; k < e; ++k) acc[g_.worker[k]] += out[g_.label[k]];
      }
    }
  }

  // Returns the marginal log-likelihood of the answers under the current
  // parameters; leaves posteriors in post_, per-class sums for the prior, and
  // the M-step's sums in sums_: each item's posterior is added to its
  // answers' cells while they are in cache, in the order FillSums uses, so
  // the sums are bit-identical to a separate pass.
  double EStep() {
    const size_t width = AccumulatorWidth();
    part_acc_.assign(width * parts_, 0.0);
    std::vector<double> log_prior(K_);
    for (int t = 0; t < K_; ++t)
      log_prior[t] = std::log(std::max(prior_[t], kEps));
    std::vector<double> part_ll(parts_, 0.0), part_ent(parts_, 0.0);
    std::vector<double> part_prior(static_cast<size_t>(parts_) * K_ * 2, 0.0);
    internal::ParallelFor(parts_, c_.threads, [&](int p) {
      double* ps = &part_prior[static_cast<size_t>(p) * K_ * 2];
      double* acc = &part_acc_[width * p];
      // The class count as a compile-time constant for the common small K
      // (unrolled loops); the arithmetic is the same for every K.
      switch (K_) {
        case 2:
          EStepPart<2>(p, log_prior.data(), ps, acc, part_ll[p], part_ent[p]);
          break;
        case 3:
          EStepPart<3>(p, log_prior.data(), ps, acc, part_ll[p], part_ent[p]);
          break;
        case 4:
          EStepPart<4>(p, log_prior.data(), ps, acc, part_ll[p], part_ent[p]);
          break;
        default:
          EStepPart<0>(p, log_prior.data(), ps, acc, part_ll[p], part_ent[p]);
      }
    });
    ReduceParts(width);
    double ll = 0.0;
    entropy_ = 0.0;
    prior_sum_.assign(K_, 0.0);
    weighted_prior_sum_.assign(K_, 0.0);
    for (int p = 0; p < parts_; ++p) {
      ll += part_ll[p];
      entropy_ += part_ent[p];
      for (int t = 0; t < K_; ++t) {
        prior_sum_[t] += part_prior[static_cast<size_t>(p) * K_ * 2 + t];
        weighted_prior_sum_[t] +=
            part_prior[static_cast<size_t>(p) * K_ * 2 + K_ + t];
      }
    }
    return ll;
  }

  // Re-estimates worker parameters from post_; returns crowd-kit's evidence
  // lower bound: expected complete log-likelihood (the prior term counted
  // once per answer, as crowd-kit does) plus the posterior entropy.
  double MStep() {
    double joint = 0.0;
    for (int t = 0; t < K_; ++t) {
      joint += weighted_prior_sum_[t] * std::log(std::max(prior_[t], kEps));
    }
    if (c_.model == Model::kFull) {
      joint += FullMStep();
    } else {
      joint += OneCoinMStep();
    }
    return joint + entropy_;
  }

  // Adds item j's posterior into a part's accumulator of M-step sums.
  using AddFn = void (*)(const DsEngine&, int32_t, double*);
  AddFn Adder() const {
    return c_.model == Model::kFull ? &AddFull : &AddOneCoin;
  }
  size_t AccumulatorWidth() const {
    return c_.model == Model::kFull ? static_cast<size_t>(W_) * K_ * K_
                                    : static_cast<size_t>(W_);
  }

  // sums_ from post_ as it stands (the E-step fills it otherwise): per part,
  // then reduced in part order.
  void FillSums() {
    const size_t width = AccumulatorWidth();
    const AddFn add = Adder();
    part_acc_.assign(width * parts_, 0.0);
    internal::ParallelFor(parts_, c_.threads, [&](int p) {
      double* a = &part_acc_[width * p];
      for (int32_t j = bounds_[p]; j < bounds_[p + 1]; ++j) add(*this, j, a);
    });
    ReduceParts(width);
  }

  // sums_ = the parts' accumulators added in part order (thread-count free).
  void ReduceParts(size_t width) {
    sums_.assign(part_acc_.begin(), part_acc_.begin() + width);
    for (int p = 1; p < parts_; ++p) {
      const double* a = &part_acc_[width * p];
      for (size_t i = 0; i < width; ++i) sums_[i] += a[i];
    }
  }

  static void AddFull(const DsEngine& e, int32_t j, double* a) {
    const int K = e.K_;
    const double* p = &e.post_[static_cast<size_t>(j) * K];
    for (int64_t k = e.g_.begin[j]; k < e.g_.begin[j + 1]; ++k) {
      double* cell =
          a + (static_cast<size_t>(e.g_.worker[k]) * K + e.g_.label[k]) * K;
      for (int t = 0; t < K; ++t) cell[t] += p[t];
    }
  }

  static void AddOneCoin(const DsEngine& e, int32_t j, double* a) {
    const double* p = &e.post_[static_cast<size_t>(j) * e.K_];
    for (int64_t k = e.g_.begin[j]; k < e.g_.begin[j + 1]; ++k) {
      a[e.g_.worker[k]] += p[e.g_.label[k]];
    }
  }

  double FullMStep() {
    const std::vector<double>& counts = sums_;
    const bool smooth =
        c_.confusion_prior > 0 || c_.diagonal_prior > 0 || c_.pooled_prior > 0;
    // Pooled confusion of all workers, [o][t], normalised over o.
    std::vector<double> pooled(static_cast<size_t>(K_) * K_, 0.0);
    if (c_.pooled_prior > 0) {
      for (int32_t w = 0; w < W_; ++w) {
        const double* n = &counts[static_cast<size_t>(w) * K_ * K_];
        for (int i = 0; i < K_ * K_; ++i) pooled[i] += n[i];
      }
      for (int t = 0; t < K_; ++t) {
        double s = 0.0;
        for (int o = 0; o < K_; ++o) s += pooled[o * K_ + t];
        for (int o = 0; o < K_; ++o) {
          pooled[o * K_ + t] =
              s > 0 ? c_.pooled_prior * pooled[o * K_ + t] / s : 0.0;
        }
      }
    }
    double joint = 0.0;
    std::vector<double> denom(K_);
    for (int32_t w = 0; w < W_; ++w) {
      const double* n = &counts[static_cast<size_t>(w) * K_ * K_];  // [o][t]
      double* lc = &log_conf_[static_cast<size_t>(w) * K_ * K_];
      std::fill(denom.begin(), denom.end(), 0.0);
      for (int o = 0; o < K_; ++o) {
        const bool seen = answers_of_[w * K_ + o] > 0;
        for (int t = 0; t < K_; ++t) {
          double v;
          if (smooth) {
            v = n[o * K_ + t] + c_.confusion_prior + pooled[o * K_ + t] +
                (o == t ? c_.diagonal_prior : 0.0);
          } else {
            v = seen ? std::max(n[o * K_ + t], kEps) : 0.0;
          }
          lc[o * K_ + t] = v;
          denom[t] += v;
        }
      }
      for (int o = 0; o < K_; ++o) {
        for (int t = 0; t < K_; ++t) {
          const double v = lc[o * K_ + t];
          const double l = v > 0 ? std::log(v / denom[t])
                                 : -std::numeric_limits<double>::infinity();
          if (n[o * K_ + t] > 0) joint += n[o * K_ + t] * l;
          lc[o * K_ + t] = l;
        }
      }
    }
    return joint;
  }

  double OneCoinMStep() {
    const std::vector<double>& hit = sums_;
    skill_.assign(W_, std::numeric_limits<double>::quiet_NaN());
    double joint = 0.0;
    for (int32_t w = 0; w < W_; ++w) {
      int64_t n = 0;
      for (int o = 0; o < K_; ++o) n += answers_of_[w * K_ + o];
      if (n == 0) continue;
      const double s = hit[w] / static_cast<double>(n);
      skill_[w] = s;
      const double right = std::clamp(s, kEps, 1 - kEps);
      const double wrong =
          K_ > 1 ? std::clamp((1 - s) / (K_ - 1), kEps, 1 - kEps) : kEps;
      const double lr = std::log(right), lw = std::log(wrong);
      double* lc = &log_conf_[static_cast<size_t>(w) * K_ * K_];
      for (int o = 0; o < K_; ++o) {
        for (int t = 0; t < K_; ++t) lc[o * K_ + t] = o == t ? lr : lw;
      }
      joint += hit[w] * lr + (static_cast<double>(n) - hit[w]) * lw;
    }
    return joint;
  }

  CategoricalResult Finish(CategoricalResult r) {
    const int K = K_;
    r.class_prior = prior_;
    r.label.assign(g_.num_items, -1);
    for (int32_t j = 0; j < g_.num_items; ++j) {
      double* p = &post_[static_cast<size_t>(j) * K];
      if (g_.begin[j] == g_.begin[j + 1]) {
        std::copy(prior_.begin(), prior_.end(), p);
        continue;
      }
      r.label[j] = static_cast<int32_t>(std::max_element(p, p + K) - p);
    }
    r.posterior = std::move(post_);
    // Confusion rows [t][o] = exp(log_conf[o][t]).
    r.confusion.assign(static_cast<size_t>(W_) * K * K, 0.0);
    r.skill.assign(W_, std::numeric_limits<double>::quiet_NaN());
    for (int32_t w = 0; w < W_; ++w) {
      int64_t n = 0;
      for (int o = 0; o < K; ++o) n += answers_of_[w * K + o];
      const double* lc = &log_conf_[static_cast<size_t>(w) * K * K];
      double* cf = &r.confusion[static_cast<size_t>(w) * K * K];
      for (int t = 0; t < K; ++t) {
        for (int o = 0; o < K; ++o) cf[t * K + o] = std::exp(lc[o * K + t]);
      }
      if (n == 0) continue;
      double s = 0.0;
      for (int t = 0; t < K; ++t) s += prior_[t] * cf[t * K + t];
      r.skill[w] = c_.model == Model::kOneCoin ? skill_[w] : s;
    }
    return r;
  }

  EmConfig c_;
  ByItem g_;
  int K_;
  int32_t W_;
  std::vector<int32_t> bounds_;
  int parts_ = 1;
  int64_t answers_ = 0;
  int64_t answered_items_ = 0;
  std::vector<int64_t> answers_of_;  // [w][o]
  std::vector<double> post_;
  std::vector<double> log_conf_;  // [w][o][t]
  std::vector<double> sums_;      // M-step sums: [w][o][t], or [w] one-coin
  std::vector<double> part_acc_;  // per part, sums_ before the reduction
  std::vector<double> prior_;
  std::vector<double> prior_sum_;
  std::vector<double> weighted_prior_sum_;
  std::vector<double> skill_;
  double entropy_ = 0.0;
};

}  // namespace

CategoricalResult DawidSkene(const CategoricalData& data,
                             const DawidSkeneOptions& options) {
  EmConfig c;
  c.model = Model::kFull;
  c.tolerance = options.tolerance;
  c.max_iterations = options.max_iterations;
  c.confusion_prior = options.confusion_prior;
  c.diagonal_prior = options.diagonal_prior;
  c.class_prior_smoothing = options.class_prior_smoothing;
  c.pooled_prior = options.pooled_prior;
  c.threads = options.threads;
  return DsEngine(data, c).Run();
}

CategoricalResult OneCoinDawidSkene(const CategoricalData& data,
                                    const OneCoinOptions& options) {
  EmConfig c;
  c.model = Model::kOneCoin;
  c.tolerance = options.tolerance;
  c.max_iterations = options.max_iterations;
  c.threads = options.threads;
  return DsEngine(data, c).Run();
}

DawidSkeneOptions BestDawidSkeneOptions(const BestOptions& options) {
  DawidSkeneOptions o;
  o.tolerance = options.tolerance;
  o.max_iterations = options.max_iterations;
  o.threads = options.threads;
  // Chosen once on product, sentiment, relevance, adult (the middle of the
  // region where all four beat the published best), then checked on face
  // and synthetic data; see docs/algorithms/dawid-skene.md.
  o.confusion_prior = 0.05;
  o.diagonal_prior = 0.2;
  return o;
}

CategoricalResult Best(const CategoricalData& data,
                       const BestOptions& options) {
  return DawidSkene(data, BestDawidSkeneOptions(options));
}

}  // namespace tessera::algo
