// MACE (Hovy et al. 2013): each answer is either known (the true class) or a
// spam draw from the worker's strategy. EM or variational Bayes, in log space,
// several seeded restarts; expected counts summed per item part in order.
// MaceOptions::compat_crowdkit reproduces crowd-kit's MACE, indexing bug and
// all (docs/algorithms/mace.md).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include "tessera/algo/categorical.h"
#include "tessera/algo/internal/grouping.h"
#include "tessera/base/mix.h"

namespace tessera::algo {
namespace {

using internal::ByItem;

constexpr double kRescale = 1e200;
const double kLogRescale = std::log(kRescale);

double Digamma(double x) {
  double r = 0.0;
  while (x < 6.0) {
    r -= 1.0 / x;
    x += 1.0;
  }
  const double f = 1.0 / (x * x);
  return r + std::log(x) - 0.5 / x -
         f * (1.0 / 12 -
              f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
}

// Uniform doubles in [0, 1) from a seeded counter.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(SplitMix64(seed)) {}
  double Uniform() {
    state_ = SplitMix64(state_);
    return static_cast<double>(state_ >> 11) * 0x1.0p-53;
  }

 private:
  uint64_t state_;
};

struct Params {
  std::vector<double> spam, know;  // per worker (VB: sub-normalised)
  std::vector<double> xi;          // [w][y]
};

class MaceEngine {
 public:
  MaceEngine(const CategoricalData& data, const MaceOptions& o)
      : o_(o),
        g_(internal::GroupByItem(data)),
        K_(g_.num_classes),
        W_(g_.num_workers) {
    bounds_ = internal::SplitItems(g_, static_cast<int64_t>(W_) * (K_ + 2));
    parts_ = static_cast<int>(bounds_.size()) - 1;
    post_.assign(static_cast<size_t>(g_.num_items) * K_, 0.0);
    a_.resize(static_cast<size_t>(W_) * K_);
    r_.resize(static_cast<size_t>(W_) * K_);
    kf_.resize(static_cast<size_t>(W_) * K_);
    acc_.resize(static_cast<size_t>(parts_) * W_ * (K_ + 2));
    part_ll_.resize(parts_);
    if (o_.compat_crowdkit) CrowdKitOrders(data);
  }

  CategoricalResult Run() {
    CategoricalResult r;
    r.num_items = g_.num_items;
    r.num_workers = W_;
    r.num_classes = K_;
    r.class_prior.assign(K_, K_ > 0 ? 1.0 / K_ : 0.0);
    if (K_ == 0 || g_.size() == 0) return Finish(std::move(r), Params{});
    const double n = static_cast<double>(g_.size());
    Params best;
    double best_ll = -std::numeric_limits<double>::infinity();
    std::vector<double> best_trace;
    int best_iterations = 0;
    bool best_converged = false;
    // crowd-kit starts every restart from the same seed: one run suffices.
    const int restarts = o_.compat_crowdkit ? 1 : std::max(1, o_.restarts);
    for (int restart = 0; restart < restarts; ++restart) {
      Params p = Init(o_.seed * 1000003ULL + static_cast<uint64_t>(restart));
      std::vector<double> trace;
      double ll = EStep(p);
      bool converged = false;
      int it = 0;
      while (it < o_.max_iterations) {
        MStep(p);
        const double next = EStep(p);
        ++it;
        trace.push_back(next / n);
        const double change = (next - ll) / n;
        ll = next;
        if (o_.tolerance > 0 && std::abs(change) < o_.tolerance) {
          converged = true;
          break;
        }
      }
      if (o_.tolerance <= 0) converged = true;
      if (ll > best_ll) {
        best_ll = ll;
        best = p;
        best_trace = std::move(trace);
        best_iterations = it;
        best_converged = converged;
      }
    }
    EStep(best);
    r.log_likelihood = std::move(best_trace);
    r.iterations = best_iterations;
    r.converged = best_converged;
    return Finish(std::move(r), best);
  }

