// Standing (per annotator and domain), eligibility per pool, and allocation
// of claims (gold checks, priority when scarce, newcomer exploration, the
// comeback limit), each claim recording why; requester blocks.
#include "tessera/service/standing.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tessera/base/mix.h"
#include "tessera/base/status.h"
#include "tessera/domain/workforce.h"
#include "tessera/service/internal/access.h"
#include "tessera/service/service.h"

namespace tessera::service {

using domain::Role;
using domain::Tier;
using internal::Audit;
using internal::OwnedProject;
using internal::ParseStored;
using internal::RequireRole;
using store::Tx;

namespace {

// A reproducible draw in [0, 1) from (annotator, n), e.g. n = their claim
// count.
double Draw(UserId annotator, int64_t n) {
  const uint64_t x =
      Mix64(static_cast<uint64_t>(annotator.value) * 0x9E3779B97F4A7C15ULL +
            static_cast<uint64_t>(n) + 0x632BE59BD9B4E019ULL);
  return static_cast<double>(x >> 11) * 0x1.0p-53;
}

}  // namespace

namespace internal {

// Per-process caches: pool domains (immutable), per-snapshot agreement
// figures (snapshots are immutable), and per-annotator standing and pool
// scarcity for a few seconds.
class StandingCache {
 public:
  static constexpr absl::Duration kTtl = absl::Seconds(5);

  absl::StatusOr<std::string> PoolDomain(Tx& tx, PoolId pool) {
    {
      absl::MutexLock lock(&mu_);
      auto it = domains_.find(pool.value);
      if (it != domains_.end()) return it->second;
    }
    TS_ASSIGN_OR_RETURN(domain::Pool p, tx.GetPool(pool));
    std::string d = domain::WorkforceOf(ParseStored(p.config_json)).domain;
    absl::MutexLock lock(&mu_);
    domains_[pool.value] = d;
    return d;
  }

  // A pool's workforce settings and whether its config has a "workforce"
  // object, parsed once (pool configs do not change).
  struct PoolSettings {
    domain::WorkforceSettings ws;
    bool has_workforce = false;
  };
  std::shared_ptr<const PoolSettings> Settings(const domain::Pool& pool) {
    {
      absl::MutexLock lock(&mu_);
      auto it = settings_.find(pool.id.value);
      if (it != settings_.end()) return it->second;
    }
    nlohmann::json config = ParseStored(pool.config_json);
    auto out = std::make_shared<PoolSettings>();
    out->ws = domain::WorkforceOf(config);
    out->has_workforce = config.is_object() && config.contains("workforce");
    absl::MutexLock lock(&mu_);
    settings_[pool.id.value] = out;
    return out;
  }

  // annotator id -> (agreeing answers, answers) of one snapshot.
  using Agreement = absl::flat_hash_map<int64_t, std::pair<double, double>>;
  // The figures of `ref`'s snapshot. Without `load`, a snapshot not yet
  // cached is not read (its body may be large: the claim path must not parse
  // it inside a write transaction); the pool's newest cached older version
  // stands in, or null when there is none.
  absl::StatusOr<std::shared_ptr<const Agreement>> SnapshotAgreement(
      Tx& tx, const store::SnapshotRef& ref, bool load) {
    auto key = std::make_pair(ref.pool_id.value, ref.version);
    {
      absl::MutexLock lock(&mu_);
      auto it = agreement_.find(key);
      if (it != agreement_.end()) return it->second;
      if (!load) {
        auto older = agreement_.lower_bound(key);
        if (older != agreement_.begin()) {
          --older;
          if (older->first.first == ref.pool_id.value) return older->second;
        }
        return std::shared_ptr<const Agreement>();
      }
    }
    TS_ASSIGN_OR_RETURN(auto snap,
                        tx.FindQualitySnapshot(ref.pool_id, ref.version));
    auto out = std::make_shared<Agreement>();
    if (snap) {
      nlohmann::json body = ParseStored(snap->body_json);
      auto list = body.find("annotators");
      if (list != body.end() && list->is_array()) {
        for (const auto& a : *list) {
          int64_t id = a.value("annotator_id", int64_t{0});
          auto agree = a.find("agreement_with_inferred");
          if (agree != a.end() && agree->is_number()) {
            // classify, pairwise
            double n = a.value("answers", 0.0);
            (*out)[id] = {agree->get<double>() * n, n};
            continue;
          }
          auto pr = a.find("precision");
          auto rc = a.find("recall");
          if (pr != a.end() && rc != a.end() && pr->is_number() &&
              rc->is_number()) {
            // bbox: F1 of the annotator's boxes against the merged ones.
            double p = pr->get<double>(), r = rc->get<double>();
            double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
            double n = a.value("submissions", 0.0);
            (*out)[id] = {f1 * n, n};
          }
        }
      }
    }
    absl::MutexLock lock(&mu_);
    agreement_[key] = out;
    return std::shared_ptr<const Agreement>(out);
  }

