// Drafts for text tasks from an OpenAI-compatible chat-completions endpoint
// (POST {url}/v1/chat/completions): reference answers and rewrites.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tessera::preannotate {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

struct ChatClientOptions {
  std::string model;    // sent as "model" (servers hosting one model ignore it)
  std::string api_key;  // sent as "Authorization: Bearer ..." when non-empty
  double temperature = 0.2;
  int max_tokens = 1024;
  absl::Duration timeout = absl::Seconds(120);
};

// Calls the endpoint at `url` ("http://host:port[/prefix]"; plain http).
// Stateless: each call opens its own connection; thread-safe. Errors as
// MlBackendClient's: kInvalidArgument (bad URL, 4xx), kUnavailable (no
// connection, 5xx), kDeadlineExceeded, kInternal (an answer without
// choices[0].message.content).
class ChatCompletionsClient {
 public:
  explicit ChatCompletionsClient(std::string url,
                                 ChatClientOptions options = {});

  // The first choice's message content.
  absl::StatusOr<std::string> Complete(
      const std::vector<ChatMessage>& messages) const;

 private:
  std::string url_;
  ChatClientOptions options_;
};

// A draft result {text} for a reference task {prompt}: the model's answer.
absl::StatusOr<std::string> DraftReference(const ChatCompletionsClient& client,
                                           absl::string_view prompt);

// A draft result {text} for a rewrite task {prompt, response}: the response
// improved by the model.
absl::StatusOr<std::string> DraftRewrite(const ChatCompletionsClient& client,
                                         absl::string_view prompt,
                                         absl::string_view response);

}  // namespace tessera::preannotate