 private:
  // crowd-kit's orders. code_[y]: rank of class y in order of first
  // appearance in the answers (pandas.factorize); row_src_[w]: the worker
  // whose name is w-th in sorted order (the row order of its groupby).
  void CrowdKitOrders(const CategoricalData& data) {
    code_.assign(K_, -1);
    int next = 0;
    for (int32_t y : data.label) {
      if (code_[y] < 0) code_[y] = next++;
    }
    for (int y = 0; y < K_; ++y) {
      if (code_[y] < 0) code_[y] = next++;  // never answered: last
    }
    by_code_.resize(K_);
    for (int y = 0; y < K_; ++y) by_code_[code_[y]] = y;
    row_src_.resize(W_);
    std::iota(row_src_.begin(), row_src_.end(), 0);
    const std::vector<std::string>& names = o_.worker_names;
    if (names.size() != static_cast<size_t>(W_)) return;
    // pandas reads an all-integer column as int64 and sorts it numerically.
    std::vector<int64_t> num(W_);
    bool numeric = true;
    for (int32_t w = 0; w < W_ && numeric; ++w) {
      const std::string& n = names[w];
      const auto res = std::from_chars(n.data(), n.data() + n.size(), num[w]);
      numeric =
          !n.empty() && res.ec == std::errc() && res.ptr == n.data() + n.size();
    }
    std::stable_sort(row_src_.begin(), row_src_.end(),
                     [&](int32_t a, int32_t b) {
                       return numeric ? num[a] < num[b] : names[a] < names[b];
                     });
  }

  // crowd-kit's start: numpy RandomState(seed).random_sample (MT19937,
  // 53-bit doubles) scaled to [1, 2.5); (spam, know) per worker from one
  // stream, xi from a second stream with the same seed, indexed [w][code].
  Params CrowdKitInit() {
    auto stream = [&](size_t n) {
      std::mt19937 gen(static_cast<uint32_t>(o_.seed));
      std::vector<double> u(n);
      for (double& x : u) {
        const uint32_t a = gen() >> 5, b = gen() >> 6;
        x = 1.0 + 1.5 * ((a * 67108864.0 + b) / 9007199254740992.0);
      }
      return u;
    };
    Params p;
    p.spam.resize(W_);
    p.know.resize(W_);
    p.xi.resize(static_cast<size_t>(W_) * K_);
    const std::vector<double> s = stream(2 * static_cast<size_t>(W_));
    for (int32_t w = 0; w < W_; ++w) {
      p.spam[w] = s[2 * w] / (s[2 * w] + s[2 * w + 1]);
      p.know[w] = s[2 * w + 1] / (s[2 * w] + s[2 * w + 1]);
    }
    const std::vector<double> x = stream(static_cast<size_t>(W_) * K_);
    for (int32_t w = 0; w < W_; ++w) {
      double sum = 0.0;
      for (int y = 0; y < K_; ++y) sum += x[w * K_ + y];
      for (int y = 0; y < K_; ++y) {
        p.xi[w * K_ + y] = x[w * K_ + code_[y]] / sum;
      }
    }
    return p;
  }

  Params Init(uint64_t seed) {
    if (o_.compat_crowdkit) return CrowdKitInit();
    Rng rng(seed);
    Params p;
    p.spam.resize(W_);
    p.know.resize(W_);
    p.xi.resize(static_cast<size_t>(W_) * K_);
    // As in MACE and crowd-kit: uniform draws in [1, 2.5), normalised.
    for (int32_t w = 0; w < W_; ++w) {
      const double s = 1.0 + 1.5 * rng.Uniform(), k = 1.0 + 1.5 * rng.Uniform();
      p.spam[w] = s / (s + k);
      p.know[w] = k / (s + k);
    }
    for (int32_t w = 0; w < W_; ++w) {
      double sum = 0.0;
      for (int y = 0; y < K_; ++y)
        sum += (p.xi[w * K_ + y] = 1.0 + 1.5 * rng.Uniform());
      for (int y = 0; y < K_; ++y) p.xi[w * K_ + y] /= sum;
    }
    return p;
  }

