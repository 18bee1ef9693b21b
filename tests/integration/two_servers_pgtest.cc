// Two `tessera serve` processes on one PostgreSQL database share the work;
// one is SIGKILLed mid-run and nothing acknowledged is lost.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/integration/server_fixture.h"

namespace tessera::integration {
namespace {

class TwoServersTest : public IntegrationTest {};

struct Acked {
  int64_t submission, task, annotator;
};

TEST_P(TwoServersTest, SharedWorkSurvivesKillingOneServer) {
  constexpr int kAnnotators = 16, kTasks = 60, kOverlap = 2;
  constexpr int kKillAfter = 40;  // acknowledged submissions
  ApiClient requester = CreateUser("req", {"requester"});
  int64_t project = CreateProject(requester, 1'000'000);
  ASSERT_GT(project, 0);
  int64_t pool = CreateBboxPool(requester, project, 10, kOverlap);
  ASSERT_GT(pool, 0);
  std::vector<json> tasks;
  for (int i = 0; i < kTasks; ++i) tasks.push_back(ImageTask(absl::StrCat(i)));
  ASSERT_TRUE(AddTasks(requester, pool, tasks));
  ASSERT_TRUE(OpenPool(requester, pool));
  std::vector<std::string> tokens;
  for (int i = 0; i < kAnnotators; ++i) {
    tokens.push_back(CreateUser(absl::StrCat("w", i), {"annotator"}).token());
    ASSERT_FALSE(tokens.back().empty());
  }
  ServerProcess* doomed = StartServer();
  ASSERT_NE(doomed, nullptr);
  const uint16_t survivor_port = server(0).port();
  const uint16_t doomed_port = doomed->port();

  std::mutex mu;
  std::vector<Acked> acked;
  std::vector<std::string> errors;
  std::atomic<int> acked_count{0};
  std::atomic<int> transport_errors{0};
  std::atomic<int> resumed{0};   // claims made on the killed server
  std::atomic<int> replayed{0};  // submits that had committed there
  std::vector<std::thread> threads;
  for (int i = 0; i < kAnnotators; ++i) {
    threads.emplace_back([&, i] {
      ApiClient survivor(survivor_port, tokens[i]);
      ApiClient other(doomed_port, tokens[i]);
      bool other_alive = true;
      int turn = i;  // alternate servers request by request
      auto pick = [&]() -> ApiClient& {
        ++turn;
        return (other_alive && turn % 2 == 0) ? other : survivor;
      };
      // Sends through `c`; when the doomed server is gone, falls back to
      // the survivor (the request may or may not have taken effect there).
      auto send = [&](ApiClient& c, const std::string& target, const json& body,
                      const std::string& key) {
        std::vector<std::pair<std::string, std::string>> headers;
        if (!key.empty()) headers.emplace_back("Idempotency-Key", key);
        ApiResponse r = c.Post(target, body, headers);
        if (r.status == 0 && &c == &other) {
          ++transport_errors;
          other_alive = false;
          r = survivor.Post(target, body, headers);
        }
        return r;
      };
      const std::string claims =
          absl::StrCat("/api/v1/pools/", pool, "/claims");
      auto fail = [&](const std::string& what) {
        std::lock_guard<std::mutex> lock(mu);
        errors.push_back(absl::StrCat("w", i, " ", what));
      };
      for (int step = 0; step < 4 * kTasks; ++step) {
        ApiResponse c = send(pick(), claims, json::object(), "");
        if (c.status == 204) {
          // Done only when every live server agrees there is nothing left.
          c = send(other_alive ? other : survivor, claims, json::object(), "");
          if (c.status == 204) c = send(survivor, claims, json::object(), "");
          if (c.status == 204) return;
        }
        if (c.status == 200) ++resumed;
        // 200: a claim this worker made on the killed server, resumed.
        if (c.status != 201 && c.status != 200) {
          return fail(absl::StrCat("claim: ", c.Describe()));
        }
        const int64_t claim = c.body["claim"]["id"];
        const std::string submit =
            absl::StrCat("/api/v1/claims/", claim, "/submit");
        ApiResponse s = send(pick(), submit, {{"result", BoxResult("car", 2)}},
                             absl::StrCat("w", i, "-", claim));
        if (s.status != 201 && s.status != 200) {
          return fail(absl::StrCat("submit: ", s.Describe()));
        }
        if (s.status == 200) ++replayed;
        std::lock_guard<std::mutex> lock(mu);
        acked.push_back({s.body["id"], c.body["task"]["id"],
                         c.body["claim"]["annotator_id"]});
        ++acked_count;
      }
      fail("never got a 204");
    });
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (acked_count < kKillAfter &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GE(acked_count.load(), kKillAfter);
  EXPECT_LT(acked_count.load(), kTasks * kOverlap)
      << "killed too late to matter";
  doomed->Kill();
  for (auto& t : threads) t.join();
  for (const auto& e : errors) ADD_FAILURE() << e;

  // Every acknowledged submission is durable and readable via the survivor;
  // every task has exactly `overlap` of them, by different annotators.
  std::map<int64_t, std::set<int64_t>> by_task;
  std::set<int64_t> ids;
  for (const Acked& a : acked) {
    if (!ids.insert(a.submission).second) continue;  // replayed by key
    auto r = requester.Get(absl::StrCat("/api/v1/submissions/", a.submission));
    ASSERT_EQ(r.status, 200) << "acknowledged submission " << a.submission
                             << " is gone: " << r.Describe();
    EXPECT_EQ(r.body["task_id"], a.task);
    EXPECT_EQ(r.body["annotator_id"], a.annotator);
    EXPECT_TRUE(by_task[a.task].insert(a.annotator).second)
        << "task " << a.task << " twice by " << a.annotator;
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kTasks * kOverlap));
  EXPECT_EQ(by_task.size(), static_cast<size_t>(kTasks));
  for (const auto& [task, who] : by_task) {
    EXPECT_EQ(who.size(), static_cast<size_t>(kOverlap)) << "task " << task;
  }
  json stats = PoolStats(requester, pool);
  EXPECT_EQ(stats["open_slots"], 0);
  EXPECT_EQ(stats["active_claims"], 0);
  EXPECT_EQ(stats["in_review"], kTasks * kOverlap);
  std::cerr << "acknowledged " << acked.size() << " submissions (" << ids.size()
            << " distinct); " << transport_errors.load()
            << " requests failed over to the surviving server, "
            << resumed.load() << " claims resumed, " << replayed.load()
            << " submits replayed\n";
}

INSTANTIATE_TEST_SUITE_P(integration_pg, TwoServersTest,
                         ::testing::Values(Backend::kPostgres), BackendName);

}  // namespace
}  // namespace tessera::integration
