// LLM-feedback JSONL records to task data, and the DPO/SFT/rating writers.
#include "tessera/formats/llm.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tessera/base/json_util.h"
#include "tessera/base/mix.h"
#include "tessera/base/status.h"
#include "tessera/formats/jsonl.h"

namespace tessera::formats {
namespace {

using nlohmann::json;

constexpr absl::string_view kHhAssistant = "\n\nAssistant:";

bool IsBlankText(absl::string_view s) {
  return s.find_first_not_of(" \t\r\n") == absl::string_view::npos;
}

std::string Indexed(absl::string_view field, size_t i) {
  return absl::StrCat(field, "[", i, "]");
}

// A record reduced to prompt, chat context and candidate responses.
struct Conversation {
  std::string prompt;
  json messages;  // array of {role, content} before the response, or null
  std::vector<std::string> responses;
  bool preference = false;  // responses = {chosen, rejected}
};

absl::StatusOr<std::vector<ChatMessage>> ParseMessages(
    const json& array, absl::string_view field) {
  if (!array.is_array() || array.empty()) {
    return InvalidField(field, "must be a non-empty array of {role, content}");
  }
  std::vector<ChatMessage> out;
  out.reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) {
    std::string fi = Indexed(field, i);
    TS_RETURN_IF_ERROR(RequireObject(array[i], fi));
    TS_ASSIGN_OR_RETURN(std::string role, RequiredString(array[i], "role", fi));
    if (role != "system" && role != "user" && role != "assistant") {
      return InvalidField(JoinField(fi, "role"),
                          "must be system, user or assistant");
    }
    TS_ASSIGN_OR_RETURN(std::string content,
                        RequiredString(array[i], "content", fi));
    out.push_back({std::move(role), std::move(content)});
  }
  return out;
}

json MessagesJson(const std::vector<ChatMessage>& messages, size_t count) {
  json out = json::array();
  for (size_t i = 0; i < count; ++i) {
    out.push_back(
        {{"role", messages[i].role}, {"content", messages[i].content}});
  }
  return out;
}

// A chosen/rejected value: a string, or (TRL conversational) messages whose
// last one is the assistant's answer.
absl::StatusOr<std::string> ResponseValue(const json& v,
                                          absl::string_view field) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    TS_ASSIGN_OR_RETURN(std::vector<ChatMessage> m, ParseMessages(v, field));
    if (m.back().role != "assistant") {
      return InvalidField(Indexed(field, m.size() - 1),
                          "the last message must be the assistant's");
    }
    return m.back().content;
  }
  return InvalidField(field, "must be a string or an array of messages");
}

