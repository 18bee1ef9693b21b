// What each task type accepts: pool config, task data, results (and gold,
// which is a result), and review comments. Pure validation: every error is
// kInvalidArgument naming the offending field.
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json_fwd.hpp"
#include "tessera/domain/types.h"

namespace tessera::domain {

// Checks and normalises a pool's `config` for `type` (fills defaults, e.g. a
// rating scale of 1..5). `field` is the config's path in the request.
absl::StatusOr<nlohmann::json> NormalizePoolConfig(TaskType type,
                                                   const nlohmann::json& config,
                                                   absl::string_view field);

// Checks a task's `data` for `type`: image tasks need `image` (a relative path
// inside the media root or an http(s) URL) and positive integer `width` and
// `height`; text tasks need `prompt` and `response` or two `responses`.
// Extra keys are kept as metadata.
absl::Status ValidateTaskData(TaskType type, const nlohmann::json& config,
                              const nlohmann::json& data,
                              absl::string_view field);

// Checks a result (or a gold answer) against the pool's config and the task's
// data: bbox boxes inside the image with labels from the set, classify labels
// from the set, pairwise choice a|b|tie, rating scores on the scale for every
// criterion, non-empty rewrite/reference text.
absl::Status ValidateResult(TaskType type, const nlohmann::json& config,
                            const nlohmann::json& data,
                            const nlohmann::json& result,
                            absl::string_view field);

// Checks a gold answer: as ValidateResult, except that a pool's
// rationale_required does not apply (a known answer needs no argument).
absl::Status ValidateGold(TaskType type, const nlohmann::json& config,
                          const nlohmann::json& data,
                          const nlohmann::json& gold, absl::string_view field);

// Checks review comments: an array of {text, anchor?} where anchor is
// {"box": index} or {"span": {"start", "end"}} (character offsets).
absl::Status ValidateComments(const nlohmann::json& comments,
                              absl::string_view field);

// True when `path` is a safe relative path (no "..", not absolute, no NUL or
// backslash) or an http(s) URL.
bool IsSafeMediaReference(absl::string_view path);

}  // namespace tessera::domain
