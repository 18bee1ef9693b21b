// Demo seeding through the service layer (the same rules as the API).
#include "tessera/cli/demo.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"

namespace tessera::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct DemoUser {
  const char* username;
  const char* password;
  std::vector<std::string> roles;
};

const std::vector<DemoUser>& DemoUsers() {
  static const std::vector<DemoUser> users = {
      {"admin", "demo-admin-1", {"admin"}},
      {"lin", "demo-requester-1", {"requester"}},
      {"wang", "demo-annotator-1", {"annotator"}},
      {"zhou", "demo-annotator-2", {"annotator"}},
      {"sun", "demo-reviewer-1", {"reviewer"}},
  };
  return users;
}

absl::StatusOr<json> ReadTasks(const fs::path& file) {
  std::ifstream in(file);
  if (!in)
    return absl::NotFoundError(absl::StrCat("cannot read ", file.string()));
  json tasks = json::array();
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file.string(), ":", n, ": malformed JSON"));
    }
    tasks.push_back(std::move(j));
  }
  return json{{"tasks", tasks}};
}

absl::StatusOr<int64_t> AddPool(service::Service& svc,
                                const service::Principal& lin, int64_t project,
                                json pool, const fs::path& tasks_file) {
  TS_ASSIGN_OR_RETURN(json created,
                      svc.CreatePool(lin, ProjectId(project), pool));
  int64_t id = created["id"].get<int64_t>();
  TS_ASSIGN_OR_RETURN(json tasks, ReadTasks(tasks_file));
  auto added = svc.AddTasks(lin, PoolId(id), tasks);
  if (!added.ok()) {
    return absl::Status(
        added.status().code(),
        absl::StrCat(tasks_file.string(), ": ", added.status().message(),
                     " (field ", FieldOf(added.status()).value_or("?"), ")"));
  }
  TS_RETURN_IF_ERROR(svc.OpenPool(lin, PoolId(id)).status());
  return id;
}

}  // namespace

std::string FindDemoDir(const std::string& hint, const std::string& argv0) {
  std::vector<fs::path> candidates;
  if (!hint.empty()) candidates.emplace_back(hint);
  candidates.emplace_back("demo");
  std::error_code ec;
  fs::path exe = fs::weakly_canonical(fs::path(argv0), ec);
  if (!ec) {
    candidates.push_back(exe.parent_path().parent_path() / "demo");
    candidates.push_back(exe.parent_path() / "demo");
  }
  for (const fs::path& c : candidates) {
    if (fs::exists(c / "image_tasks.jsonl", ec)) return c.string();
  }
  return "";
}

absl::Status SeedDemo(service::Service& svc, const std::string& demo_dir,
                      std::ostream& out) {
  fs::path dir(demo_dir);
  for (const DemoUser& u : DemoUsers()) {
    auto created = svc.CreateUser(std::nullopt, {{"username", u.username},
                                                 {"password", u.password},
                                                 {"roles", u.roles}});
    if (!created.ok()) {
      if (created.status().code() == absl::StatusCode::kAlreadyExists) {
        return absl::FailedPreconditionError(
            "the database already has the demo users; the demo seeds only an "
            "empty database");
      }
      return created.status();
    }
  }
  TS_ASSIGN_OR_RETURN(
      json login,
      svc.Login({{"username", "lin"}, {"password", "demo-requester-1"}}));
  TS_ASSIGN_OR_RETURN(service::Principal lin,
                      svc.Authenticate(login["token"].get<std::string>()));

  TS_ASSIGN_OR_RETURN(
      json street,
      svc.CreateProject(
          lin, {{"name", "Street scenes"},
                {"description",
                 "Pedestrians, cars and traffic lights in real "
                 "street photos (COCO)."},
                {"guidelines",
                 "# Boxes\n\nDraw a tight box around every **person**, **car** "
                 "and **traffic light** you can see, including partly hidden "
                 "ones. Do not box reflections or pictures of objects.\n"},
                {"budget", {{"amount_minor", 50'000}, {"currency", "CNY"}}}}));
  int64_t street_id = street["id"].get<int64_t>();
  TS_ASSIGN_OR_RETURN(
      int64_t boxes,
      AddPool(svc, lin, street_id,
              {{"name", "Street boxes"},
               {"task_type", "bbox"},
               {"config", {{"labels", {"person", "car", "traffic light"}}}},
               {"price", {{"amount_minor", 30}, {"currency", "CNY"}}},
               {"overlap", 1},
               {"lease_seconds", 900}},
              dir / "image_tasks.jsonl"));

  TS_ASSIGN_OR_RETURN(
      json assistant,
      svc.CreateProject(
          lin,
          {{"name", "Assistant feedback"},
           {"description",
            "Human feedback on assistant answers "
            "(OpenAssistant oasst1 prompts)."},
           {"guidelines",
            "# Judging answers\n\nPrefer answers that are correct, "
            "helpful and honest about uncertainty. Penalise invented "
            "facts and citations.\n"},
           {"budget", {{"amount_minor", 2'000'000}, {"currency", "CNY"}}}}));
  int64_t assistant_id = assistant["id"].get<int64_t>();
  TS_ASSIGN_OR_RETURN(
      int64_t pairwise,
      AddPool(svc, lin, assistant_id,
              {{"name", "Which answer is better?"},
               {"task_type", "pairwise"},
               {"config",
                {{"rationale_required", true},
                 {"question", "Which answer is more helpful and honest?"}}},
               {"price", {{"amount_minor", 200}, {"currency", "CNY"}}},
               {"overlap", 3},
               {"lease_seconds", 1800}},
              dir / "pairwise_tasks.jsonl"));
  TS_ASSIGN_OR_RETURN(
      int64_t rating,
      AddPool(svc, lin, assistant_id,
              {{"name", "Rate the answer"},
               {"task_type", "rating"},
               {"config",
                {{"criteria", {"helpfulness", "correctness", "harmlessness"}},
                 {"scale", {{"min", 1}, {"max", 5}}}}},
               {"price", {{"amount_minor", 150}, {"currency", "CNY"}}},
               {"overlap", 2},
               {"lease_seconds", 1800}},
              dir / "rating_tasks.jsonl"));
  TS_ASSIGN_OR_RETURN(
      int64_t rewrite,
      AddPool(svc, lin, assistant_id,
              {{"name", "Rewrite the answer"},
               {"task_type", "rewrite"},
               {"price", {{"amount_minor", 8'000}, {"currency", "CNY"}}},
               {"overlap", 1},
               {"lease_seconds", 3 * 3600},
               {"max_rounds", 3}},
              dir / "rewrite_tasks.jsonl"));

  out << "Demo seeded. Accounts (username / password / roles):\n";
  for (const DemoUser& u : DemoUsers()) {
    out << "  " << u.username << " / " << u.password << " / ";
    for (size_t i = 0; i < u.roles.size(); ++i) {
      out << (i ? "," : "") << u.roles[i];
    }
    out << "\n";
  }
  out << "Pools: " << boxes << " street boxes (bbox), " << pairwise
      << " pairwise, " << rating << " rating, " << rewrite << " rewrite\n";
  return absl::OkStatus();
}

}  // namespace tessera::cli
