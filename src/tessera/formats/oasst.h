// OpenAssistant (oasst1/oasst2 "trees" export) message trees into rating,
// ranking-as-pairs and rewrite tasks.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tessera/domain/types.h"
#include "tessera/formats/llm.h"

namespace tessera::formats {

struct OasstOptions {
  // kRating, kPairwise or kRewrite.
  domain::TaskType type = domain::TaskType::kRating;
  // Messages (and everything under them) to leave out.
  bool skip_deleted = true;        // "deleted": true
  bool skip_synthetic = false;     // "synthetic": true (model-written)
  bool skip_failed_review = true;  // "review_result": false
  // Pairs among the N ranked replies of one prompt: all, or rank k vs k+1.
  PairMode pair_mode = PairMode::kAllPairs;
  uint64_t flip_salt = 0;  // see PairwiseSwap
};

struct OasstResult {
  std::vector<ImportedTask> tasks;
  // Messages the skip options left out (their replies are left out too and
  // not counted).
  int64_t skipped_messages = 0;
};

// Converts one tree line {message_tree_id, prompt: {message_id, text, role,
// replies: [...]}}. Every kept prompter message with kept assistant replies
// is a prompt; data.prompt is its text, data.messages the conversation from
// the root down to it ({role: user|assistant, content}) when it is not the
// root, and data.oasst = {tree_id, prompt_id, lang, ...} names the source.
//   rating:   one task {prompt, response} per kept assistant reply
//             (data.oasst.reply_id, rank when ranked).
//   pairwise: the ranked replies (rank not null) of a prompt, paired per
//             pair_mode in rank order, a/b per PairwiseSwap; gold is the
//             better-ranked (lower rank) reply; equal ranks give no gold.
//             data.oasst.reply_ids/ranks follow a/b.
//   rewrite:  for a prompt with at least two ranked replies, one task with
//             the lowest-ranked (highest rank number) reply as response.
// Errors are kInvalidArgument naming the field, e.g. "prompt.replies[1].text".
absl::StatusOr<OasstResult> OasstTreeToTasks(const nlohmann::json& tree,
                                             const OasstOptions& options);

}  // namespace tessera::formats
