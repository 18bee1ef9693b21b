// Lifecycle transition tables.
#include "tessera/domain/lifecycle.h"

#include <array>

#include "absl/strings/str_cat.h"

namespace tessera::domain {
namespace {

struct ClaimRow {
  ClaimState from;
  ClaimEvent event;
  ClaimState to;
};
constexpr std::array<ClaimRow, 3> kClaimTable{{
    {ClaimState::kActive, ClaimEvent::kSubmit, ClaimState::kSubmitted},
    {ClaimState::kActive, ClaimEvent::kExpire, ClaimState::kExpired},
    {ClaimState::kActive, ClaimEvent::kRelease, ClaimState::kReleased},
}};

struct SubmissionRow {
  SubmissionState from;
  SubmissionEvent event;
  SubmissionState to;
};
constexpr std::array<SubmissionRow, 5> kSubmissionTable{{
    {SubmissionState::kPendingReview, SubmissionEvent::kLeaseForReview,
     SubmissionState::kInReview},
    {SubmissionState::kInReview, SubmissionEvent::kAccept,
     SubmissionState::kAccepted},
    {SubmissionState::kInReview, SubmissionEvent::kRevise,
     SubmissionState::kReturned},
    {SubmissionState::kInReview, SubmissionEvent::kReject,
     SubmissionState::kRejected},
    {SubmissionState::kReturned, SubmissionEvent::kResubmit,
     SubmissionState::kPendingReview},
}};

absl::string_view EventName(ClaimEvent e) {
  switch (e) {
    case ClaimEvent::kSubmit:
      return "submit";
    case ClaimEvent::kExpire:
      return "expire";
    case ClaimEvent::kRelease:
      return "release";
  }
  return "?";
}

absl::string_view EventName(SubmissionEvent e) {
  switch (e) {
    case SubmissionEvent::kLeaseForReview:
      return "lease for review";
    case SubmissionEvent::kAccept:
      return "accept";
    case SubmissionEvent::kRevise:
      return "revise";
    case SubmissionEvent::kReject:
      return "reject";
    case SubmissionEvent::kResubmit:
      return "resubmit";
  }
  return "?";
}

}  // namespace

absl::StatusOr<ClaimState> NextClaimState(ClaimState from, ClaimEvent event) {
  for (const ClaimRow& row : kClaimTable) {
    if (row.from == from && row.event == event) return row.to;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot ", EventName(event), " a claim that is ", ToString(from)));
}

absl::StatusOr<SubmissionState> NextSubmissionState(SubmissionState from,
                                                    SubmissionEvent event,
                                                    int round, int max_rounds) {
  for (const SubmissionRow& row : kSubmissionTable) {
    if (row.from != from || row.event != event) continue;
    if (event == SubmissionEvent::kRevise && round >= max_rounds) {
      return SubmissionState::kRejected;
    }
    return row.to;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot ", EventName(event), " a submission that is ", ToString(from)));
}

bool HoldsSlot(SubmissionState state) {
  return state != SubmissionState::kRejected;
}

}  // namespace tessera::domain
