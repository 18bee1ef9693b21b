// Strong integer ids: a TaskId cannot be passed where a PoolId is expected.
#pragma once

#include <cstdint>
#include <functional>

namespace tessera {

template <typename Tag>
struct Id {
  int64_t value = 0;
  constexpr Id() = default;
  constexpr explicit Id(int64_t v) : value(v) {}
  constexpr bool valid() const { return value > 0; }
  friend constexpr bool operator==(Id a, Id b) { return a.value == b.value; }
  friend constexpr auto operator<=>(Id a, Id b) { return a.value <=> b.value; }
  template <typename H>
  friend H AbslHashValue(H h, Id id) {
    return H::combine(std::move(h), id.value);
  }
};

using UserId = Id<struct UserTag>;
using ProjectId = Id<struct ProjectTag>;
using PoolId = Id<struct PoolTag>;
using TaskId = Id<struct TaskTag>;
using ClaimId = Id<struct ClaimTag>;
using SubmissionId = Id<struct SubmissionTag>;
using AccountId = Id<struct AccountTag>;

}  // namespace tessera
