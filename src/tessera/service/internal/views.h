// JSON views of domain records that more than one file of the service
// returns.
#pragma once

#include <vector>

#include "nlohmann/json.hpp"
#include "tessera/domain/types.h"

namespace tessera::service::internal {

// A submission with its rounds, as the API returns it. `with_reviewers`
// adds each round's reviewer_id (the appeal views, where who rejected the
// work matters).
nlohmann::json SubmissionJson(const domain::Submission& s,
                              const std::vector<domain::Round>& rounds,
                              bool with_reviewers = false);

}  // namespace tessera::service::internal
