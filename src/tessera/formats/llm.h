// LLM-feedback codecs: one JSONL record (prompt/response(s), chat messages,
// chosen/rejected) into Tessera task data, and streaming writers for
// preference-pair (DPO), SFT and rating exports. Pure: no store, no server.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "tessera/domain/types.h"

namespace tessera::formats {

// ---------------------------------------------------------------- import ---

// How pairwise tasks are built from a record with N > 2 responses.
enum class PairMode {
  kAllPairs,  // every (i, j) with i < j: N*(N-1)/2 tasks
  kAdjacent,  // (0,1), (1,2), ...: N-1 tasks
};

struct LlmImportOptions {
  // Target pool type: kPairwise, kRating, kRewrite or kReference.
  domain::TaskType type = domain::TaskType::kPairwise;
  PairMode pair_mode = PairMode::kAllPairs;
  // Mixed into the a/b coin flip (PairwiseSwap); 0 by default. Changing it
  // reshuffles positions deterministically.
  uint64_t flip_salt = 0;
  // Copies the record's unrecognised keys into each task's data as metadata.
  bool keep_metadata = true;
};

// One task to create: `data` in the pool type's shape (domain/task_types.h),
// and `gold` (a result of that type) when the record implies one.
struct ImportedTask {
  nlohmann::json data;
  std::optional<nlohmann::json> gold;
};

// A chat turn.
struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

// Converts one JSONL object into tasks for `options.type`. Accepted shapes
// (keys other than these are metadata):
//   {prompt, response}            {prompt, responses: [r0, r1, ...]}
//   {prompt, chosen, rejected}    (explicit prompt; TRL "standard" format)
//   {chosen, rejected}            (hh-rlhf: whole "\n\nHuman: ...\n\n
//                                  Assistant: ..." dialogues; the longest
//                                  shared prefix ending in "\n\nAssistant:"
//                                  is the prompt, the rest the responses, so
//                                  prompt + response == original exactly)
//   {messages: [{role, content}...]}  chat; the last assistant message is
//                                  the response, the last user message
//                                  before it the prompt, and every message
//                                  before the response is kept as
//                                  data.messages. A chat ending in a user
//                                  turn may carry response/responses/
//                                  chosen+rejected instead.
//   {prompt: [messages], chosen: [messages], rejected: [messages]}
//                                  (TRL conversational preference format)
//   optional gold: passed through as the gold of a single produced task.
// Per type:
//   pairwise: data {prompt, responses:[a, b]}; chosen/rejected gives gold
//             {choice: a|b}; N responses give pairs per pair_mode, with
//             data.response_indices = [index of a, index of b].
//   rating/rewrite: one task {prompt, response} per response (for rewrite,
//             chosen/rejected gives only the rejected response).
//   reference: one task {prompt}; responses are ignored.
// Errors are kInvalidArgument naming the record's field (e.g.
// "messages[2].role"); wrap them with AtLine (jsonl.h) for file and line.
absl::StatusOr<std::vector<ImportedTask>> LlmRecordToTasks(
    const nlohmann::json& record, const LlmImportOptions& options);

// The documented, deterministic a/b coin flip for a pair: true when the two
// responses given in canonical (byte-wise ascending) order should be shown
// swapped, i.e. the larger string as `a`. It is bit 0 of
// SplitMix64(Fnv1a64(prompt + "\0" + min(x, y) + "\0" + max(x, y)) ^ salt),
// so a pair lands the same way whatever its input order, and about half of
// all pairs put the chosen response first (position bias balances out).
bool PairwiseSwap(absl::string_view prompt, absl::string_view x,
                  absl::string_view y, uint64_t salt = 0);

// Splits an hh-rlhf chosen/rejected pair into (prompt, chosen response,
// rejected response) as described for LlmRecordToTasks; kInvalidArgument
// naming "chosen" when the dialogues share no "\n\nAssistant:" turn.
struct PreferenceSplit {
  std::string prompt;
  std::string chosen;
  std::string rejected;
};
absl::StatusOr<PreferenceSplit> SplitHhDialogues(absl::string_view chosen,
                                                 absl::string_view rejected);

// ---------------------------------------------------------------- export ---
// Every writer streams one row at a time to an std::ostream the caller owns,
// writes keys in a fixed order and numbers with at most 6 decimals, and
// returns kInvalidArgument for text that is not UTF-8 and kDataLoss when the
// stream fails. Not thread-safe.

enum class Choice { kA, kB, kTie };

// One preference judgement. Raw mode: one row per accepted annotation, with
// `annotator` (pseudonym) and `round`, annotators = 1. Aggregated mode: one
// row per task with `margin`/`confidence` from the quality engine.
struct PairRow {
  std::optional<int64_t> task_id;
  std::string prompt;
  std::string response_a;
  std::string response_b;
  Choice choice = Choice::kTie;
  std::optional<double> margin;
  std::optional<double> confidence;
  int64_t annotators = 0;
  std::optional<std::string> annotator;
  std::optional<int64_t> round;
};

// Writes TRL DPO / reward-trainer JSONL, one line per non-tie row:
// {"prompt","chosen","rejected","margin"?,"confidence"?,"annotators",
//  "annotator"?,"round"?,"task_id"?} (absent optionals are omitted). Ties
// carry no preference and are skipped and counted.
class PreferencePairWriter {
 public:
  explicit PreferencePairWriter(std::ostream& out) : out_(out) {}
  absl::Status Write(const PairRow& row);
  int64_t written() const { return written_; }
  int64_t skipped_ties() const { return skipped_ties_; }

