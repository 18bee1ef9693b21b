// OpenAssistant message trees to tasks: a depth-first walk that carries the
// conversation so far.
#include "tessera/formats/oasst.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tessera/base/json_util.h"
#include "tessera/base/status.h"

namespace tessera::formats {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 1000;

struct Reply {
  const json* node;
  std::string text;
  std::string id;
  std::optional<int64_t> rank;
};

class Walker {
 public:
  Walker(const OasstOptions& options, std::string tree_id, OasstResult& out)
      : options_(options), tree_id_(std::move(tree_id)), out_(out) {}

  // Checks the flags of `node`; true when it is kept.
  absl::StatusOr<bool> Keep(const json& node, const std::string& field) {
    for (const char* key : {"deleted", "synthetic", "review_result"}) {
      auto it = node.find(key);
      if (it != node.end() && !it->is_null() && !it->is_boolean()) {
        return InvalidField(JoinField(field, key), "must be a boolean");
      }
    }
    bool drop = (options_.skip_deleted && node.value("deleted", false)) ||
                (options_.skip_synthetic && node.value("synthetic", false));
    auto review = node.find("review_result");
    if (options_.skip_failed_review && review != node.end() &&
        review->is_boolean() && !review->get<bool>()) {
      drop = true;
    }
    if (drop) ++out_.skipped_messages;
    return !drop;
  }

  // Walks the prompter message `node` at `field`; `context` holds the
  // conversation before it.
  absl::Status Prompter(const json& node, const std::string& field,
                        json& context, int depth) {
    if (depth > kMaxDepth) return InvalidField(field, "tree is too deep");
    TS_RETURN_IF_ERROR(RequireObject(node, field));
    TS_ASSIGN_OR_RETURN(std::string role, RequiredString(node, "role", field));
    if (role != "prompter") {
      return InvalidField(JoinField(field, "role"), "must be prompter here");
    }
    TS_ASSIGN_OR_RETURN(bool keep, Keep(node, field));
    if (!keep) return absl::OkStatus();
    TS_ASSIGN_OR_RETURN(std::string text, RequiredString(node, "text", field));
    TS_ASSIGN_OR_RETURN(std::string id,
                        RequiredString(node, "message_id", field));
    context.push_back({{"role", "user"}, {"content", text}});

    std::vector<Reply> replies;
    std::vector<std::string> fields;  // each kept reply's field path
    TS_ASSIGN_OR_RETURN(std::vector<const json*> children,
                        Children(node, field));
    for (size_t i = 0; i < children.size(); ++i) {
      const json& child = *children[i];
      std::string fc = absl::StrCat(JoinField(field, "replies"), "[", i, "]");
      TS_RETURN_IF_ERROR(RequireObject(child, fc));
      TS_ASSIGN_OR_RETURN(std::string crole, RequiredString(child, "role", fc));
      if (crole != "assistant") {
        return InvalidField(JoinField(fc, "role"), "must be assistant here");
      }
      TS_ASSIGN_OR_RETURN(bool ckeep, Keep(child, fc));
      if (!ckeep) continue;
      Reply r{&child, "", "", std::nullopt};
      TS_ASSIGN_OR_RETURN(r.text, RequiredString(child, "text", fc));
      TS_ASSIGN_OR_RETURN(r.id, RequiredString(child, "message_id", fc));
      TS_ASSIGN_OR_RETURN(r.rank, OptionalInt(child, "rank", fc));
      replies.push_back(std::move(r));
      fields.push_back(std::move(fc));
    }
    Emit(node, text, id, context, replies);
    // Then the follow-up prompts under each kept reply, depth first.
    for (size_t i = 0; i < replies.size(); ++i) {
      TS_ASSIGN_OR_RETURN(std::vector<const json*> grand,
                          Children(*replies[i].node, fields[i]));
      context.push_back({{"role", "assistant"}, {"content", replies[i].text}});
      for (size_t k = 0; k < grand.size(); ++k) {
        TS_RETURN_IF_ERROR(
            Prompter(*grand[k],
                     absl::StrCat(JoinField(fields[i], "replies"), "[", k, "]"),
                     context, depth + 1));
      }
      context.erase(context.size() - 1);
    }
    context.erase(context.size() - 1);
    return absl::OkStatus();
  }

