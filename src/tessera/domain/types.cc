// Wire strings of the domain enums, defined once.
#include "tessera/domain/types.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tessera/base/status.h"

namespace tessera::domain {
namespace {

template <typename E, size_t N>
absl::string_view Name(const std::array<std::pair<E, const char*>, N>& table,
                       E e) {
  for (const auto& [v, name] : table) {
    if (v == e) return name;
  }
  return "unknown";
}

template <typename E, size_t N>
absl::StatusOr<E> Parse(const std::array<std::pair<E, const char*>, N>& table,
                        absl::string_view s, absl::string_view field) {
  std::vector<std::string> names;
  for (const auto& [v, name] : table) {
    if (s == name) return v;
    names.push_back(name);
  }
  return InvalidField(
      field,
      absl::StrCat("'", s, "' is not one of: ", absl::StrJoin(names, ", ")));
}

constexpr std::array<std::pair<Role, const char*>, 4> kRoles{{
    {Role::kAdmin, "admin"},
    {Role::kRequester, "requester"},
    {Role::kReviewer, "reviewer"},
    {Role::kAnnotator, "annotator"},
}};
constexpr std::array<std::pair<TaskType, const char*>, 6> kTaskTypes{{
    {TaskType::kBbox, "bbox"},
    {TaskType::kClassify, "classify"},
    {TaskType::kPairwise, "pairwise"},
    {TaskType::kRating, "rating"},
    {TaskType::kRewrite, "rewrite"},
    {TaskType::kReference, "reference"},
}};
constexpr std::array<std::pair<PoolState, const char*>, 4> kPoolStates{{
    {PoolState::kDraft, "draft"},
    {PoolState::kScheduled, "scheduled"},
    {PoolState::kOpen, "open"},
    {PoolState::kClosed, "closed"},
}};
constexpr std::array<std::pair<ClaimState, const char*>, 4> kClaimStates{{
    {ClaimState::kActive, "active"},
    {ClaimState::kSubmitted, "submitted"},
    {ClaimState::kExpired, "expired"},
    {ClaimState::kReleased, "released"},
}};
constexpr std::array<std::pair<SubmissionState, const char*>, 5>
    kSubmissionStates{{
        {SubmissionState::kPendingReview, "pending_review"},
        {SubmissionState::kInReview, "in_review"},
        {SubmissionState::kReturned, "returned"},
        {SubmissionState::kAccepted, "accepted"},
        {SubmissionState::kRejected, "rejected"},
    }};
constexpr std::array<std::pair<Verdict, const char*>, 3> kVerdicts{{
    {Verdict::kAccept, "accept"},
    {Verdict::kRevise, "revise"},
    {Verdict::kReject, "reject"},
}};
constexpr std::array<std::pair<AccountKind, const char*>, 3> kAccountKinds{{
    {AccountKind::kFunding, "funding"},
    {AccountKind::kProject, "project"},
    {AccountKind::kAnnotator, "annotator"},
}};

}  // namespace

absl::string_view ToString(Role r) { return Name(kRoles, r); }
absl::string_view ToString(TaskType t) { return Name(kTaskTypes, t); }
absl::string_view ToString(PoolState s) { return Name(kPoolStates, s); }
absl::string_view ToString(ClaimState s) { return Name(kClaimStates, s); }
absl::string_view ToString(SubmissionState s) {
  return Name(kSubmissionStates, s);
}
absl::string_view ToString(Verdict v) { return Name(kVerdicts, v); }
absl::string_view ToString(AccountKind k) { return Name(kAccountKinds, k); }

absl::StatusOr<Role> ParseRole(absl::string_view s, absl::string_view field) {
  return Parse(kRoles, s, field);
}
absl::StatusOr<TaskType> ParseTaskType(absl::string_view s,
                                       absl::string_view field) {
  return Parse(kTaskTypes, s, field);
}
absl::StatusOr<PoolState> ParsePoolState(absl::string_view s,
                                         absl::string_view field) {
  return Parse(kPoolStates, s, field);
}
absl::StatusOr<ClaimState> ParseClaimState(absl::string_view s,
                                           absl::string_view field) {
  return Parse(kClaimStates, s, field);
}
absl::StatusOr<SubmissionState> ParseSubmissionState(absl::string_view s,
                                                     absl::string_view field) {
  return Parse(kSubmissionStates, s, field);
}
absl::StatusOr<Verdict> ParseVerdict(absl::string_view s,
                                     absl::string_view field) {
  return Parse(kVerdicts, s, field);
}

bool User::HasRole(Role r) const {
  return std::find(roles.begin(), roles.end(), r) != roles.end();
}

}  // namespace tessera::domain
