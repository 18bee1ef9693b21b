#include "tessera/domain/lifecycle.h"

#include "gtest/gtest.h"

namespace tessera::domain {
namespace {

TEST(ClaimLifecycleTest, OnlyActiveClaimsMove) {
  EXPECT_EQ(*NextClaimState(ClaimState::kActive, ClaimEvent::kSubmit),
            ClaimState::kSubmitted);
  EXPECT_EQ(*NextClaimState(ClaimState::kActive, ClaimEvent::kExpire),
            ClaimState::kExpired);
  EXPECT_EQ(*NextClaimState(ClaimState::kActive, ClaimEvent::kRelease),
            ClaimState::kReleased);
  for (ClaimState s :
       {ClaimState::kSubmitted, ClaimState::kExpired, ClaimState::kReleased}) {
    for (ClaimEvent e :
         {ClaimEvent::kSubmit, ClaimEvent::kExpire, ClaimEvent::kRelease}) {
      auto next = NextClaimState(s, e);
      EXPECT_EQ(next.status().code(), absl::StatusCode::kFailedPrecondition);
    }
  }
}

TEST(SubmissionLifecycleTest, ReviseAtMaxRoundsRejects) {
  using S = SubmissionState;
  using E = SubmissionEvent;
  EXPECT_EQ(*NextSubmissionState(S::kInReview, E::kRevise, 1, 3), S::kReturned);
  EXPECT_EQ(*NextSubmissionState(S::kInReview, E::kRevise, 3, 3), S::kRejected);
  EXPECT_EQ(*NextSubmissionState(S::kReturned, E::kResubmit, 1, 3),
            S::kPendingReview);
  EXPECT_EQ(*NextSubmissionState(S::kPendingReview, E::kLeaseForReview, 1, 3),
            S::kInReview);
  EXPECT_EQ(*NextSubmissionState(S::kInReview, E::kAccept, 2, 3), S::kAccepted);
}

TEST(SubmissionLifecycleTest, IllegalMovesFail) {
  using S = SubmissionState;
  using E = SubmissionEvent;
  EXPECT_FALSE(NextSubmissionState(S::kPendingReview, E::kAccept, 1, 3).ok());
  EXPECT_FALSE(NextSubmissionState(S::kAccepted, E::kRevise, 1, 3).ok());
  EXPECT_FALSE(NextSubmissionState(S::kRejected, E::kResubmit, 1, 3).ok());
  EXPECT_FALSE(NextSubmissionState(S::kInReview, E::kResubmit, 1, 3).ok());
  EXPECT_FALSE(HoldsSlot(S::kRejected));
  EXPECT_TRUE(HoldsSlot(S::kReturned));
}

TEST(EnumStringsTest, RoundTrip) {
  for (Role r :
       {Role::kAdmin, Role::kRequester, Role::kReviewer, Role::kAnnotator}) {
    EXPECT_EQ(*ParseRole(ToString(r), "role"), r);
  }
  EXPECT_EQ(*ParseTaskType("pairwise", "t"), TaskType::kPairwise);
  EXPECT_FALSE(ParseTaskType("polygon", "t").ok());
  EXPECT_EQ(*ParseSubmissionState("pending_review", "s"),
            SubmissionState::kPendingReview);
}

}  // namespace
}  // namespace tessera::domain