  // Posteriors, expected counts per part, and the marginal log-likelihood.
  double EStep(const Params& p) {
    for (int32_t w = 0; w < W_; ++w) {
      for (int y = 0; y < K_; ++y) {
        const double sx = p.spam[w] * p.xi[w * K_ + y];
        a_[w * K_ + y] = std::log(sx);
        r_[w * K_ + y] = (sx + p.know[w]) / sx;
        kf_[w * K_ + y] = p.know[w] / (sx + p.know[w]);
      }
    }
    const double log_uniform = -std::log(static_cast<double>(K_));
    const size_t width = static_cast<size_t>(W_) * (K_ + 2);
    internal::ParallelFor(parts_, o_.threads, [&](int part) {
      double* acc =
          &acc_[width * part];  // [w][0..K-1] spam by label, K: spam, K+1: know
      std::fill(acc, acc + width, 0.0);
      std::vector<double> lp(K_);
      // The log-likelihood sums base + log(s) over items; the logs of s are
      // taken once per part from a product kept as mantissa and exponent
      // (std::log per item was 39% of MACE's time).
      double ll = 0.0;
      double mantissa = 1.0;
      int64_t exponent = 0;
      for (int32_t j = bounds_[part]; j < bounds_[part + 1]; ++j) {
        const int64_t b = g_.begin[j], e = g_.begin[j + 1];
        if (b == e) continue;
        // log P(answers, true = t) = base + log lp[t]: base sums log(spam*xi)
        // over all answers; lp[t] multiplies the ratios (spam*xi + know) /
        // (spam*xi) of answers equal to t (linear domain: no exp per item;
        // rescaled before it could overflow).
        double base = log_uniform;
        std::fill(lp.begin(), lp.end(), 1.0);
        for (int64_t k = b; k < e; ++k) {
          const int32_t c = g_.worker[k] * K_ + g_.label[k];
          base += a_[c];
          double& v = lp[g_.label[k]];
          v *= r_[c];
          if (v > kRescale) {
            for (double& x : lp) x *= 1.0 / kRescale;
            base += kLogRescale;
          }
        }
        double s = 0.0;
        for (int t = 0; t < K_; ++t) s += lp[t];
        ll += base;
        int ex = 0;
        mantissa *= std::frexp(s, &ex);
        exponent += ex;
        if (mantissa < 1e-250) {
          mantissa = std::frexp(mantissa, &ex);
          exponent += ex;
        }
        double* out = &post_[static_cast<size_t>(j) * K_];
        for (int t = 0; t < K_; ++t) out[t] = lp[t] / s;
        for (int64_t k = b; k < e; ++k) {
          const int32_t w = g_.worker[k], y = g_.label[k];
          // P(knew) = P(true = y) * know / (spam * xi_y + know).
          const double knew = out[y] * kf_[w * K_ + y];
          double* aw = acc + static_cast<size_t>(w) * (K_ + 2);
          aw[y] += 1.0 - knew;
          aw[K_] += 1.0 - knew;
          aw[K_ + 1] += knew;
        }
      }
      part_ll_[part] =
          ll + std::log(mantissa) + static_cast<double>(exponent) * M_LN2;
    });
    double ll = 0.0;
    for (int part = 0; part < parts_; ++part) ll += part_ll_[part];
    return ll;
  }

