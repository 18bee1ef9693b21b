// The lifecycle state machines as tables: claims and submissions. Each
// transition is a pure function that returns kFailedPrecondition on an illegal
// move. See lifecycle.md for the picture.
#pragma once

#include "absl/status/statusor.h"
#include "tessera/domain/types.h"

namespace tessera::domain {

enum class ClaimEvent { kSubmit, kExpire, kRelease };

// active → submitted | expired | released; nothing leaves a final state.
absl::StatusOr<ClaimState> NextClaimState(ClaimState from, ClaimEvent event);

enum class SubmissionEvent {
  kLeaseForReview,  // pending_review → in_review
  kAccept,          // in_review → accepted
  kRevise,          // in_review → returned (or rejected at max rounds)
  kReject,          // in_review → rejected
  kResubmit,        // returned → pending_review (next round)
};

// `round` is the submission's current round and `max_rounds` the pool's limit:
// a revise verdict on the last allowed round becomes a rejection.
absl::StatusOr<SubmissionState> NextSubmissionState(SubmissionState from,
                                                    SubmissionEvent event,
                                                    int round, int max_rounds);

// Whether a submission in `state` still holds one of its task's overlap slots
// (rejected work frees the slot for another annotator).
bool HoldsSlot(SubmissionState state);

}  // namespace tessera::domain
