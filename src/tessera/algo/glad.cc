// GLAD (Whitehill et al. 2009): worker ability alpha, item inverse
// difficulty exp(beta). EM with a Newton-type M-step: per-item beta steps in
// parallel over item parts, per-worker alpha steps from per-part sums.
#include <algorithm>
#include <cmath>
#include <limits>

#include "tessera/algo/categorical.h"
#include "tessera/algo/internal/grouping.h"

namespace tessera::algo {
namespace {

using internal::ByItem;

inline double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
// log(1 + exp(x)) without overflow.
inline double Softplus(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}
constexpr double kMaxStep = 1.0;  // cap on one Newton step (safety only)

}  // namespace

CategoricalResult Glad(const CategoricalData& data, const GladOptions& o) {
  const ByItem g = internal::GroupByItem(data);
  const int K = g.num_classes;
  const int32_t W = g.num_workers, J = g.num_items;
  CategoricalResult r;
  r.num_items = J;
  r.num_workers = W;
  r.num_classes = K;
  r.class_prior.assign(K, K > 0 ? 1.0 / K : 0.0);
  r.label.assign(J, -1);
  r.posterior.assign(static_cast<size_t>(J) * K, 0.0);
  r.ability.assign(W, o.alpha_prior_mean);
  std::vector<double> beta(J, o.beta_prior_mean);
  if (K == 0 || g.size() == 0) {
    r.inverse_difficulty.assign(J, std::exp(o.beta_prior_mean));
    return r;
  }
  std::vector<double>& alpha = r.ability;
  std::vector<double>& post = r.posterior;
  const std::vector<int32_t> bounds = internal::SplitItems(g, 2LL * W);
  const int parts = static_cast<int>(bounds.size()) - 1;
  const double log_km1 = K > 1 ? std::log(static_cast<double>(K - 1)) : 0.0;
  const double inv_var = 1.0 / o.prior_variance;
  const double n_answers = static_cast<double>(g.size());
  std::vector<double> log_prior(K, std::log(1.0 / K));

  // E-step: posteriors and the marginal log-likelihood; also class sums.
  std::vector<double> part_ll(parts),
      part_prior(static_cast<size_t>(parts) * K);
  auto e_step = [&]() {
    internal::ParallelFor(parts, o.threads, [&](int p) {
      std::vector<double> lp(K);
      double ll = 0.0;
      double* ps = &part_prior[static_cast<size_t>(p) * K];
      std::fill(ps, ps + K, 0.0);
      for (int32_t j = bounds[p]; j < bounds[p + 1]; ++j) {
        const int64_t b = g.begin[j], e = g.begin[j + 1];
        if (b == e) continue;
        const double ib = std::exp(beta[j]);
        double base = 0.0;
        std::copy(log_prior.begin(), log_prior.end(), lp.begin());
        for (int64_t k = b; k < e; ++k) {
          const double x = alpha[g.worker[k]] * ib;
          base += -Softplus(x) - log_km1;  // log((1 - sigma) / (K - 1))
          lp[g.label[k]] += x + log_km1;   // log(sigma) - that
        }
        double mx = lp[0];
        for (int t = 1; t < K; ++t) mx = std::max(mx, lp[t]);
        double s = 0.0;
        for (int t = 0; t < K; ++t) s += (lp[t] = std::exp(lp[t] - mx));
        ll += base + mx + std::log(s);
        double* out = &post[static_cast<size_t>(j) * K];
        for (int t = 0; t < K; ++t) {
          out[t] = lp[t] / s;
          ps[t] += out[t];
        }
      }
      part_ll[p] = ll;
    });
    double ll = 0.0;
    for (int p = 0; p < parts; ++p) ll += part_ll[p];
    for (int32_t w = 0; w < W; ++w) {
      const double d = alpha[w] - o.alpha_prior_mean;
      ll -= 0.5 * d * d * inv_var;
    }
    for (int32_t j = 0; j < J; ++j) {
      const double d = beta[j] - o.beta_prior_mean;
      ll -= 0.5 * d * d * inv_var;
    }
    return ll;
  };

  // One sweep: Fisher-scoring step on every beta, then Newton on every alpha
  // (the alpha sub-problem is concave).
  std::vector<double> part_grad(static_cast<size_t>(parts) * W * 2);
  auto m_sweep = [&]() {
    internal::ParallelFor(parts, o.threads, [&](int p) {
      for (int32_t j = bounds[p]; j < bounds[p + 1]; ++j) {
        const int64_t b = g.begin[j], e = g.begin[j + 1];
        const double ib = std::exp(beta[j]);
        const double* q = &post[static_cast<size_t>(j) * K];
        double gr = -(beta[j] - o.beta_prior_mean) * inv_var, h = inv_var;
        for (int64_t k = b; k < e; ++k) {
          const double a = alpha[g.worker[k]];
          const double s = Sigmoid(a * ib);
          gr += (q[g.label[k]] - s) * a * ib;
          h += s * (1 - s) * a * a * ib * ib;
        }
        beta[j] += std::clamp(gr / h, -kMaxStep, kMaxStep);
      }
    });
    internal::ParallelFor(parts, o.threads, [&](int p) {
      double* acc = &part_grad[static_cast<size_t>(p) * W * 2];
      std::fill(acc, acc + static_cast<size_t>(W) * 2, 0.0);
      for (int32_t j = bounds[p]; j < bounds[p + 1]; ++j) {
        const double ib = std::exp(beta[j]);
        const double* q = &post[static_cast<size_t>(j) * K];
        for (int64_t k = g.begin[j]; k < g.begin[j + 1]; ++k) {
          const int32_t w = g.worker[k];
          const double s = Sigmoid(alpha[w] * ib);
          acc[2 * w] += (q[g.label[k]] - s) * ib;
          acc[2 * w + 1] += s * (1 - s) * ib * ib;
        }
      }
    });
    for (int32_t w = 0; w < W; ++w) {
      double gr = -(alpha[w] - o.alpha_prior_mean) * inv_var, h = inv_var;
      for (int p = 0; p < parts; ++p) {
        gr += part_grad[(static_cast<size_t>(p) * W + w) * 2];
        h += part_grad[(static_cast<size_t>(p) * W + w) * 2 + 1];
      }
      alpha[w] += std::clamp(gr / h, -kMaxStep, kMaxStep);
    }
  };

  double last = -std::numeric_limits<double>::infinity();
  r.converged = false;
  for (int it = 0; it < o.max_iterations; ++it) {
    const double obj = e_step() / n_answers;
    r.log_likelihood.push_back(obj);
    r.iterations = it + 1;
    if (o.learn_class_prior) {
      std::vector<double> sum(K, 1.0);  // add-one smoothing
      double total = 0.0;
      for (int p = 0; p < parts; ++p) {
        for (int t = 0; t < K; ++t)
          sum[t] += part_prior[static_cast<size_t>(p) * K + t];
      }
      for (double s : sum) total += s;
      for (int t = 0; t < K; ++t) {
        r.class_prior[t] = sum[t] / total;
        log_prior[t] = std::log(r.class_prior[t]);
      }
    }
    if (obj - last < o.tolerance) {
      r.converged = true;
      break;
    }
    last = obj;
    for (int s = 0; s < o.m_step_iterations; ++s) m_sweep();
  }
  // Labels, items without answers, skills (mean P(correct) over own answers).
  std::vector<double> hit(W, 0.0), count(W, 0.0);
  for (int32_t j = 0; j < J; ++j) {
    double* p = &post[static_cast<size_t>(j) * K];
    if (g.begin[j] == g.begin[j + 1]) {
      std::copy(r.class_prior.begin(), r.class_prior.end(), p);
      continue;
    }
    r.label[j] = static_cast<int32_t>(std::max_element(p, p + K) - p);
    const double ib = std::exp(beta[j]);
    for (int64_t k = g.begin[j]; k < g.begin[j + 1]; ++k) {
      hit[g.worker[k]] += Sigmoid(alpha[g.worker[k]] * ib);
      count[g.worker[k]] += 1.0;
    }
  }
  r.skill.assign(W, std::numeric_limits<double>::quiet_NaN());
  for (int32_t w = 0; w < W; ++w) {
    if (count[w] > 0) r.skill[w] = hit[w] / count[w];
  }
  r.inverse_difficulty.resize(J);
  for (int32_t j = 0; j < J; ++j) r.inverse_difficulty[j] = std::exp(beta[j]);
  return r;
}

}  // namespace tessera::algo
