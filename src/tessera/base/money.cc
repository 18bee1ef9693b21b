// Money parsing and arithmetic.
#include "tessera/base/money.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"

namespace tessera {

nlohmann::json MoneyToJson(const Money& m) {
  return {{"amount_minor", m.amount_minor}, {"currency", m.currency}};
}

absl::StatusOr<Money> MoneyFromJson(const nlohmann::json& j,
                                    absl::string_view field,
                                    bool allow_negative) {
  if (!j.is_object()) {
    return InvalidField(field, "must be an object {amount_minor, currency}");
  }
  auto amount = j.find("amount_minor");
  if (amount == j.end() || !amount->is_number_integer()) {
    return InvalidField(absl::StrCat(field, ".amount_minor"),
                        "must be an integer (minor units)");
  }
  Money m;
  m.amount_minor = amount->get<int64_t>();
  if (!allow_negative && m.amount_minor < 0) {
    return InvalidField(absl::StrCat(field, ".amount_minor"),
                        "must not be negative");
  }
  auto currency = j.find("currency");
  if (currency != j.end()) {
    if (!currency->is_string()) {
      return InvalidField(absl::StrCat(field, ".currency"), "must be a string");
    }
    m.currency = currency->get<std::string>();
    bool ok = m.currency.size() == 3;
    for (char c : m.currency) ok = ok && c >= 'A' && c <= 'Z';
    if (!ok) {
      return InvalidField(absl::StrCat(field, ".currency"),
                          "must be a 3-letter ISO 4217 code such as CNY");
    }
  }
  return m;
}

absl::StatusOr<Money> Add(const Money& a, const Money& b) {
  if (a.currency != b.currency) {
    return absl::InvalidArgumentError(
        absl::StrCat("currency mismatch: ", a.currency, " vs ", b.currency));
  }
  int64_t sum;
  if (__builtin_add_overflow(a.amount_minor, b.amount_minor, &sum)) {
    return absl::OutOfRangeError("money overflow");
  }
  return Money{sum, a.currency};
}

}  // namespace tessera