  // A standing is kept for 3/4 to 5/4 of kTtl, by a hash of annotator and
  // time: annotators who start together (a shift, a load test) do not all
  // need theirs computed again, inside the single writer, in the same
  // moment every kTtl.
  static absl::Duration StandingTtl(UserId annotator, absl::Time computed_at) {
    return kTtl *
           (0.75 + 0.5 * Draw(annotator, absl::ToUnixMicros(computed_at)));
  }

  std::shared_ptr<const StandingSet> FreshStanding(UserId annotator,
                                                   absl::Time now) {
    absl::MutexLock lock(&mu_);
    auto it = standing_.find(annotator.value);
    if (it == standing_.end()) return nullptr;
    const absl::Time at = it->second->computed_at;
    if (now < at || now - at >= StandingTtl(annotator, at)) return nullptr;
    return it->second;
  }
  // Keeps `s` for its StandingTtl; entries past their time are dropped in
  // sweeps so the map stays about as large as the annotators of the last few
  // seconds.
  std::shared_ptr<const StandingSet> PutStanding(UserId annotator,
                                                 StandingSet s) {
    auto shared = std::make_shared<const StandingSet>(std::move(s));
    absl::MutexLock lock(&mu_);
    if (standing_.size() >= sweep_at_) {
      const absl::Time now = shared->computed_at;
      absl::erase_if(standing_, [&](const auto& kv) {
        const absl::Time at = kv.second->computed_at;
        return now < at || now - at >= StandingTtl(UserId(kv.first), at);
      });
      sweep_at_ = std::max<size_t>(1024, 2 * standing_.size());
    }
    standing_[annotator.value] = shared;
    return shared;
  }
  void ForgetStanding(UserId annotator) {
    absl::MutexLock lock(&mu_);
    standing_.erase(annotator.value);
  }

  // (tasks without gold, their free slots) of a pool, for a few seconds.
  absl::StatusOr<std::pair<int64_t, int64_t>> PoolSlots(Tx& tx, PoolId pool,
                                                        absl::Time now) {
    {
      absl::MutexLock lock(&mu_);
      auto it = slots_.find(pool.value);
      if (it != slots_.end() && now - it->second.first < kTtl &&
          now >= it->second.first) {
        return it->second.second;
      }
    }
    TS_ASSIGN_OR_RETURN(auto slots, tx.CountPoolSlots(pool));
    absl::MutexLock lock(&mu_);
    slots_[pool.value] = {now, slots};
    return slots;
  }

