// `tessera simulate`: hidden-skill workers (gen_synth.py's types) claim,
// submit and get reviewed through service::Service until the budget is spent
// or no task needs more labels; final labels come from the quality engine.
#include "tessera/cli/simulate.h"

#include <stdlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tessera/base/clock.h"
#include "tessera/base/money.h"
#include "tessera/base/status.h"
#include "tessera/domain/standing.h"
#include "tessera/domain/types.h"
#include "tessera/domain/workforce.h"
#include "tessera/service/service.h"

namespace tessera::cli {
namespace {

using nlohmann::json;
using service::Principal;

constexpr int64_t kPriceMinor = 10;  // CNY 0.10 per annotation
constexpr double kNewcomerShare = 0.2;
constexpr int kActiveSeconds = 30;  // recorded per answer
constexpr char kGoodType[] = "good";

// One simulated annotator: a hidden confusion matrix (row = true class, col
// = given label) and when they arrive (in labels bought so far).
struct Worker {
  std::string type;                // good, mediocre, biased, spammer
  std::vector<double> cumulative;  // K x K, each row's running sums
  bool newcomer = false;
  int64_t arrives_at = 0;
  Principal principal;
  int64_t labels = 0;  // answers submitted
  // The worker's gold checks in the order served: {item, true class, given}.
  std::vector<std::array<int, 3>> gold;
  std::optional<int64_t> promoted_after;  // labels when quality contributor
};

// A worker's hidden accuracy on class `c`: its confusion matrix's diagonal.
double ClassAccuracy(const Worker& w, int k, int c) {
  const size_t at = static_cast<size_t>(c) * k + c;
  return w.cumulative[at] - (c > 0 ? w.cumulative[at - 1] : 0.0);
}

// A worker's hidden accuracy: the mean of its confusion matrix's diagonal.
double HiddenAccuracy(const Worker& w, int k) {
  double sum = 0;
  for (int c = 0; c < k; ++c) sum += ClassAccuracy(w, k, c);
  return sum / k;
}

// The share of the pool's tasks (true class ~ `prior`) a worker answers
// right: what its gold checks measure, and so what the tier's bar is about.
double AccuracyOnTasks(const Worker& w, int k,
                       const std::vector<double>& prior) {
  double sum = 0;
  for (int c = 0; c < k; ++c) sum += prior[c] * ClassAccuracy(w, k, c);
  return sum;
}

// A Dirichlet(1) draw of size n: normalised exponentials.
std::vector<double> FlatDirichlet(std::mt19937_64& rng, int n) {
  std::exponential_distribution<double> e(1.0);
  std::vector<double> v(n);
  double sum = 0;
  for (double& x : v) sum += (x = e(rng));
  for (double& x : v) x /= sum;
  return v;
}

// gen_synth.py's worker types and their confusion matrices.
Worker MakeWorker(std::mt19937_64& rng, int k) {
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  Worker w;
  const double r = u01(rng);
  w.type = r < 0.50   ? "good"
           : r < 0.75 ? "mediocre"
           : r < 0.85 ? "biased"
                      : "spammer";
  std::vector<double> cm(static_cast<size_t>(k) * k, 0.0);
  if (w.type == "spammer") {
    if (u01(rng) < 0.5) {
      std::fill(cm.begin(), cm.end(), 1.0 / k);
    } else {
      const int same = static_cast<int>(rng() % k);
      for (int t = 0; t < k; ++t) cm[t * k + same] = 1.0;
    }
  } else {
    std::normal_distribution<double> good(0.85, 0.07);
    std::uniform_real_distribution<double> mediocre(1.0 / k + 0.15, 0.70);
    const int fav = static_cast<int>(rng() % k);
    for (int t = 0; t < k; ++t) {
      const double acc = w.type == "good" ? std::clamp(good(rng), 0.55, 0.99)
                                          : std::max(mediocre(rng), 1.0 / k);
      std::vector<double> err = FlatDirichlet(rng, k - 1);
      int e = 0;
      for (int o = 0; o < k; ++o) {
        if (o == t) continue;
        double mass = (1 - acc) * err[e++];
        if (w.type == "biased" && fav != t) {
          mass *= 0.4;
          if (o == fav) mass += 0.6 * (1 - acc);
        }
        cm[t * k + o] = mass;
      }
      cm[t * k + t] = acc;
    }
  }
  w.cumulative.resize(cm.size());
  for (int t = 0; t < k; ++t) {
    double row = 0, run = 0;
    for (int o = 0; o < k; ++o) row += cm[t * k + o];
    for (int o = 0; o < k; ++o) {
      run += cm[t * k + o] / row;
      w.cumulative[t * k + o] = run;
    }
  }
  return w;
}

int Answer(const Worker& w, int truth, int k, std::mt19937_64& rng) {
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  for (int o = 0; o < k; ++o) {
    if (u < w.cumulative[truth * k + o]) return o;
  }
  return k - 1;
}

// A temporary folder removed when this goes out of scope.
class TempDir {
 public:
  static absl::StatusOr<TempDir> Make() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "tessera-simulate-XXXXXX")
            .string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      return absl::InternalError("cannot create a temporary folder");
    }
    return TempDir(tmpl);
  }
  TempDir(TempDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempDir(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

absl::StatusOr<Principal> InsertUser(store::Store& store,
                                     const std::string& name,
                                     std::vector<domain::Role> roles,
                                     absl::Time now) {
  // Straight into the store: hashing 300 passwords (argon2id) would cost
  // more than the simulation, and simulated users never log in.
  domain::User u;
  u.username = name;
  u.password_hash = "!";  // matches no password
  u.roles = roles;
  u.created_at = now;
  TS_RETURN_IF_ERROR(store.Run(store::TxMode::kWrite, [&](store::Tx& tx) {
    TS_ASSIGN_OR_RETURN(u.id, tx.InsertUser(u));
    return absl::OkStatus();
  }));
  Principal p;
  p.id = u.id;
  p.username = name;
  p.roles = std::move(roles);
  return p;
}

// The overall tier in a standing view ({"overall": {"tier"}} or {"tier"}).
std::string TierOf(const json& standing) {
  if (auto o = standing.find("overall");
      o != standing.end() && o->is_object()) {
    return o->value("tier", "");
  }
  return standing.value("tier", "");
}

bool AtLeastQualityContributor(const std::string& tier) {
  auto t = domain::TierFromString(tier);
  return t && *t >= domain::Tier::kQualityContributor;
}

absl::Status CheckOptions(const SimulateOptions& o) {
  if (o.workers < 2 || o.workers > 100'000) {
    return InvalidField("workers", "must be from 2 to 100000");
  }
  if (o.tasks < 1 || o.tasks > 1'000'000) {
    return InvalidField("tasks", "must be from 1 to 1000000");
  }
  if (o.classes < 2 || o.classes > 20) {
    return InvalidField("classes", "must be from 2 to 20");
  }
  if (o.budget < 0) return InvalidField("budget", "must be 0 or more");
  if (!(o.confidence >= 0.5 && o.confidence <= 0.999)) {
    return InvalidField("confidence", "must be from 0.5 to 0.999");
  }
  if (o.max_overlap < 2 || o.max_overlap > 100) {
    return InvalidField("max-overlap", "must be from 2 to 100");
  }
  if (o.policy != "uniform" && o.policy != "tessera") {
    return InvalidField("policy", "must be uniform or tessera");
  }
  TS_RETURN_IF_ERROR(domain::ValidateStandingPolicy(o.standing));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<json> Simulate(const SimulateOptions& options,
                              const SimulationStoreFactory& factory) {
  TS_RETURN_IF_ERROR(CheckOptions(options));
  const absl::Time started = absl::Now();
  const int k = options.classes;
  const bool tessera = options.policy == "tessera";
  const int64_t budget =
      options.budget > 0 ? options.budget : int64_t{3} * options.tasks;
  const int max_idle = options.max_idle_steps > 0 ? options.max_idle_steps
                                                  : 20 * options.workers;
  // Three streams, so both policies see the same truth and the same crowd
  // (tessera's extra gold tasks and its different steps draw from their
  // own streams).
  std::mt19937_64 truth_rng(options.seed * 3 + 0);
  std::mt19937_64 crowd_rng(options.seed * 3 + 1);
  std::mt19937_64 rng(options.seed * 3 + 2);

  // Hidden truth: class prior ~ Dirichlet(5), as gen_synth.py.
  std::vector<double> prior(k);
  {
    std::gamma_distribution<double> g(5.0, 1.0);
    double sum = 0;
    for (double& p : prior) sum += (p = g(truth_rng));
    for (double& p : prior) p /= sum;
  }
  std::discrete_distribution<int> draw_class(prior.begin(), prior.end());
  // Gold: a small known-answer set mixed into the tessera pool.
  const int gold_tasks = tessera ? std::clamp(options.tasks / 50, 10, 400) : 0;
  std::vector<int> truth(options.tasks + gold_tasks);
  for (int& t : truth) t = draw_class(truth_rng);

  std::vector<Worker> workers;
  std::uniform_real_distribution<double> arrival(0.05, 0.5);
  const int newcomers =
      static_cast<int>(std::lround(kNewcomerShare * options.workers));
  for (int i = 0; i < options.workers; ++i) {
    Worker w = MakeWorker(crowd_rng, k);
    if (i >= options.workers - newcomers) {
      w.newcomer = true;
      w.arrives_at = static_cast<int64_t>(arrival(crowd_rng) * budget);
    }
    workers.push_back(std::move(w));
  }

  TS_ASSIGN_OR_RETURN(TempDir dir, TempDir::Make());
  TS_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store,
                      factory(dir.path() + "/simulate.db"));
  FakeClock clock;
  service::Service svc(*store, clock);
  svc.SetStandingPolicy(options.standing);

  TS_ASSIGN_OR_RETURN(
      Principal owner,
      InsertUser(*store, "requester", {domain::Role::kRequester}, clock.Now()));
  TS_ASSIGN_OR_RETURN(
      Principal reviewer,
      InsertUser(*store, "reviewer", {domain::Role::kReviewer}, clock.Now()));
  for (size_t i = 0; i < workers.size(); ++i) {
    TS_ASSIGN_OR_RETURN(workers[i].principal,
                        InsertUser(*store, absl::StrCat("worker", i),
                                   {domain::Role::kAnnotator}, clock.Now()));
  }

  TS_ASSIGN_OR_RETURN(
      json project,
      svc.CreateProject(owner, {{"name", "simulation"},
                                {"budget",
                                 {{"amount_minor", budget * kPriceMinor},
                                  {"currency", "CNY"}}}}));
  json labels = json::array();
  for (int c = 0; c < k; ++c) labels.push_back(absl::StrCat("c", c));
  json config = {{"labels", labels}};
  int overlap = 1;
  json overlap_json;
  domain::DynamicOverlap dynamic;
  if (tessera) {
    dynamic.min = 2;
    dynamic.max = options.max_overlap;
    dynamic.confidence = options.confidence;
    overlap_json = {{"min", dynamic.min},
                    {"max", dynamic.max},
                    {"confidence", dynamic.confidence}};
    config["workforce"] = {{"gold_rate", 0.05},
                           {"dynamic_overlap", overlap_json}};
  } else {
    overlap = static_cast<int>(
        std::clamp<int64_t>((budget + options.tasks / 2) / options.tasks, 1,
                            std::min(100, options.workers)));
    overlap_json = overlap;
  }
  TS_ASSIGN_OR_RETURN(
      json pool_json,
      svc.CreatePool(
          owner, ProjectId(project["id"].get<int64_t>()),
          {{"name", "simulated classify"},
           {"task_type", "classify"},
           {"config", config},
           {"price", {{"amount_minor", kPriceMinor}, {"currency", "CNY"}}},
           {"overlap", overlap},
           {"lease_seconds", 3600},
           {"max_rounds", 1}}));
  const PoolId pool(pool_json["id"].get<int64_t>());

  // Tasks in the pool's order: gold first would all be served first, so
  // gold is spread evenly among the regular tasks.
  absl::flat_hash_map<int64_t, int> item_of_task;  // task id -> truth index
  {
    json list = json::array();
    const int total = options.tasks + gold_tasks;
    int next_gold = 0, next_regular = 0;
    for (int i = 0; i < total; ++i) {
      const bool gold =
          next_gold < gold_tasks && (next_regular >= options.tasks ||
                                     static_cast<int64_t>(next_gold) * total <=
                                         static_cast<int64_t>(i) * gold_tasks);
      const int item = gold ? options.tasks + next_gold++ : next_regular++;
      json t = {
          {"data", {{"text", absl::StrCat("item ", item)}, {"item", item}}}};
      if (gold) t["gold"] = {{"label", labels[truth[item]]}};
      list.push_back(std::move(t));
    }
    TS_RETURN_IF_ERROR(svc.AddTasks(owner, pool, {{"tasks", list}}).status());
  }
  TS_RETURN_IF_ERROR(svc.OpenPool(owner, pool).status());

  // The crowd at work: each step a uniformly random arrived worker asks for
  // a task; the service decides whether and which; the reviewer accepts.
  int64_t bought = 0, gold_labels = 0, steps = 0, idle_steps = 0, idle = 0;
  std::vector<int> present;
  size_t arrived_newcomers = 0;
  std::vector<size_t> pending_newcomers;
  for (size_t i = 0; i < workers.size(); ++i) {
    if (workers[i].newcomer) {
      pending_newcomers.push_back(i);
    } else {
      present.push_back(static_cast<int>(i));
    }
  }
  std::sort(pending_newcomers.begin(), pending_newcomers.end(),
            [&](size_t a, size_t b) {
              return workers[a].arrives_at < workers[b].arrives_at ||
                     (workers[a].arrives_at == workers[b].arrives_at && a < b);
            });
  // The server's aggregation job (`[jobs] aggregate_interval_seconds`,
  // default 60): standing's agreement factor reads these snapshots.
  const absl::Duration aggregate_every = absl::Seconds(60);
  absl::Time next_aggregate = clock.Now() + aggregate_every;
  int64_t aggregations = 0;
  while (bought < budget) {
    if (clock.Now() >= next_aggregate) {
      TS_ASSIGN_OR_RETURN(int written, svc.AggregateStalePools());
      aggregations += written;
      next_aggregate = clock.Now() + aggregate_every;
    }
    while (arrived_newcomers < pending_newcomers.size() &&
           workers[pending_newcomers[arrived_newcomers]].arrives_at <= bought) {
      present.push_back(
          static_cast<int>(pending_newcomers[arrived_newcomers++]));
    }
    if (idle >= max_idle) break;
    ++steps;
    // The present crowd works side by side: each worker takes about
    // kActiveSeconds per answer, so one step is that over the crowd's size.
    clock.Advance(absl::Seconds(static_cast<double>(kActiveSeconds) /
                                static_cast<double>(present.size())));
    Worker& w = workers[present[rng() % present.size()]];
    absl::StatusOr<std::optional<service::ClaimResult>> claim =
        svc.Claim(w.principal, pool);
    if (!claim.ok()) {
      // Not eligible now (tier, cap, ...): a real refusal, not a failure.
      const auto code = claim.status().code();
      if (code != absl::StatusCode::kPermissionDenied &&
          code != absl::StatusCode::kFailedPrecondition &&
          code != absl::StatusCode::kResourceExhausted) {
        return claim.status();
      }
      ++idle;
      ++idle_steps;
      continue;
    }
    if (!*claim) {
      ++idle;
      ++idle_steps;
      // Nothing left for anyone: stop at once rather than idling.
      bool any_open = true;
      TS_RETURN_IF_ERROR(
          store->Run(store::TxMode::kRead, [&](store::Tx& tx) -> absl::Status {
            TS_ASSIGN_OR_RETURN(store::PoolStats s, tx.GetPoolStats(pool));
            any_open = s.open_slots > 0 || s.active_claims > 0;
            return absl::OkStatus();
          }));
      if (!any_open) break;
      continue;
    }
    idle = 0;
    const json& body = (*claim)->body;
    const int item = body["task"]["data"]["item"].get<int>();
    const int given = Answer(w, truth[item], k, rng);
    TS_ASSIGN_OR_RETURN(
        json sub,
        svc.Submit(w.principal, ClaimId(body["claim"]["id"].get<int64_t>()),
                   {{"result", {{"label", labels[given]}}},
                    {"active_seconds", kActiveSeconds}},
                   ""));
    TS_ASSIGN_OR_RETURN(std::optional<json> lease,
                        svc.ClaimReview(reviewer, pool));
    if (!lease) return absl::InternalError("a submission was not reviewable");
    TS_RETURN_IF_ERROR(
        svc.Review(reviewer,
                   SubmissionId((*lease)["submission"]["id"].get<int64_t>()),
                   {{"verdict", "accept"}})
            .status());
    ++bought;
    ++w.labels;
    if (item >= options.tasks) {
      ++gold_labels;
      w.gold.push_back({item - options.tasks, truth[item], given});
    }
    if (w.newcomer && w.type == kGoodType && !w.promoted_after) {
      TS_ASSIGN_OR_RETURN(json standing,
                          svc.UserStanding(owner, w.principal.id));
      if (AtLeastQualityContributor(TierOf(standing))) {
        w.promoted_after = w.labels;
      }
    }
  }

  // Final labels: the pool's quality engine (smoothed Dawid-Skene).
  TS_ASSIGN_OR_RETURN(json snapshot, svc.Aggregate(owner, pool));
  int64_t correct = 0, labelled = 0;
  // Task ids map to items through the data we stored; read them back once.
  TS_RETURN_IF_ERROR(
      store->Run(store::TxMode::kRead, [&](store::Tx& tx) -> absl::Status {
        item_of_task.clear();
        int64_t after = 0;
        while (true) {
          TS_ASSIGN_OR_RETURN(auto page, tx.ListTasks(pool, after, 5000));
          if (page.empty()) break;
          for (const auto& task : page) {
            json data = json::parse(task.data_json, nullptr, false);
            item_of_task[task.id.value] = data.value("item", -1);
          }
          after = page.back().id.value;
        }
        return absl::OkStatus();
      }));
  for (const json& t : snapshot.value("tasks", json::array())) {
    auto it = item_of_task.find(t.value("task_id", int64_t{0}));
    if (it == item_of_task.end() || it->second < 0 ||
        it->second >= options.tasks) {
      continue;  // gold tasks are not scored
    }
    const json& label = t.value("label", json());
    if (!label.is_string()) continue;
    ++labelled;
    if (label.get<std::string>() == labels[truth[it->second]]) ++correct;
  }

  clock.Advance(absl::Minutes(1));  // past the standing cache's lifetime
  // "Good newcomer" means what the tier asks for: a newcomer of the good type
  // whose accuracy on the pool's tasks reaches the tier's gold-accuracy bar.
  // The good type's accuracy is drawn around 0.85, so a few fall below the
  // bar: they are reported apart (whether promoted or not), not counted.
  const double bar = options.standing.quality_min_gold_accuracy;
  int newcomers_good = 0, promoted = 0, below_bar = 0, below_bar_promoted = 0;
  std::vector<int64_t> to_promotion;
  // Good newcomers who did not get there, with what they had the chance to
  // do: the answers they gave and the labels bought before they arrived.
  json not_promoted = json::array();
  for (size_t i = 0; i < arrived_newcomers; ++i) {
    Worker& w = workers[pending_newcomers[i]];
    if (w.type != kGoodType) continue;
    const double on_tasks = AccuracyOnTasks(w, k, prior);
    if (!w.promoted_after) {
      // Standing is cached for a few seconds of the clock: the last answers'
      // promotion shows only now.
      TS_ASSIGN_OR_RETURN(json standing,
                          svc.UserStanding(owner, w.principal.id));
      if (AtLeastQualityContributor(TierOf(standing))) {
        w.promoted_after = w.labels;
      } else if (on_tasks >= bar) {
        const json& overall = standing.contains("overall")
                                  ? standing["overall"]
                                  : static_cast<const json&>(standing);
        json factors = json::object();
        for (const json& f : overall.value("factors", json::array())) {
          factors[f.value("name", "")] = {
              {"count", f.value("count", 0.0)},
              {"successes", f.value("successes", 0.0)},
              {"value", f.value("value", 0.0)}};
        }
        // What the gold checks asked and what the worker would get right:
        // the checks in the order served, and the hidden accuracy per class.
        json gold = json::array();
        for (const auto& [g, truth_class, given] : w.gold) {
          gold.push_back(
              {{"gold_item", g},
               {"class", truth_class},
               {"given", given},
               {"class_accuracy", ClassAccuracy(w, k, truth_class)}});
        }
        json per_class = json::array();
        for (int c = 0; c < k; ++c) per_class.push_back(ClassAccuracy(w, k, c));
        not_promoted.push_back(
            {{"labels", w.labels},
             {"class_accuracy", std::move(per_class)},
             {"gold_checks", std::move(gold)},
             {"arrived_after_labels", w.arrives_at},
             {"hidden_accuracy", HiddenAccuracy(w, k)},
             {"accuracy_on_tasks", on_tasks},
             {"tier", TierOf(standing)},
             {"score", overall.value("score", 0.0)},
             {"gold_accuracy_upper", overall.value("gold_accuracy_upper", 1.0)},
             {"factors", std::move(factors)},
             {"hints", overall.value("hints", json::array())}});
      }
    }
    if (on_tasks < bar) {
      ++below_bar;
      if (w.promoted_after) ++below_bar_promoted;
      continue;
    }
    ++newcomers_good;
    if (w.promoted_after) {
      ++promoted;
      to_promotion.push_back(*w.promoted_after);
    }
  }
  json median = nullptr;
  if (!to_promotion.empty()) {
    std::sort(to_promotion.begin(), to_promotion.end());
    const size_t n = to_promotion.size();
    median = n % 2
                 ? json(to_promotion[n / 2])
                 : json((to_promotion[n / 2 - 1] + to_promotion[n / 2]) / 2.0);
  }
  const int regular_labels = static_cast<int>(bought - gold_labels);
  std::vector<int> gold_classes(k, 0);  // the gold set's true classes
  for (int g = 0; g < gold_tasks; ++g) ++gold_classes[truth[options.tasks + g]];
  return json{
      {"policy", options.policy},
      {"seed", options.seed},
      {"workers", options.workers},
      {"tasks", options.tasks},
      {"classes", k},
      {"budget", budget},
      {"overlap", overlap_json},
      {"class_prior", prior},
      {"gold_tasks", gold_tasks},
      {"gold_classes", gold_classes},
      {"accuracy", static_cast<double>(correct) / options.tasks},
      {"labels", bought},
      {"gold_labels", gold_labels},
      {"cost", MoneyToJson({bought * kPriceMinor, "CNY"})},
      {"tasks_labelled", labelled},
      {"labels_per_task", static_cast<double>(regular_labels) / options.tasks},
      {"method", snapshot.value("method", "")},
      {"newcomers", static_cast<int64_t>(arrived_newcomers)},
      {"newcomers_good", newcomers_good},
      {"newcomers_promoted", promoted},
      {"median_tasks_to_promotion", median},
      {"newcomers_not_promoted", std::move(not_promoted)},
      {"newcomers_good_below_bar", below_bar},
      {"newcomers_good_below_bar_promoted", below_bar_promoted},
      {"aggregations", aggregations},
      {"steps", steps},
      {"idle_steps", idle_steps},
      {"seconds", absl::ToDoubleSeconds(absl::Now() - started)}};
}

int RunSimulate(const SimulateOptions& options,
                const SimulationStoreFactory& factory, std::ostream& out,
                std::ostream& err) {
  absl::StatusOr<json> report = Simulate(options, factory);
  if (!report.ok()) {
    err << "tessera simulate: " << report.status().message();
    if (auto field = FieldOf(report.status()))
      err << " (field " << *field << ")";
    err << "\n";
    return report.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  const json& r = *report;
  if (options.json) {
    out << r.dump() << "\n";
    return 0;
  }
  const int64_t cost_minor = r["cost"]["amount_minor"].get<int64_t>();
  out << absl::StrFormat(
      "policy %s: accuracy %.4f with %d labels (%.2f per task, %d on gold), "
      "cost CNY %d.%02d\n",
      options.policy, r["accuracy"].get<double>(), r["labels"].get<int64_t>(),
      r["labels_per_task"].get<double>(), r["gold_labels"].get<int64_t>(),
      cost_minor / 100, cost_minor % 100);
  out << absl::StrFormat(
      "good newcomers: %d, promoted to quality contributor: %d, median tasks "
      "to promotion: %s\n",
      r["newcomers_good"].get<int>(), r["newcomers_promoted"].get<int>(),
      r["median_tasks_to_promotion"].dump());
  out << absl::StrFormat("%.1f s\n", r["seconds"].get<double>());
  return 0;
}

}  // namespace tessera::cli
