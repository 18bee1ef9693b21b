// Chat-completions drafts: one bounded HTTP exchange, the first choice's
// content, errors mapped like the model-backend client's.
#include "tessera/preannotate/chat_client.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"
#include "tessera/preannotate/internal/http_fetch.h"

namespace tessera::preannotate {
namespace {

using nlohmann::json;

constexpr char kRewriteInstructions[] =
    "You improve assistant replies. Rewrite the reply below so that it is "
    "correct, helpful, clear and concise. Answer with the rewritten reply "
    "only.";

std::string Excerpt(absl::string_view body) {
  return body.size() <= 300 ? std::string(body)
                            : absl::StrCat(body.substr(0, 300), "...");
}

}  // namespace

ChatCompletionsClient::ChatCompletionsClient(std::string url,
                                             ChatClientOptions options)
    : url_(std::move(url)), options_(std::move(options)) {}

absl::StatusOr<std::string> ChatCompletionsClient::Complete(
    const std::vector<ChatMessage>& messages) const {
  TS_ASSIGN_OR_RETURN(internal::HttpUrl url, internal::ParseHttpUrl(url_));
  json body = {{"messages", json::array()},
               {"temperature", options_.temperature},
               {"max_tokens", options_.max_tokens},
               {"stream", false}};
  if (!options_.model.empty()) body["model"] = options_.model;
  for (const ChatMessage& m : messages) {
    body["messages"].push_back({{"role", m.role}, {"content", m.content}});
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (!options_.api_key.empty()) {
    headers.emplace_back("Authorization",
                         absl::StrCat("Bearer ", options_.api_key));
  }
  const std::string target = absl::StrCat(url.path, "/v1/chat/completions");
  TS_ASSIGN_OR_RETURN(
      internal::FetchResponse resp,
      internal::HttpExchange(
          url.host, url.port, "POST", target,
          body.dump(-1, ' ', false, json::error_handler_t::replace),
          options_.timeout, 16 << 20, headers));
  const std::string where = absl::StrCat("POST ", url_, "/v1/chat/completions");
  if (resp.status >= 500) {
    return absl::UnavailableError(
        absl::StrCat(where, ": HTTP ", resp.status, ": ", Excerpt(resp.body)));
  }
  if (resp.status >= 400) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": HTTP ", resp.status, ": ", Excerpt(resp.body)));
  }
  json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InternalError(absl::StrCat(
        where, ": response is not a JSON object: ", Excerpt(resp.body)));
  }
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty() ||
      !(*choices)[0].is_object() || !(*choices)[0].contains("message") ||
      !(*choices)[0]["message"].is_object() ||
      !(*choices)[0]["message"].contains("content") ||
      !(*choices)[0]["message"]["content"].is_string()) {
    return absl::InternalError(absl::StrCat(
        where,
        ": response lacks choices[0].message.content: ", Excerpt(resp.body)));
  }
  return (*choices)[0]["message"]["content"].get<std::string>();
}

absl::StatusOr<std::string> DraftReference(const ChatCompletionsClient& client,
                                           absl::string_view prompt) {
  return client.Complete({{"user", std::string(prompt)}});
}

absl::StatusOr<std::string> DraftRewrite(const ChatCompletionsClient& client,
                                         absl::string_view prompt,
                                         absl::string_view response) {
  return client.Complete(
      {{"system", kRewriteInstructions},
       {"user", absl::StrCat("Prompt:\n", prompt, "\n\nReply:\n", response)}});
}

}  // namespace tessera::preannotate