  // A pool's gold tasks, by id. Tasks are never deleted and their gold never
  // changes, so the list only grows: it is extended with the gold tasks
  // above the highest id it holds (tasks_gold, as many index entries as new
  // gold tasks) whenever MaxTaskId (one index probe) is higher. A task
  // committed with a lower id after a higher one (possible on PostgreSQL)
  // is missed until the list is read whole again, kGoldReread after it was
  // last; until then the claim path falls back to the store's oldest-first
  // gold order.
  struct GoldList {
    absl::Time read_at;        // when the list was last read whole
    int64_t upto = 0;          // highest task id seen
    std::vector<int64_t> ids;  // ascending
  };
  static constexpr absl::Duration kGoldReread = absl::Minutes(1);
  absl::StatusOr<std::shared_ptr<const GoldList>> PoolGold(Tx& tx, PoolId pool,
                                                           absl::Time now) {
    TS_ASSIGN_OR_RETURN(int64_t max_id, tx.MaxTaskId(pool));
    std::shared_ptr<const GoldList> cached;
    {
      absl::MutexLock lock(&mu_);
      auto it = gold_.find(pool.value);
      if (it != gold_.end()) cached = it->second;
    }
    if (cached && now - cached->read_at >= kGoldReread) cached.reset();
    if (cached && cached->upto >= max_id) return cached;
    auto next = cached ? std::make_shared<GoldList>(*cached)
                       : std::make_shared<GoldList>();
    if (!cached) next->read_at = now;
    TS_ASSIGN_OR_RETURN(auto added, tx.ListGoldTaskIds(pool, next->upto));
    for (TaskId id : added) next->ids.push_back(id.value);
    next->upto = std::max(next->upto, max_id);
    absl::MutexLock lock(&mu_);
    auto& slot = gold_[pool.value];
    if (!slot || slot->read_at < next->read_at || slot->upto < next->upto) {
      slot = next;
    }
    return std::shared_ptr<const GoldList>(next);
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<int64_t, std::string> domains_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int64_t, std::shared_ptr<const GoldList>> gold_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int64_t, std::shared_ptr<const PoolSettings>> settings_
      ABSL_GUARDED_BY(mu_);
  std::map<std::pair<int64_t, int>, std::shared_ptr<const Agreement>> agreement_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int64_t, std::shared_ptr<const StandingSet>> standing_
      ABSL_GUARDED_BY(mu_);
  size_t sweep_at_ ABSL_GUARDED_BY(mu_) = 1024;
  absl::flat_hash_map<int64_t,
                      std::pair<absl::Time, std::pair<int64_t, int64_t>>>
      slots_ ABSL_GUARDED_BY(mu_);
};

std::shared_ptr<StandingCache> NewStandingCache() {
  return std::make_shared<StandingCache>();
}

// What ListPools reads once per caller.
struct EligibilityMemo {
  std::shared_ptr<const StandingSet> standing;
  absl::flat_hash_map<int64_t, std::string> blocked;  // project -> reason
  absl::flat_hash_map<std::string, bool> skills;
};

const domain::Standing& StandingSet::In(const std::string& d) const {
  auto it = by_domain.find(d);
  return it == by_domain.end() ? empty : it->second;
}

absl::StatusOr<StandingSet> ComputeStandingSet(
    Tx& tx, UserId annotator, absl::Time now,
    const domain::StandingPolicy& policy, StandingCache& cache,
    bool load_snapshots) {
  TS_ASSIGN_OR_RETURN(auto reviews, tx.ListReviewDays(annotator));
  TS_ASSIGN_OR_RETURN(auto golds, tx.ListGoldDays(annotator));
  std::set<int64_t> pool_ids;
  for (const auto& r : reviews) pool_ids.insert(r.pool_id.value);
  for (const auto& g : golds) pool_ids.insert(g.pool_id.value);
  std::map<int64_t, std::string> domain_of;
  std::vector<PoolId> pools;
  for (int64_t id : pool_ids) {
    TS_ASSIGN_OR_RETURN(domain_of[id], cache.PoolDomain(tx, PoolId(id)));
    pools.push_back(PoolId(id));
  }
  std::map<std::string, domain::StandingInputs> inputs;
  domain::StandingInputs overall;
  auto add = [&](int64_t pool, auto member, domain::Observation o) {
    (inputs[domain_of[pool]].*member).push_back(o);
    (overall.*member).push_back(o);
  };
  using In = domain::StandingInputs;
  for (const auto& r : reviews) {
    const int64_t pool = r.pool_id.value;
    add(pool, &In::first_pass,
        {r.day, static_cast<double>(r.first_pass),
         static_cast<double>(r.reviewed)});
    add(pool, &In::rounds,
        {r.day, static_cast<double>(r.rounds),
         static_cast<double>(r.reviewed)});
    if (r.decided > 0) {
      add(pool, &In::rejection,
          {r.day, static_cast<double>(r.rejected),
           static_cast<double>(r.decided)});
    }
  }
  for (const auto& g : golds) {
    add(g.pool_id.value, &In::gold,
        {g.day, static_cast<double>(g.passed), static_cast<double>(g.checks)});
  }
  TS_ASSIGN_OR_RETURN(auto refs, tx.ListLatestSnapshotRefs(pools));
  for (const auto& ref : refs) {
    TS_ASSIGN_OR_RETURN(auto agreement,
                        cache.SnapshotAgreement(tx, ref, load_snapshots));
    if (agreement == nullptr) continue;
    auto it = agreement->find(annotator.value);
    if (it == agreement->end() || it->second.second <= 0) continue;
    add(ref.pool_id.value, &In::agreement,
        {ref.created_at, it->second.first, it->second.second});
  }
  StandingSet out;
  out.computed_at = now;
  out.empty = domain::ComputeStanding({}, policy, now);
  for (const auto& [d, in] : inputs) {
    out.by_domain[d] = domain::ComputeStanding(in, policy, now);
  }
  out.overall = domain::ComputeStanding(overall, policy, now);
  // Work that keeps coming back, over the UTC days of the window (the day
  // containing now - window and every day after it).
  const absl::Time since = absl::FromUnixSeconds(
      absl::ToUnixSeconds(now - policy.comeback_window) / 86400 * 86400);
  for (const auto& r : reviews) {
    if (r.day < since) continue;
    out.comeback_reviewed += r.reviewed;
    out.comeback_returned += r.came_back;
  }
  out.comeback_reason = domain::ComebackReason(out.comeback_reviewed,
                                               out.comeback_returned, policy);
  return out;
}

nlohmann::json DomainStandingJson(const domain::Standing& s,
                                  const domain::StandingPolicy& policy) {
  nlohmann::json factors = nlohmann::json::array();
  for (const auto& f : s.factors) {
    factors.push_back({{"name", f.name},
                       {"count", f.count},
                       {"successes", f.successes},
                       {"decayed_count", f.decayed_count},
                       {"decayed_successes", f.decayed_successes},
                       {"prior", f.prior},
                       {"smoothed", f.smoothed},
                       {"value", f.value},
                       {"weight", f.weight},
                       {"contribution", f.contribution}});
  }
  return {{"score", s.score},
          {"tier", domain::ToString(s.tier)},
          {"reviewed", s.reviewed},
          {"gold_checks", s.gold_checks},
          {"gold_accuracy_upper", s.gold_accuracy_upper},
          {"factors", std::move(factors)},
          {"hints", domain::StandingHints(s, policy)}};
}

nlohmann::json PolicyJson(const domain::StandingPolicy& p) {
  return {{"half_life_days", absl::ToDoubleHours(p.half_life) / 24},
          {"comeback",
           {{"share", p.comeback_share},
            {"min_reviewed", p.comeback_min_reviewed},
            {"window_days", absl::ToDoubleHours(p.comeback_window) / 24}}},
          {"scarce",
           {{"open_share", p.scarce_open_share},
            {"price_minor", p.scarce_price_minor}}}};
}

}  // namespace internal

absl::StatusOr<nlohmann::json> StandingJson(
    Tx& tx, UserId annotator, absl::Time now,
    const domain::StandingPolicy& policy, internal::StandingCache* cache,
    bool record_history) {
  std::shared_ptr<internal::StandingCache> own;
  if (cache == nullptr) {
    own = internal::NewStandingCache();
    cache = own.get();
  }
  TS_ASSIGN_OR_RETURN(
      internal::StandingSet set,
      internal::ComputeStandingSet(tx, annotator, now, policy, *cache));
  TS_ASSIGN_OR_RETURN(auto history, tx.ListStandingHistory(annotator));
  if (record_history) {
    std::map<std::string, std::string> last;
    for (const auto& h : history) last[h.domain] = h.tier;
    auto record = [&](const std::string& d,
                      const domain::Standing& s) -> absl::Status {
      auto it = last.find(d);
      std::string was = it == last.end() ? "newcomer" : it->second;
      std::string now_tier(domain::ToString(s.tier));
      if (was == now_tier) return absl::OkStatus();
      store::StandingHistoryRow row;
      row.annotator_id = annotator;
      row.domain = d;
      row.tier = now_tier;
      row.score = s.score;
      row.at = now;
      TS_ASSIGN_OR_RETURN(row.id, tx.InsertStandingHistory(row));
      history.push_back(row);
      return absl::OkStatus();
    };
    TS_RETURN_IF_ERROR(record(std::string(kOverallDomain), set.overall));
    for (const auto& [d, s] : set.by_domain) {
      TS_RETURN_IF_ERROR(record(d, s));
    }
  }
  nlohmann::json overall = internal::DomainStandingJson(set.overall, policy);
  nlohmann::json domains = nlohmann::json::array();
  for (const auto& [d, s] : set.by_domain) {
    nlohmann::json j = internal::DomainStandingJson(s, policy);
    j["domain"] = d;
    domains.push_back(std::move(j));
  }
  nlohmann::json flags = nlohmann::json::array();
  if (set.comeback_reason) {
    flags.push_back({{"flag", "comeback"},
                     {"reason", *set.comeback_reason},
                     {"reviewed", set.comeback_reviewed},
                     {"returned_or_rejected", set.comeback_returned},
                     {"max_active_claims", 1},
                     {"priority", false}});
  }
  nlohmann::json hist = nlohmann::json::array();
  for (const auto& h : history) {
    hist.push_back({{"domain", h.domain},
                    {"tier", h.tier},
                    {"score", h.score},
                    {"at", Rfc3339(h.at)}});
  }
  nlohmann::json weights = nlohmann::json::object();
  for (const auto& f : set.overall.factors) weights[f.name] = f.weight;
  nlohmann::json pol = internal::PolicyJson(policy);
  pol["weights"] = std::move(weights);
  return nlohmann::json{{"annotator_id", annotator.value},
                        {"computed_at", Rfc3339(now)},
                        {"overall", std::move(overall)},
                        {"domains", std::move(domains)},
                        {"tiers", domain::TierThresholdsJson(policy)},
                        {"policy", std::move(pol)},
                        {"flags", std::move(flags)},
                        {"history", std::move(hist)}};
}

namespace {

std::string Num2(double v) { return absl::StrFormat("%.2f", v); }

}  // namespace

namespace internal {

uint64_t GoldRank(UserId annotator, TaskId task) {
  return Mix64(static_cast<uint64_t>(annotator.value) * 0xD1B54A32D192ED03ULL ^
               (static_cast<uint64_t>(task.value) + 0x8CB92BA72F3D8DD7ULL) *
                   0x9E3779B97F4A7C15ULL);
}

std::optional<TaskId> NextGoldTask(
    UserId annotator, const std::vector<int64_t>& gold,
    const absl::flat_hash_set<int64_t>& claimed) {
  std::optional<TaskId> best;
  uint64_t best_rank = 0;
  for (int64_t id : gold) {
    if (claimed.contains(id)) continue;
    const uint64_t rank = GoldRank(annotator, TaskId(id));
    if (!best || rank < best_rank || (rank == best_rank && id < best->value)) {
      best = TaskId(id);
      best_rank = rank;
    }
  }
  return best;
}

}  // namespace internal

namespace {

absl::Time UtcMidnight(absl::Time now) {
  int64_t s = absl::ToUnixSeconds(now);
  int64_t day = s >= 0 ? s / 86400 : (s - 86399) / 86400;
  return absl::FromUnixSeconds(day * 86400);
}

std::string TierName(Tier t) { return std::string(domain::ToString(t)); }

}  // namespace

void Service::SetStandingPolicy(const domain::StandingPolicy& policy) {
  standing_policy_ = policy;
}

absl::StatusOr<std::vector<std::string>> Service::PoolEligibility(
    Tx& tx, const Principal& p, const domain::Pool& pool, absl::Time now,
    std::shared_ptr<internal::EligibilityMemo>& memo) {
  if (memo == nullptr) {
    memo = std::make_shared<internal::EligibilityMemo>();
    TS_ASSIGN_OR_RETURN(auto blocks, tx.ListAnnotatorBlocks(p.id));
    for (const auto& b : blocks) memo->blocked[b.project_id.value] = b.reason;
  }
  std::vector<std::string> reasons;
  const auto settings = standing_cache_->Settings(pool);
  const domain::WorkforceSettings& ws = settings->ws;
  if (auto it = memo->blocked.find(pool.project_id.value);
      it != memo->blocked.end()) {
    reasons.push_back(
        absl::StrCat("blocked in this project by its requester: ", it->second));
  }
  if (ws.skill) {
    auto it = memo->skills.find(*ws.skill);
    if (it == memo->skills.end()) {
      TS_ASSIGN_OR_RETURN(bool has, tx.HasSkill(p.id, *ws.skill));
      it = memo->skills.emplace(*ws.skill, has).first;
    }
    if (!it->second) {
      reasons.push_back(absl::StrCat(
          "needs the skill ", *ws.skill,
          " (a reviewer grants it after checking your background)"));
    }
  }
  if (ws.trial.required) {
    TS_ASSIGN_OR_RETURN(bool passed, tx.HasPassedTrial(p.id, pool.id));
    if (!passed) reasons.push_back("needs a passed trial for this pool");
  }
  if (ws.daily_cap > 0) {
    TS_ASSIGN_OR_RETURN(int64_t today,
                        tx.CountClaimsSince(p.id, pool.id, UtcMidnight(now)));
    if (today >= ws.daily_cap) {
      reasons.push_back(absl::StrCat("daily cap reached: ", today, " of ",
                                     ws.daily_cap, " tasks today"));
    }
  }
  if (ws.tier_min > Tier::kNewcomer) {
    if (!memo->standing) {
      memo->standing = standing_cache_->FreshStanding(p.id, now);
      if (!memo->standing) {
        TS_ASSIGN_OR_RETURN(
            internal::StandingSet computed,
            internal::ComputeStandingSet(tx, p.id, now, standing_policy_,
                                         *standing_cache_));
        memo->standing =
            standing_cache_->PutStanding(p.id, std::move(computed));
      }
    }
    const domain::Standing& s = memo->standing->In(ws.domain);
    if (s.tier < ws.tier_min) {
      bool may_explore = s.tier == Tier::kNewcomer && reasons.empty();
      if (may_explore) {
        TS_ASSIGN_OR_RETURN(auto counts,
                            tx.CountPoolClaimsSince(pool.id, UtcMidnight(now)));
        may_explore = counts.second < ws.exploration_share * counts.first + 1;
      }
      if (!may_explore) {
        reasons.push_back(absl::StrCat("needs tier ", TierName(ws.tier_min),
                                       "; yours is ", TierName(s.tier),
                                       " (score ", Num2(s.score), ")"));
      }
    }
  }
  return reasons;
}

absl::StatusOr<Service::Allocation> Service::Allocate(Tx& tx,
                                                      const Principal& p,
                                                      const domain::Pool& pool,
                                                      absl::Time now) {
  const domain::StandingPolicy& policy = standing_policy_;
  const auto settings = standing_cache_->Settings(pool);
  const domain::WorkforceSettings& ws = settings->ws;
  Allocation out;
  std::shared_ptr<const internal::StandingSet> set =
      standing_cache_->FreshStanding(p.id, now);
  if (!set) {
    TS_ASSIGN_OR_RETURN(
        internal::StandingSet computed,
        internal::ComputeStandingSet(tx, p.id, now, policy, *standing_cache_,
                                     /*load_snapshots=*/false));
    set = standing_cache_->PutStanding(p.id, std::move(computed));
  }
  const domain::Standing& s = set->In(ws.domain);
  nlohmann::json reason = {{"policy", "open"},
                           {"tier", TierName(s.tier)},
                           {"score", s.score},
                           {"domain", ws.domain}};

  // Eligibility: blocked, skill, trial, daily cap (403 with every reason).
  std::vector<std::string> reasons;
  TS_ASSIGN_OR_RETURN(auto block, tx.FindBlock(pool.project_id, p.id));
  if (block) {
    reasons.push_back(absl::StrCat("blocked in this project by its requester: ",
                                   block->reason));
  }
  if (ws.skill) {
    TS_ASSIGN_OR_RETURN(bool has, tx.HasSkill(p.id, *ws.skill));
    if (!has) {
      reasons.push_back(absl::StrCat(
          "needs the skill ", *ws.skill,
          " (a reviewer grants it after checking your background)"));
    }
  }
  if (ws.trial.required) {
    TS_ASSIGN_OR_RETURN(bool passed, tx.HasPassedTrial(p.id, pool.id));
    if (!passed) reasons.push_back("needs a passed trial for this pool");
  }
  if (ws.daily_cap > 0) {
    TS_ASSIGN_OR_RETURN(int64_t today,
                        tx.CountClaimsSince(p.id, pool.id, UtcMidnight(now)));
    reason["daily_claims"] = today;
    reason["daily_cap"] = ws.daily_cap;
    if (today >= ws.daily_cap) {
      reasons.push_back(absl::StrCat("daily cap reached: ", today, " of ",
                                     ws.daily_cap, " tasks today"));
    }
  }
  const bool tier_short = s.tier < ws.tier_min;
  if (tier_short && (s.tier != Tier::kNewcomer || !reasons.empty())) {
    reasons.push_back(absl::StrCat("needs tier ", TierName(ws.tier_min),
                                   "; yours is ", TierName(s.tier), " (score ",
                                   Num2(s.score), ")"));
  }
  if (!reasons.empty()) {
    return absl::PermissionDeniedError(absl::StrJoin(reasons, "; "));
  }

  // Work that keeps coming back: one active claim across all pools.
  if (set->comeback_reason) {
    TS_ASSIGN_OR_RETURN(auto active, tx.ListActiveClaims(p.id));
    if (!active.empty()) {
      return absl::FailedPreconditionError(*set->comeback_reason);
    }
    reason["comeback"] = true;
  }

  // Scarcity (pools with workforce settings only) and exploration.
  bool scarce = false;
  if (settings->has_workforce) {
    if (policy.scarce_price_minor > 0 &&
        pool.price.amount_minor >= policy.scarce_price_minor) {
      scarce = true;
      reason["price_minor"] = pool.price.amount_minor;
    } else {
      TS_ASSIGN_OR_RETURN(auto slots,
                          standing_cache_->PoolSlots(tx, pool.id, now));
      const double all = static_cast<double>(slots.first) * pool.overlap;
      if (all > 0 && slots.second <= policy.scarce_open_share * all) {
        scarce = true;
        reason["open_slots"] = slots.second;
        reason["slots"] = static_cast<int64_t>(all);
      }
    }
  }
  const bool priority_ok =
      s.tier >= Tier::kQualityContributor && !set->comeback_reason;
  if (tier_short || (scarce && !priority_ok)) {
    const std::string refusal =
        tier_short
            ? absl::StrCat("needs tier ", TierName(ws.tier_min), "; yours is ",
                           TierName(s.tier), " (score ", Num2(s.score), ")")
            : "few tasks left: reserved for quality contributors";
    if (s.tier != Tier::kNewcomer) {
      return scarce && !tier_short ? absl::FailedPreconditionError(refusal)
                                   : absl::PermissionDeniedError(refusal);
    }
    TS_ASSIGN_OR_RETURN(auto counts,
                        tx.CountPoolClaimsSince(pool.id, UtcMidnight(now)));
    const double allowed = ws.exploration_share * counts.first + 1;
    if (!(counts.second < allowed)) {
      std::string msg = absl::StrCat(
          refusal, "; the newcomer share is used up today (", counts.second,
          " of ", counts.first, " claims, share ", ws.exploration_share, ")");
      return tier_short ? absl::PermissionDeniedError(msg)
                        : absl::FailedPreconditionError(msg);
    }
    reason["policy"] = "exploration";
    reason["newcomer_claims_today"] = counts.second;
    reason["claims_today"] = counts.first;
    reason["exploration_share"] = ws.exploration_share;
  } else if (scarce) {
    reason["policy"] = "priority";
  }
  if (scarce) reason["scarce"] = true;

  // Gold check or regular work.
  if (ws.gold_rate > 0) {
    TS_ASSIGN_OR_RETURN(
        int64_t n, tx.CountClaimsSince(p.id, pool.id, absl::InfinitePast()));
    const double u = Draw(p.id, n);
    if (u < ws.gold_rate) {
      // Each annotator meets the pool's gold tasks in an order of their own
      // (internal::GoldRank), so the checks are a random sample of the gold
      // set for everyone rather than the same oldest few; never a gold task
      // the annotator claimed before.
      TS_ASSIGN_OR_RETURN(auto gold_list,
                          standing_cache_->PoolGold(tx, pool.id, now));
      std::optional<TaskId> gold;
      int64_t gold_before = 0;
      if (!gold_list->ids.empty()) {
        TS_ASSIGN_OR_RETURN(auto mine, tx.ListClaimedGoldTasks(p.id, pool.id));
        absl::flat_hash_set<int64_t> claimed;
        for (TaskId t : mine) claimed.insert(t.value);
        gold_before = static_cast<int64_t>(claimed.size());
        gold = internal::NextGoldTask(p.id, gold_list->ids, claimed);
      }
      if (!gold) {
        // Gold tasks the cache has not seen (see PoolGold), oldest first.
        TS_ASSIGN_OR_RETURN(gold,
                            tx.FindClaimableTaskByGold(pool.id, p.id, true));
      }
      if (gold) {
        if (reason["policy"] != "open") reason["via"] = reason["policy"];
        reason["policy"] = "gold";
        reason["gold_rate"] = ws.gold_rate;
        reason["draw"] = u;
        reason["gold_claimed_before"] = gold_before;
        out.task = gold;
        out.consume_slot = false;
        out.reason = std::move(reason);
        return out;
      }
    }
    TS_ASSIGN_OR_RETURN(out.task,
                        tx.FindClaimableTaskByGold(pool.id, p.id, false));
    reason["gold_rate"] = ws.gold_rate;
    reason["draw"] = u;
  } else {
    TS_ASSIGN_OR_RETURN(out.task, tx.FindClaimableTask(pool.id, p.id));
  }
  out.reason = std::move(reason);
  return out;
}

absl::Status Service::RecordGoldCheck(Tx& tx, const domain::Pool& pool,
                                      const domain::Task& task,
                                      const domain::Submission& s,
                                      const nlohmann::json& result,
                                      absl::Time now) {
  if (!task.gold_json) return absl::OkStatus();
  domain::WorkforceSettings ws =
      domain::WorkforceOf(ParseStored(pool.config_json));
  auto grade =
      domain::GradeGold(pool.task_type, result, ParseStored(*task.gold_json),
                        ws.trial.rating_tolerance, ws.trial.iou_threshold);
  if (!grade) return absl::OkStatus();
  store::GoldCheckRow row;
  row.submission_id = s.id;
  row.pool_id = pool.id;
  row.task_id = task.id;
  row.annotator_id = s.annotator_id;
  row.score = grade->score;
  row.passed = grade->passed;
  row.created_at = now;
  TS_RETURN_IF_ERROR(tx.InsertGoldCheck(row));
  standing_cache_->ForgetStanding(s.annotator_id);
  return absl::OkStatus();
}

absl::StatusOr<json> Service::MyStanding(const Principal& p) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kAnnotator));
  absl::Time now = clock_.Now();
  json out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(out, StandingJson(tx, p.id, now, standing_policy_,
                                          standing_cache_.get(),
                                          /*record_history=*/true));
    return absl::OkStatus();
  }));
  standing_cache_->ForgetStanding(p.id);
  // ---- Workforce: reviewer invitations (issue 6)
  if (out["overall"].value("tier", "") == "reviewer_eligible" &&
      !p.Has(Role::kReviewer) && out["overall"]["hints"].is_array()) {
    out["overall"]["hints"].push_back(
        "you are reviewer eligible: an admin can invite you to review");
  }
  // ---- end Workforce: reviewer invitations
  return out;
}