absl::StatusOr<Conversation> ReadConversation(const json& record) {
  Conversation c;
  auto prompt_it = record.find("prompt");
  auto messages_it = record.find("messages");
  auto response_it = record.find("response");
  auto responses_it = record.find("responses");
  auto chosen_it = record.find("chosen");
  auto rejected_it = record.find("rejected");
  const bool has_prompt = prompt_it != record.end() && !prompt_it->is_null();
  const bool has_messages = messages_it != record.end();
  const bool has_pref =
      chosen_it != record.end() || rejected_it != record.end();
  int sources = (response_it != record.end()) + (responses_it != record.end()) +
                (has_pref ? 1 : 0);
  if (sources > 1) {
    return InvalidField(has_pref ? "chosen" : "responses",
                        "give only one of response, responses or "
                        "chosen/rejected");
  }
  if (has_prompt && has_messages) {
    return InvalidField("messages", "give either prompt or messages, not both");
  }

  // Context: chat messages, a plain prompt, or an hh-rlhf dialogue pair.
  std::optional<std::vector<ChatMessage>> chat;
  std::string chat_field;
  if (has_messages) {
    TS_ASSIGN_OR_RETURN(chat, ParseMessages(*messages_it, "messages"));
    chat_field = "messages";
  } else if (has_prompt && prompt_it->is_array()) {
    TS_ASSIGN_OR_RETURN(chat, ParseMessages(*prompt_it, "prompt"));
    chat_field = "prompt";
  } else if (has_prompt) {
    if (!prompt_it->is_string()) {
      return InvalidField("prompt", "must be a string or an array of messages");
    }
    c.prompt = prompt_it->get<std::string>();
  }

  if (has_pref) {
    if (chosen_it == record.end() || rejected_it == record.end()) {
      return InvalidField(chosen_it == record.end() ? "chosen" : "rejected",
                          "chosen and rejected come together");
    }
    c.preference = true;
    if (!has_prompt && !has_messages) {
      if (!chosen_it->is_string() || !rejected_it->is_string()) {
        return InvalidField(
            chosen_it->is_string() ? "rejected" : "chosen",
            "without a prompt, chosen and rejected must be whole dialogues "
            "(strings)");
      }
      TS_ASSIGN_OR_RETURN(PreferenceSplit split,
                          SplitHhDialogues(chosen_it->get<std::string>(),
                                           rejected_it->get<std::string>()));
      c.prompt = std::move(split.prompt);
      c.responses = {std::move(split.chosen), std::move(split.rejected)};
    } else {
      TS_ASSIGN_OR_RETURN(std::string chosen,
                          ResponseValue(*chosen_it, "chosen"));
      TS_ASSIGN_OR_RETURN(std::string rejected,
                          ResponseValue(*rejected_it, "rejected"));
      c.responses = {std::move(chosen), std::move(rejected)};
    }
  } else if (response_it != record.end()) {
    if (!response_it->is_string()) {
      return InvalidField("response", "must be a string");
    }
    c.responses.push_back(response_it->get<std::string>());
  } else if (responses_it != record.end()) {
    if (!responses_it->is_array()) {
      return InvalidField("responses", "must be an array of strings");
    }
    for (size_t i = 0; i < responses_it->size(); ++i) {
      const json& r = (*responses_it)[i];
      if (!r.is_string()) {
        return InvalidField(Indexed("responses", i), "must be a string");
      }
      c.responses.push_back(r.get<std::string>());
    }
  }

  if (chat) {
    size_t n = chat->size();
    // In a {messages} record without other responses, the final assistant
    // message is the response.
    if (sources == 0 && chat_field == "messages" &&
        chat->back().role == "assistant") {
      c.responses.push_back(chat->back().content);
      --n;
    }
    if (n == 0 || (*chat)[n - 1].role != "user") {
      return InvalidField(chat_field,
                          "needs a user message right before the response");
    }
    c.prompt = (*chat)[n - 1].content;
    c.messages = MessagesJson(*chat, n);
  }

  if (!has_prompt && !has_messages && !has_pref) {
    return InvalidField("prompt",
                        "is required (or messages, or chosen and "
                        "rejected dialogues)");
  }
  if (IsBlankText(c.prompt)) {
    return InvalidField(chat ? chat_field : "prompt", "must not be empty");
  }
  for (size_t i = 0; i < c.responses.size(); ++i) {
    if (c.responses[i].empty()) {
      std::string f = c.preference ? (i == 0 ? "chosen" : "rejected")
                      : response_it != record.end()  ? "response"
                      : responses_it != record.end() ? Indexed("responses", i)
                                                     : "messages";
      return InvalidField(f, "must not be empty");
    }
  }
  return c;
}

bool IsRecognisedKey(const std::string& key) {
  static const std::set<std::string> kKeys = {
      "prompt", "messages", "response", "responses",
      "chosen", "rejected", "gold"};
  return kKeys.count(key) > 0;
}

json BaseData(const json& record, const Conversation& c,
              const LlmImportOptions& options) {
  json data = json::object();
  if (options.keep_metadata) {
    for (const auto& [key, value] : record.items()) {
      if (!IsRecognisedKey(key)) data[key] = value;
    }
  }
  data["prompt"] = c.prompt;
  if (!c.messages.is_null()) data["messages"] = c.messages;
  return data;
}

uint64_t Fnv1a64(std::initializer_list<absl::string_view> parts) {
  uint64_t h = 0xcbf29ce484222325ULL;
  bool first = true;
  for (absl::string_view p : parts) {
    if (!first) {
      h ^= 0;
      h *= 0x100000001b3ULL;
    }
    first = false;
    for (unsigned char ch : p) {
      h ^= ch;
      h *= 0x100000001b3ULL;
    }
  }
  return h;
}

// The pair (i, j) in display order: returns (index of a, index of b).
std::pair<size_t, size_t> OrderPair(const Conversation& c, size_t i, size_t j,
                                    uint64_t salt) {
  const std::string& x = c.responses[i];
  const std::string& y = c.responses[j];
  std::pair<size_t, size_t> canonical =
      (y < x) ? std::make_pair(j, i) : std::make_pair(i, j);
  if (PairwiseSwap(c.prompt, x, y, salt)) {
    std::swap(canonical.first, canonical.second);
  }
  return canonical;
}

}  // namespace

bool PairwiseSwap(absl::string_view prompt, absl::string_view x,
                  absl::string_view y, uint64_t salt) {
  if (y < x) std::swap(x, y);
  return (SplitMix64(Fnv1a64({prompt, x, y}) ^ salt) & 1) != 0;
}