 private:
  std::ostream& out_;
  std::string line_;
  int64_t written_ = 0;
  int64_t skipped_ties_ = 0;
};

// One supervised example from an accepted rewrite or reference answer.
struct SftRow {
  std::optional<int64_t> task_id;
  // Earlier turns ending with the user's prompt (a chat task's
  // data.messages); when empty the conversation is [user: prompt].
  std::vector<ChatMessage> context;
  std::string prompt;
  std::string completion;  // the accepted text, spoken by the assistant
  std::string source;      // "rewrite" or "reference"; omitted when empty
  std::optional<std::string> annotator;
  std::optional<int64_t> round;
};

// Writes {"messages":[...context or {"role":"user","content":prompt},
// {"role":"assistant","content":completion}],"source"?,"annotator"?,
// "round"?,"task_id"?} lines (TRL SFT conversational format).
class SftWriter {
 public:
  explicit SftWriter(std::ostream& out) : out_(out) {}
  absl::Status Write(const SftRow& row);
  int64_t written() const { return written_; }

 private:
  std::ostream& out_;
  std::string line_;
  int64_t written_ = 0;
};

// Scores of one response: per criterion, an integer in raw mode or the
// aggregated (possibly fractional) score.
struct RatingRow {
  std::optional<int64_t> task_id;
  std::string prompt;
  std::string response;
  std::vector<std::pair<std::string, double>> scores;  // criterion, score
  std::optional<std::string> rationale;
  std::optional<double> confidence;
  int64_t annotators = 0;
  std::optional<std::string> annotator;
  std::optional<int64_t> round;
};

// JSONL: {"task_id"?,"prompt","response","scores":{criterion: score, ...in
// row order},"rationale"?,"confidence"?,"annotators","annotator"?,"round"?}.
class RatingJsonlWriter {
 public:
  explicit RatingJsonlWriter(std::ostream& out) : out_(out) {}
  absl::Status Write(const RatingRow& row);
  int64_t written() const { return written_; }

 private:
  std::ostream& out_;
  std::string line_;
  int64_t written_ = 0;
};

// CSV (RFC 4180, "\r\n" line ends, fields quoted when they hold a comma,
// quote, CR, LF or edge space): a header then one line per row with columns
// task_id,prompt,response,<one per criterion in `criteria` order>,rationale,
// confidence,annotators,annotator,round. Absent values are empty cells; a
// score for a criterion not in `criteria` is kInvalidArgument.
class RatingCsvWriter {
 public:
  RatingCsvWriter(std::ostream& out, std::vector<std::string> criteria);
  absl::Status Write(const RatingRow& row);
  // Writes the header if no row did (an empty export is still a CSV).
  absl::Status Finish();
  int64_t written() const { return written_; }

 private:
  absl::Status WriteHeader();
  std::ostream& out_;
  std::vector<std::string> criteria_;
  std::string line_;
  bool header_done_ = false;
  int64_t written_ = 0;
};

// Formats `v` rounded to 6 decimals in the shortest form that reads back
// ("0.5", "3", "0.333333"); non-finite values become "null".
std::string FormatNumber(double v);

// Appends `s` as one CSV field, quoted and escaped when needed.
void AppendCsvField(absl::string_view s, std::string& out);

}  // namespace tessera::formats