absl::StatusOr<json> Service::UserStanding(const Principal& p, UserId user) {
  if (!p.Has(Role::kRequester) && !p.Has(Role::kReviewer) &&
      !p.Has(Role::kAdmin)) {
    return PermissionDenied(
        "only requesters, reviewers and admins read others' standing");
  }
  absl::Time now = clock_.Now();
  json out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::User u, tx.GetUser(user));
    TS_ASSIGN_OR_RETURN(out, StandingJson(tx, u.id, now, standing_policy_,
                                          standing_cache_.get(),
                                          /*record_history=*/true));
    out["username"] = u.username;
    return absl::OkStatus();
  }));
  return out;
}

namespace {

json BlockJson(const store::BlockRow& b) {
  return {{"project_id", b.project_id.value},
          {"annotator_id", b.annotator_id.value},
          {"reason", b.reason},
          {"created_by", b.created_by.value},
          {"created_at", Rfc3339(b.created_at)}};
}

// `for_annotator`: the annotator's own view, where a gold check shows as
// the policy that let them in (gold checks look like any other task) and
// the gold draw is left out.
json ClaimRecordJson(const store::ClaimRecord& c, bool for_annotator = false) {
  json reason = c.reason_json ? ParseStored(*c.reason_json) : json();
  if (for_annotator && reason.is_object()) {
    if (reason.value("policy", "") == "gold") {
      reason["policy"] = reason.value("via", "open");
    }
    reason.erase("via");
    reason.erase("draw");
    reason.erase("gold_claimed_before");
  }
  return {{"id", c.claim.id.value},
          {"task_id", c.claim.task_id.value},
          {"pool_id", c.claim.pool_id.value},
          {"annotator_id", c.claim.annotator_id.value},
          {"state", domain::ToString(c.claim.state)},
          {"created_at", Rfc3339(c.claim.created_at)},
          {"expires_at", Rfc3339(c.claim.expires_at)},
          {"reason", std::move(reason)}};
}

}  // namespace

