// Money: integer minor units plus an ISO 4217 currency code. Never a double.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"

namespace tessera {

struct Money {
  int64_t amount_minor = 0;
  std::string currency = "CNY";

  friend bool operator==(const Money&, const Money&) = default;
};

// `{"amount_minor": int, "currency": "CNY"}`.
nlohmann::json MoneyToJson(const Money& m);
// Parses the JSON form; `field` names it in errors. Requires a non-negative
// amount when `allow_negative` is false and a 3-letter upper-case currency.
absl::StatusOr<Money> MoneyFromJson(const nlohmann::json& j,
                                    absl::string_view field,
                                    bool allow_negative = false);
// Checked addition: fails on currency mismatch or overflow.
absl::StatusOr<Money> Add(const Money& a, const Money& b);

}  // namespace tessera
