// One-coin posterior of a weighted vote and the smoothed reliability estimate.
#include "tessera/algo/vote_posterior.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_map.h"

namespace tessera::algo {

std::vector<double> OneCoinPosterior(absl::Span<const WeightedVote> votes,
                                     int32_t num_classes) {
  const int32_t k = std::max<int32_t>(num_classes, 2);
  // Log domain: many confident votes would underflow a product.
  std::vector<double> log_p(k, 0.0);
  for (const WeightedVote& v : votes) {
    if (v.label < 0 || v.label >= k) continue;
    const double a = std::clamp(v.accuracy, 0.001, 0.999);
    const double hit = std::log(a);
    const double miss = std::log((1.0 - a) / (k - 1));
    for (int32_t c = 0; c < k; ++c) log_p[c] += c == v.label ? hit : miss;
  }
  const double top = *std::max_element(log_p.begin(), log_p.end());
  double sum = 0.0;
  for (double& x : log_p) {
    x = std::exp(x - top);
    sum += x;
  }
  for (double& x : log_p) x /= sum;
  return log_p;
}

PosteriorMode ModeOf(absl::Span<const double> posterior) {
  PosteriorMode m;
  for (size_t c = 0; c < posterior.size(); ++c) {
    if (m.label < 0 || posterior[c] > m.confidence) {
      m.label = static_cast<int32_t>(c);
      m.confidence = posterior[c];
    }
  }
  return m;
}

double SmoothedAgreementAccuracy(double agreements, double comparisons) {
  return (agreements + 2.0) / (comparisons + 3.0);
}

double AgreementWithOthers(int32_t label, absl::Span<const int32_t> others) {
  if (others.empty()) return -1.0;
  absl::flat_hash_map<int32_t, int> count;
  int best = 0;
  for (int32_t o : others) best = std::max(best, ++count[o]);
  int tied = 0;
  for (const auto& [cls, n] : count) tied += n == best ? 1 : 0;
  auto it = count.find(label);
  if (it == count.end() || it->second != best) return 0.0;
  return 1.0 / tied;
}

double ChanceCorrectedAccuracy(double agreements, double pairs,
                               double crowd_agreements, double crowd_pairs,
                               int32_t num_classes) {
  const double k = std::max<int32_t>(num_classes, 2);
  if (crowd_pairs <= 0) return SmoothedAgreementAccuracy(agreements, pairs);
  const double p = crowd_agreements / crowd_pairs;
  // K q^2 - 2 q + 1 - (K - 1) p = 0, the root at or above chance (1 / K).
  const double disc = 1 - k + k * (k - 1) * p;
  const double q = disc > 0 ? (1 + std::sqrt(disc)) / k : 1 / k;
  const double chance = (1 - q) / (k - 1);  // P(agree | voter wrong)
  if (q - chance < 0.05) return SmoothedAgreementAccuracy(agreements, pairs);
  constexpr double kPseudoPairs = 3;
  const double r = (agreements + kPseudoPairs * p) / (pairs + kPseudoPairs);
  return std::clamp((r - chance) / (q - chance), 0.01, 0.99);
}

}  // namespace tessera::algo