absl::StatusOr<PreferenceSplit> SplitHhDialogues(absl::string_view chosen,
                                                 absl::string_view rejected) {
  size_t common = 0;
  const size_t limit = std::min(chosen.size(), rejected.size());
  while (common < limit && chosen[common] == rejected[common]) ++common;
  size_t turn = chosen.substr(0, common).rfind(kHhAssistant);
  if (turn == absl::string_view::npos) {
    return InvalidField("chosen",
                        "chosen and rejected share no \"\\n\\nAssistant:\" "
                        "turn to split the prompt from the responses");
  }
  size_t cut = turn + kHhAssistant.size();
  PreferenceSplit split;
  split.prompt = std::string(chosen.substr(0, cut));
  split.chosen = std::string(chosen.substr(cut));
  split.rejected = std::string(rejected.substr(cut));
  return split;
}

absl::StatusOr<std::vector<ImportedTask>> LlmRecordToTasks(
    const json& record, const LlmImportOptions& options) {
  using domain::TaskType;
  if (options.type == TaskType::kBbox || options.type == TaskType::kClassify) {
    return InvalidField("task_type",
                        absl::StrCat("'", domain::ToString(options.type),
                                     "' pools do not take LLM records"));
  }
  TS_RETURN_IF_ERROR(RequireObject(record, "line"));
  TS_ASSIGN_OR_RETURN(Conversation c, ReadConversation(record));
  json base = BaseData(record, c, options);
  std::vector<ImportedTask> tasks;

  switch (options.type) {
    case TaskType::kPairwise: {
      if (c.responses.size() < 2) {
        return InvalidField(
            c.responses.empty() ? "responses" : "response",
            "pairwise tasks need at least two responses (responses: [a, b] "
            "or chosen and rejected)");
      }
      if (c.preference) {
        auto [a, b] = OrderPair(c, 0, 1, options.flip_salt);
        ImportedTask t{std::move(base), std::nullopt};
        t.data["responses"] = {c.responses[a], c.responses[b]};
        t.gold = json{{"choice", a == 0 ? "a" : "b"}};
        tasks.push_back(std::move(t));
        break;
      }
      const size_t n = c.responses.size();
      for (size_t i = 0; i + 1 < n; ++i) {
        size_t j_end = options.pair_mode == PairMode::kAdjacent ? i + 2 : n;
        for (size_t j = i + 1; j < j_end; ++j) {
          auto [a, b] = OrderPair(c, i, j, options.flip_salt);
          const bool last = i + 2 == n && j + 1 == n;
          ImportedTask t{last ? std::move(base) : base, std::nullopt};
          t.data["responses"] = {c.responses[a], c.responses[b]};
          if (n > 2) t.data["response_indices"] = {a, b};
          tasks.push_back(std::move(t));
        }
      }
      break;
    }
    case TaskType::kRating:
    case TaskType::kRewrite: {
      if (c.responses.empty()) {
        return InvalidField("response",
                            absl::StrCat(domain::ToString(options.type),
                                         " tasks need a response"));
      }
      size_t first = 0;
      if (c.preference && options.type == TaskType::kRewrite) first = 1;
      for (size_t i = first; i < c.responses.size(); ++i) {
        if (IsBlankText(c.responses[i])) continue;
        const bool last = i + 1 == c.responses.size();
        ImportedTask t{last ? std::move(base) : base, std::nullopt};
        t.data["response"] = c.responses[i];
        if (c.responses.size() > 1) t.data["response_index"] = i;
        tasks.push_back(std::move(t));
      }
      if (tasks.empty()) {
        return InvalidField(c.preference ? "rejected" : "response",
                            "must not be blank");
      }
      break;
    }
    case TaskType::kReference:
      tasks.push_back({std::move(base), std::nullopt});
      break;
    default:
      break;
  }

  auto gold = record.find("gold");
  if (gold != record.end() && !gold->is_null()) {
    if (tasks.size() != 1 || tasks[0].gold) {
      return InvalidField("gold",
                          "gold is only allowed on a record that yields "
                          "exactly one task without its own gold");
    }
    tasks[0].gold = *gold;
  }
  return tasks;
}

// ---------------------------------------------------------------- export ---

std::string FormatNumber(double v) {
  if (!std::isfinite(v)) return "null";
  double r = std::round(v * 1e6) / 1e6;
  if (r == 0) return "0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), r);
  return std::string(buf, res.ptr);
}