 private:
  static absl::StatusOr<std::vector<const json*>> Children(
      const json& node, const std::string& field) {
    std::vector<const json*> out;
    auto it = node.find("replies");
    if (it == node.end() || it->is_null()) return out;
    if (!it->is_array()) {
      return InvalidField(JoinField(field, "replies"), "must be an array");
    }
    for (const json& c : *it) out.push_back(&c);
    return out;
  }

  json Base(const json& node, const std::string& text, const std::string& id,
            const json& context) const {
    json data = json::object();
    data["prompt"] = text;
    if (context.size() > 1) data["messages"] = context;
    json source = {{"tree_id", tree_id_}, {"prompt_id", id}};
    if (auto lang = node.find("lang");
        lang != node.end() && lang->is_string()) {
      source["lang"] = *lang;
    }
    data["oasst"] = std::move(source);
    return data;
  }

  void Emit(const json& node, const std::string& text, const std::string& id,
            const json& context, std::vector<Reply>& replies) {
    using domain::TaskType;
    if (options_.type == TaskType::kRating) {
      for (const Reply& r : replies) {
        ImportedTask t{Base(node, text, id, context), std::nullopt};
        t.data["response"] = r.text;
        t.data["oasst"]["reply_id"] = r.id;
        if (r.rank) t.data["oasst"]["rank"] = *r.rank;
        out_.tasks.push_back(std::move(t));
      }
      return;
    }
    std::vector<const Reply*> ranked;
    for (const Reply& r : replies) {
      if (r.rank) ranked.push_back(&r);
    }
    std::stable_sort(
        ranked.begin(), ranked.end(),
        [](const Reply* a, const Reply* b) { return *a->rank < *b->rank; });
    if (ranked.size() < 2) return;
    if (options_.type == TaskType::kRewrite) {
      const Reply& worst = *ranked.back();
      ImportedTask t{Base(node, text, id, context), std::nullopt};
      t.data["response"] = worst.text;
      t.data["oasst"]["reply_id"] = worst.id;
      t.data["oasst"]["rank"] = *worst.rank;
      out_.tasks.push_back(std::move(t));
      return;
    }
    if (options_.type != TaskType::kPairwise) return;
    const size_t n = ranked.size();
    for (size_t i = 0; i + 1 < n; ++i) {
      size_t j_end = options_.pair_mode == PairMode::kAdjacent ? i + 2 : n;
      for (size_t j = i + 1; j < j_end; ++j) {
        const Reply* better = ranked[i];
        const Reply* worse = ranked[j];
        const Reply* a = better;
        const Reply* b = worse;
        if (b->text < a->text) std::swap(a, b);
        if (PairwiseSwap(text, a->text, b->text, options_.flip_salt)) {
          std::swap(a, b);
        }
        ImportedTask t{Base(node, text, id, context), std::nullopt};
        t.data["responses"] = {a->text, b->text};
        t.data["oasst"]["reply_ids"] = {a->id, b->id};
        t.data["oasst"]["ranks"] = {*a->rank, *b->rank};
        if (*better->rank != *worse->rank) {
          t.gold = json{{"choice", a == better ? "a" : "b"}};
        }
        out_.tasks.push_back(std::move(t));
      }
    }
  }

  const OasstOptions& options_;
  std::string tree_id_;
  OasstResult& out_;
};

}  // namespace

absl::StatusOr<OasstResult> OasstTreeToTasks(const json& tree,
                                             const OasstOptions& options) {
  using domain::TaskType;
  if (options.type != TaskType::kRating &&
      options.type != TaskType::kPairwise &&
      options.type != TaskType::kRewrite) {
    return InvalidField("task_type",
                        absl::StrCat("OpenAssistant trees import into rating, "
                                     "pairwise or rewrite pools, not '",
                                     domain::ToString(options.type), "'"));
  }
  TS_RETURN_IF_ERROR(RequireObject(tree, "line"));
  TS_ASSIGN_OR_RETURN(std::string tree_id,
                      RequiredString(tree, "message_tree_id"));
  auto prompt = tree.find("prompt");
  if (prompt == tree.end()) {
    return InvalidField("prompt", "is required (the tree's root message)");
  }
  OasstResult result;
  Walker walker(options, std::move(tree_id), result);
  json context = json::array();
  TS_RETURN_IF_ERROR(walker.Prompter(*prompt, "prompt", context, 0));
  return result;
}

}  // namespace tessera::formats