absl::StatusOr<json> Service::BlockAnnotator(const Principal& p,
                                             ProjectId project,
                                             const json& body) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kRequester));
  if (!body.is_object()) return InvalidField("body", "must be a JSON object");
  auto id = body.find("annotator_id");
  if (id == body.end() || !id->is_number_integer() || id->get<int64_t>() <= 0) {
    return InvalidField("annotator_id", "must be a positive integer user id");
  }
  auto r = body.find("reason");
  if (r == body.end() || !r->is_string()) {
    return InvalidField("reason", "is required (a short note)");
  }
  std::string reason = r->get<std::string>();
  if (reason.find_first_not_of(" \t\r\n") == std::string::npos ||
      reason.size() > 2000) {
    return InvalidField("reason", "must be 1 to 2000 characters, not blank");
  }
  absl::Time now = clock_.Now();
  json out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    TS_RETURN_IF_ERROR(OwnedProject(tx, p, project).status());
    auto user = tx.GetUser(UserId(id->get<int64_t>()));
    if (!user.ok() || !user->HasRole(Role::kAnnotator)) {
      return InvalidField("annotator_id", "is not an annotator");
    }
    store::BlockRow b;
    b.project_id = project;
    b.annotator_id = user->id;
    b.reason = reason;
    b.created_by = p.id;
    b.created_at = now;
    absl::Status s = tx.InsertBlock(b);
    if (s.code() == absl::StatusCode::kAlreadyExists) {
      return Conflict("this annotator is already blocked in the project");
    }
    TS_RETURN_IF_ERROR(s);
    out = BlockJson(b);
    return Audit(tx, p.id, "block.create", "project", project.value, nullptr,
                 out, now);
  }));
  return out;
}