void AppendCsvField(absl::string_view s, std::string& out) {
  bool quote = !s.empty() && (s.front() == ' ' || s.back() == ' ');
  if (!quote) quote = s.find_first_of(",\"\r\n") != absl::string_view::npos;
  if (!quote) {
    out.append(s.data(), s.size());
    return;
  }
  out.push_back('"');
  for (char ch : s) {
    if (ch == '"') out.push_back('"');
    out.push_back(ch);
  }
  out.push_back('"');
}

namespace {

absl::Status CheckText(absl::string_view s, absl::string_view field) {
  if (!IsValidUtf8(s)) {
    return InvalidField(field, "is not valid UTF-8");
  }
  return absl::OkStatus();
}

// JSON object builder over a reused string: keys appear in call order.
class ObjectLine {
 public:
  explicit ObjectLine(std::string& out) : out_(out) {
    out_.clear();
    out_.push_back('{');
  }
  void Name(absl::string_view key) {
    if (!first_) out_.push_back(',');
    first_ = false;
    AppendJsonString(key, out_);
    out_.push_back(':');
  }
  void String(absl::string_view key, absl::string_view v) {
    Name(key);
    AppendJsonString(v, out_);
  }
  void Number(absl::string_view key, double v) {
    Name(key);
    out_.append(FormatNumber(v));
  }
  void Int(absl::string_view key, int64_t v) {
    Name(key);
    absl::StrAppend(&out_, v);
  }
  void Raw(absl::string_view key, absl::string_view raw) {
    Name(key);
    out_.append(raw.data(), raw.size());
  }
  void End() { out_.append("}\n"); }

 private:
  std::string& out_;
  bool first_ = true;
};

absl::Status Emit(std::ostream& out, const std::string& line) {
  out.write(line.data(), static_cast<std::streamsize>(line.size()));
  if (!out) return absl::DataLossError("writing the export failed");
  return absl::OkStatus();
}

void AppendCommonTail(ObjectLine& o, const std::optional<std::string>& who,
                      const std::optional<int64_t>& round,
                      const std::optional<int64_t>& task_id) {
  if (who) o.String("annotator", *who);
  if (round) o.Int("round", *round);
  if (task_id) o.Int("task_id", *task_id);
}

}  // namespace

absl::Status PreferencePairWriter::Write(const PairRow& row) {
  if (row.choice == Choice::kTie) {
    ++skipped_ties_;
    return absl::OkStatus();
  }
  TS_RETURN_IF_ERROR(CheckText(row.prompt, "prompt"));
  TS_RETURN_IF_ERROR(CheckText(row.response_a, "response_a"));
  TS_RETURN_IF_ERROR(CheckText(row.response_b, "response_b"));
  if (row.annotator) TS_RETURN_IF_ERROR(CheckText(*row.annotator, "annotator"));
  const bool a_wins = row.choice == Choice::kA;
  ObjectLine o(line_);
  o.String("prompt", row.prompt);
  o.String("chosen", a_wins ? row.response_a : row.response_b);
  o.String("rejected", a_wins ? row.response_b : row.response_a);
  if (row.margin) o.Number("margin", *row.margin);
  if (row.confidence) o.Number("confidence", *row.confidence);
  o.Int("annotators", row.annotators);
  AppendCommonTail(o, row.annotator, row.round, row.task_id);
  o.End();
  TS_RETURN_IF_ERROR(Emit(out_, line_));
  ++written_;
  return absl::OkStatus();
}

absl::Status SftWriter::Write(const SftRow& row) {
  TS_RETURN_IF_ERROR(CheckText(row.prompt, "prompt"));
  TS_RETURN_IF_ERROR(CheckText(row.completion, "completion"));
  for (size_t i = 0; i < row.context.size(); ++i) {
    TS_RETURN_IF_ERROR(CheckText(row.context[i].role,
                                 absl::StrCat(Indexed("context", i), ".role")));
    TS_RETURN_IF_ERROR(
        CheckText(row.context[i].content,
                  absl::StrCat(Indexed("context", i), ".content")));
  }
  if (row.annotator) TS_RETURN_IF_ERROR(CheckText(*row.annotator, "annotator"));
  TS_RETURN_IF_ERROR(CheckText(row.source, "source"));
  std::string messages = "[";
  auto add = [&messages](absl::string_view role, absl::string_view content) {
    if (messages.size() > 1) messages.push_back(',');
    messages.append("{\"role\":");
    AppendJsonString(role, messages);
    messages.append(",\"content\":");
    AppendJsonString(content, messages);
    messages.push_back('}');
  };
  if (row.context.empty()) {
    add("user", row.prompt);
  } else {
    for (const ChatMessage& m : row.context) add(m.role, m.content);
  }
  add("assistant", row.completion);
  messages.push_back(']');
  ObjectLine o(line_);
  o.Raw("messages", messages);
  if (!row.source.empty()) o.String("source", row.source);
  AppendCommonTail(o, row.annotator, row.round, row.task_id);
  o.End();
  TS_RETURN_IF_ERROR(Emit(out_, line_));
  ++written_;
  return absl::OkStatus();
}

