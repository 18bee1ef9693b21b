// Sixteen annotators race to claim from one pool: every task is claimed
// exactly `overlap` times, and never twice by the same annotator.
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/integration/server_fixture.h"

namespace tessera::integration {
namespace {

TEST_P(IntegrationTest, SixteenAnnotatorsRaceForClaims) {
  constexpr int kAnnotators = 16, kTasks = 50, kOverlap = 2;
  ApiClient requester = CreateUser("req", {"requester"});
  int64_t project = CreateProject(requester, 100'000);
  ASSERT_GT(project, 0);
  int64_t pool = CreateBboxPool(requester, project, 10, kOverlap);
  ASSERT_GT(pool, 0);
  std::vector<json> tasks;
  for (int i = 0; i < kTasks; ++i) tasks.push_back(ImageTask(absl::StrCat(i)));
  ASSERT_TRUE(AddTasks(requester, pool, tasks));
  ASSERT_TRUE(OpenPool(requester, pool));

  std::vector<std::string> tokens;
  for (int i = 0; i < kAnnotators; ++i) {
    tokens.push_back(
        CreateUser(absl::StrCat("racer", i), {"annotator"}).token());
    ASSERT_FALSE(tokens.back().empty());
  }

  struct Claimed {
    int64_t claim, task, annotator;
  };
  std::mutex mu;
  std::vector<Claimed> claimed;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  const uint16_t port = server().port();
  for (int i = 0; i < kAnnotators; ++i) {
    threads.emplace_back([&, i] {
      ApiClient me(port, tokens[i]);
      const std::string claims =
          absl::StrCat("/api/v1/pools/", pool, "/claims");
      for (int step = 0; step < 2 * kTasks; ++step) {
        auto r = me.Post(claims, json::object());
        if (r.status == 204) return;
        if (r.status != 201) {
          std::lock_guard<std::mutex> lock(mu);
          errors.push_back(absl::StrCat("racer", i, " claim: ", r.Describe()));
          return;
        }
        Claimed c{r.body["claim"]["id"], r.body["task"]["id"],
                  r.body["claim"]["annotator_id"]};
        auto s = me.Post(absl::StrCat("/api/v1/claims/", c.claim, "/submit"),
                         {{"result", BoxResult("car", 1 + step % 20)}},
                         {{"Idempotency-Key", absl::StrCat("c", c.claim)}});
        std::lock_guard<std::mutex> lock(mu);
        claimed.push_back(c);
        if (s.status != 201) {
          errors.push_back(absl::StrCat("racer", i, " submit: ", s.Describe()));
          return;
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      errors.push_back(absl::StrCat("racer", i, " never got a 204"));
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) ADD_FAILURE() << e;

  std::map<int64_t, std::set<int64_t>> annotators_by_task;
  std::set<int64_t> claim_ids;
  for (const Claimed& c : claimed) {
    EXPECT_TRUE(claim_ids.insert(c.claim).second) << "claim " << c.claim;
    EXPECT_TRUE(annotators_by_task[c.task].insert(c.annotator).second)
        << "annotator " << c.annotator << " got task " << c.task << " twice";
  }
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kTasks * kOverlap));
  EXPECT_EQ(annotators_by_task.size(), static_cast<size_t>(kTasks));
  for (const auto& [task, who] : annotators_by_task) {
    EXPECT_EQ(who.size(), static_cast<size_t>(kOverlap)) << "task " << task;
  }
  json stats = PoolStats(requester, pool);
  EXPECT_EQ(stats["tasks"], kTasks);
  EXPECT_EQ(stats["open_slots"], 0);
  EXPECT_EQ(stats["active_claims"], 0);
  EXPECT_EQ(stats["in_review"], kTasks * kOverlap);
}

}  // namespace
}  // namespace tessera::integration