absl::Status Service::UnblockAnnotator(const Principal& p, ProjectId project,
                                       UserId annotator) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kRequester));
  absl::Time now = clock_.Now();
  return Write([&](Tx& tx) -> absl::Status {
    TS_RETURN_IF_ERROR(OwnedProject(tx, p, project).status());
    TS_ASSIGN_OR_RETURN(auto existing, tx.FindBlock(project, annotator));
    if (!existing) return NotFound("block");
    TS_ASSIGN_OR_RETURN(bool removed, tx.DeleteBlock(project, annotator));
    if (!removed) return NotFound("block");
    return Audit(tx, p.id, "block.delete", "project", project.value,
                 BlockJson(*existing), nullptr, now);
  });
}

absl::StatusOr<json> Service::ListBlocks(const Principal& p,
                                         ProjectId project) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kRequester));
  json out = json::array();
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    out = json::array();
    TS_RETURN_IF_ERROR(OwnedProject(tx, p, project).status());
    TS_ASSIGN_OR_RETURN(auto blocks, tx.ListBlocks(project));
    for (const auto& b : blocks) out.push_back(BlockJson(b));
    return absl::OkStatus();
  }));
  return json{{"blocks", out}};
}

absl::StatusOr<json> Service::ListMyClaims(const Principal& p) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kAnnotator));
  json out = json::array();
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    out = json::array();
    TS_ASSIGN_OR_RETURN(auto claims,
                        tx.ListClaimRecords(p.id, std::nullopt, 200));
    for (const auto& c : claims) {
      out.push_back(ClaimRecordJson(c, /*for_annotator=*/true));
    }
    return absl::OkStatus();
  }));
  return json{{"claims", out}};
}

absl::StatusOr<json> Service::ListPoolClaims(const Principal& p, PoolId pool,
                                             std::optional<UserId> annotator) {
  TS_RETURN_IF_ERROR(RequireRole(p, Role::kRequester));
  json out = json::array();
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    out = json::array();
    TS_RETURN_IF_ERROR(internal::OwnedPool(tx, p, pool).status());
    TS_ASSIGN_OR_RETURN(auto claims, tx.ListClaimRecords(annotator, pool, 500));
    for (const auto& c : claims) out.push_back(ClaimRecordJson(c));
    return absl::OkStatus();
  }));
  return json{{"claims", out}};
}

}  // namespace tessera::service