absl::Status RatingJsonlWriter::Write(const RatingRow& row) {
  TS_RETURN_IF_ERROR(CheckText(row.prompt, "prompt"));
  TS_RETURN_IF_ERROR(CheckText(row.response, "response"));
  if (row.rationale) TS_RETURN_IF_ERROR(CheckText(*row.rationale, "rationale"));
  if (row.annotator) TS_RETURN_IF_ERROR(CheckText(*row.annotator, "annotator"));
  std::string scores = "{";
  for (const auto& [criterion, score] : row.scores) {
    TS_RETURN_IF_ERROR(CheckText(criterion, "scores"));
    if (scores.size() > 1) scores.push_back(',');
    AppendJsonString(criterion, scores);
    scores.push_back(':');
    scores.append(FormatNumber(score));
  }
  scores.push_back('}');
  ObjectLine o(line_);
  if (row.task_id) o.Int("task_id", *row.task_id);
  o.String("prompt", row.prompt);
  o.String("response", row.response);
  o.Raw("scores", scores);
  if (row.rationale) o.String("rationale", *row.rationale);
  if (row.confidence) o.Number("confidence", *row.confidence);
  o.Int("annotators", row.annotators);
  AppendCommonTail(o, row.annotator, row.round, std::nullopt);
  o.End();
  TS_RETURN_IF_ERROR(Emit(out_, line_));
  ++written_;
  return absl::OkStatus();
}

RatingCsvWriter::RatingCsvWriter(std::ostream& out,
                                 std::vector<std::string> criteria)
    : out_(out), criteria_(std::move(criteria)) {}

absl::Status RatingCsvWriter::WriteHeader() {
  line_.clear();
  line_.append("task_id,prompt,response");
  for (const std::string& c : criteria_) {
    TS_RETURN_IF_ERROR(CheckText(c, "criteria"));
    line_.push_back(',');
    AppendCsvField(c, line_);
  }
  line_.append(",rationale,confidence,annotators,annotator,round\r\n");
  header_done_ = true;
  return Emit(out_, line_);
}

absl::Status RatingCsvWriter::Finish() {
  return header_done_ ? absl::OkStatus() : WriteHeader();
}

absl::Status RatingCsvWriter::Write(const RatingRow& row) {
  if (!header_done_) TS_RETURN_IF_ERROR(WriteHeader());
  TS_RETURN_IF_ERROR(CheckText(row.prompt, "prompt"));
  TS_RETURN_IF_ERROR(CheckText(row.response, "response"));
  if (row.rationale) TS_RETURN_IF_ERROR(CheckText(*row.rationale, "rationale"));
  if (row.annotator) TS_RETURN_IF_ERROR(CheckText(*row.annotator, "annotator"));
  std::vector<const double*> cells(criteria_.size(), nullptr);
  for (const auto& [criterion, score] : row.scores) {
    size_t k = 0;
    while (k < criteria_.size() && criteria_[k] != criterion) ++k;
    if (k == criteria_.size()) {
      return InvalidField(JoinField("scores", criterion),
                          "is not one of the export's criteria");
    }
    cells[k] = &score;
  }
  line_.clear();
  if (row.task_id) absl::StrAppend(&line_, *row.task_id);
  line_.push_back(',');
  AppendCsvField(row.prompt, line_);
  line_.push_back(',');
  AppendCsvField(row.response, line_);
  for (const double* cell : cells) {
    line_.push_back(',');
    if (cell != nullptr) line_.append(FormatNumber(*cell));
  }
  line_.push_back(',');
  if (row.rationale) AppendCsvField(*row.rationale, line_);
  line_.push_back(',');
  if (row.confidence) line_.append(FormatNumber(*row.confidence));
  absl::StrAppend(&line_, ",", row.annotators, ",");
  if (row.annotator) AppendCsvField(*row.annotator, line_);
  line_.push_back(',');
  if (row.round) absl::StrAppend(&line_, *row.round);
  line_.append("\r\n");
  TS_RETURN_IF_ERROR(Emit(out_, line_));
  ++written_;
  return absl::OkStatus();
}

}  // namespace tessera::formats
