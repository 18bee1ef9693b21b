// Invitations to review (issue 6): an admin invites an annotator whose
// overall standing tier is reviewer_eligible; accepting grants the reviewer
// role in the same transaction.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "tessera/base/clock.h"
#include "tessera/base/json_util.h"
#include "tessera/base/status.h"
#include "tessera/domain/workforce.h"
#include "tessera/service/internal/access.h"
#include "tessera/service/service.h"
#include "tessera/service/standing.h"

namespace tessera::service {
namespace {

using domain::Role;
using internal::Audit;
using store::ReviewerInvitationRow;
using store::Tx;

constexpr size_t kMaxInvitationNote = 2000;

// Characters, not bytes: UTF-8 continuation bytes are not counted.
size_t Utf8Length(const std::string& s) {
  return std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  });
}

json InvitationJson(const ReviewerInvitationRow& i) {
  return {{"id", i.id},
          {"user_id", i.user_id.value},
          {"invited_by", i.invited_by.value},
          {"note", i.note},
          {"state", i.state},
          {"created_at", Rfc3339(i.created_at)},
          {"decided_at", i.decided_at ? json(Rfc3339(*i.decided_at)) : json()}};
}

}  // namespace

absl::StatusOr<json> Service::InviteReviewer(const Principal& p, UserId user,
                                             const json& body) {
  if (!p.Has(Role::kAdmin)) {
    return PermissionDenied("only admins invite annotators to review");
  }
  std::string note;
  if (!body.is_null()) {
    TS_RETURN_IF_ERROR(RequireObject(body, "body"));
    TS_ASSIGN_OR_RETURN(auto n, OptionalString(body, "note"));
    note = n.value_or("");
  }
  if (Utf8Length(note) > kMaxInvitationNote) {
    return InvalidField(
        "note",
        absl::StrCat("must be at most ", kMaxInvitationNote, " characters"));
  }
  const absl::Time now = clock_.Now();
  json out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(domain::User u, tx.GetUser(user));
    if (u.HasRole(Role::kReviewer)) {
      return Conflict(absl::StrCat(u.username, " is already a reviewer"));
    }
    TS_ASSIGN_OR_RETURN(auto existing, tx.ListReviewerInvitations(u.id));
    for (const auto& i : existing) {
      if (i.state == "pending") {
        return Conflict(absl::StrCat(
            u.username, " already has a pending invitation (", i.id, ")"));
      }
    }
    TS_ASSIGN_OR_RETURN(internal::StandingSet set,
                        internal::ComputeStandingSet(
                            tx, u.id, now, standing_policy_, *standing_cache_));
    if (set.overall.tier != domain::Tier::kReviewerEligible) {
      return FailedPrecondition(absl::StrCat(
          "only annotators whose overall tier is reviewer_eligible can be "
          "invited to review; ",
          u.username, "'s tier is ", domain::ToString(set.overall.tier)));
    }
    ReviewerInvitationRow row;
    row.user_id = u.id;
    row.invited_by = p.id;
    row.note = note;
    row.state = "pending";
    row.created_at = now;
    TS_ASSIGN_OR_RETURN(row.id, tx.InsertReviewerInvitation(row));
    out = InvitationJson(row);
    return Audit(tx, p.id, "reviewer.invite", "reviewer_invitation", row.id,
                 nullptr, out, now);
  }));
  return out;
}

absl::StatusOr<json> Service::ListMyInvitations(const Principal& p) {
  json list = json::array();
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    list = json::array();
    TS_ASSIGN_OR_RETURN(auto rows, tx.ListReviewerInvitations(p.id));
    for (const auto& i : rows) list.push_back(InvitationJson(i));
    return absl::OkStatus();
  }));
  return json{{"invitations", std::move(list)}};
}

absl::StatusOr<json> Service::DecideInvitation(const Principal& p, int64_t id,
                                               bool accept) {
  const absl::Time now = clock_.Now();
  json out;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    auto inv = tx.GetReviewerInvitation(id);
    if (!inv.ok() && inv.status().code() != absl::StatusCode::kNotFound) {
      return inv.status();
    }
    // Someone else's invitation does not exist for the caller.
    if (!inv.ok() || inv->user_id != p.id) return NotFound("invitation");
    if (inv->state != "pending") {
      return FailedPrecondition(
          absl::StrCat("the invitation was already ", inv->state));
    }
    if (accept) {
      TS_ASSIGN_OR_RETURN(domain::User u, tx.GetUser(p.id));
      if (!u.HasRole(Role::kReviewer)) {
        std::vector<Role> before = u.roles;
        u.roles.push_back(Role::kReviewer);
        TS_RETURN_IF_ERROR(tx.UpdateUserRoles(u.id, u.roles));
        json b = json::array(), a = json::array();
        for (Role r : before) b.push_back(std::string(domain::ToString(r)));
        for (Role r : u.roles) a.push_back(std::string(domain::ToString(r)));
        TS_RETURN_IF_ERROR(Audit(tx, p.id, "user.roles", "user", u.id.value,
                                 {{"roles", b}}, {{"roles", a}}, now));
      }
    }
    inv->state = accept ? "accepted" : "declined";
    inv->decided_at = now;
    TS_RETURN_IF_ERROR(tx.DecideReviewerInvitation(*inv));
    out = InvitationJson(*inv);
    return Audit(
        tx, p.id,
        accept ? "reviewer.invitation_accept" : "reviewer.invitation_decline",
        "reviewer_invitation", inv->id, {{"state", "pending"}}, out, now);
  }));
  if (accept) ForgetCachedSessions(p.id);
  return out;
}

void Service::ForgetCachedSessions(UserId user) {
  absl::MutexLock lock(&auth_mu_);
  absl::erase_if(auth_cache_, [&](const auto& entry) {
    return entry.second.principal.id == user;
  });
}

}  // namespace tessera::service