  void MStep(Params& p) {
    const size_t width = static_cast<size_t>(W_) * (K_ + 2);
    std::vector<double> c(acc_.begin(), acc_.begin() + width);
    for (int part = 1; part < parts_; ++part) {
      for (size_t i = 0; i < width; ++i) c[i] += acc_[width * part + i];
    }
    const double smoothing = o_.smoothing >= 0 ? o_.smoothing : 0.01 / K_;
    for (int32_t w = 0; w < W_; ++w) {
      const double* cw = &c[static_cast<size_t>(w) * (K_ + 2)];
      double strategy_total = 0.0;
      for (int y = 0; y < K_; ++y) strategy_total += cw[y];
      if (o_.variational) {
        const double norm = std::exp(
            Digamma(cw[K_] + cw[K_ + 1] + o_.spam_prior + o_.know_prior));
        p.spam[w] = std::exp(Digamma(cw[K_] + o_.spam_prior)) / norm;
        p.know[w] = std::exp(Digamma(cw[K_ + 1] + o_.know_prior)) / norm;
        const double xnorm =
            std::exp(Digamma(strategy_total + K_ * o_.strategy_prior));
        for (int y = 0; y < K_; ++y) {
          p.xi[w * K_ + y] =
              std::exp(Digamma(cw[y] + o_.strategy_prior)) / xnorm;
        }
      } else {
        const double total = cw[K_] + cw[K_ + 1] + 2 * smoothing;
        p.spam[w] = (cw[K_] + smoothing) / total;
        p.know[w] = (cw[K_ + 1] + smoothing) / total;
        for (int y = 0; y < K_; ++y) {
          p.xi[w * K_ + y] =
              (cw[y] + smoothing) / (strategy_total + K_ * smoothing);
        }
      }
    }
    if (o_.compat_crowdkit) {
      // crowd-kit's bug: its strategy counts come out of groupby(['worker',
      // 'label']) sorted by worker name and label, and are stored as
      // thetas_[first-appearance worker code, first-appearance label code].
      // Worker w thus gets the strategy of the w-th worker by name, and
      // class y the entry of the code_[y]-th class in sorted order.
      const std::vector<double> xi = p.xi;
      for (int32_t w = 0; w < W_; ++w) {
        const double* src = &xi[static_cast<size_t>(row_src_[w]) * K_];
        for (int y = 0; y < K_; ++y) p.xi[w * K_ + y] = src[code_[y]];
      }
    }
  }

  CategoricalResult Finish(CategoricalResult r, const Params& p) {
    const int K = K_;
    r.label.assign(g_.num_items, -1);
    std::vector<int64_t> answers(W_, 0);
    for (int32_t w : g_.worker) ++answers[w];
    for (int32_t j = 0; j < g_.num_items; ++j) {
      double* q = &post_[static_cast<size_t>(j) * K];
      if (g_.begin[j] == g_.begin[j + 1]) {
        std::copy(r.class_prior.begin(), r.class_prior.end(), q);
        continue;
      }
      if (o_.compat_crowdkit) {  // idxmax over first-appearance columns
        int32_t best = by_code_[0];
        for (int c = 1; c < K; ++c) {
          if (q[by_code_[c]] > q[best]) best = by_code_[c];
        }
        r.label[j] = best;
        continue;
      }
      r.label[j] = static_cast<int32_t>(std::max_element(q, q + K) - q);
    }
    r.posterior = std::move(post_);
    r.skill.assign(W_, std::numeric_limits<double>::quiet_NaN());
    if (p.spam.empty()) return r;
    r.confusion.assign(static_cast<size_t>(W_) * K * K, 0.0);
    for (int32_t w = 0; w < W_; ++w) {
      const double z = p.spam[w] + p.know[w];
      const double know = p.know[w] / z, spam = p.spam[w] / z;
      double xsum = 0.0;
      for (int y = 0; y < K; ++y) xsum += p.xi[w * K + y];
      for (int t = 0; t < K; ++t) {
        for (int y = 0; y < K; ++y) {
          r.confusion[(static_cast<size_t>(w) * K + t) * K + y] =
              spam * p.xi[w * K + y] / xsum + (y == t ? know : 0.0);
        }
      }
      if (answers[w] > 0) r.skill[w] = know;
    }
    return r;
  }

  MaceOptions o_;
  ByItem g_;
  int K_;
  int32_t W_;
  std::vector<int32_t> bounds_;
  int parts_ = 1;
  std::vector<double> post_;
  // Per (worker, label): log(spam*xi), 1 + know/(spam*xi), and
  // know/(spam*xi + know).
  std::vector<double> a_, r_, kf_;
  std::vector<double> acc_;
  std::vector<double> part_ll_;
  // compat_crowdkit only (see CrowdKitOrders).
  std::vector<int> code_, by_code_;
  std::vector<int32_t> row_src_;
};

}  // namespace

CategoricalResult Mace(const CategoricalData& data,
                       const MaceOptions& options) {
  return MaceEngine(data, options).Run();
}

}  // namespace tessera::algo
