// Interner.
#include "tessera/algo/dense.h"

namespace tessera::algo {

int32_t Interner::Intern(absl::string_view key) {
  auto [it, inserted] =
      ids_.try_emplace(std::string(key), static_cast<int32_t>(names_.size()));
  if (inserted) names_.emplace_back(key);
  return it->second;
}

int32_t Interner::Find(absl::string_view key) const {
  auto it = ids_.find(std::string(key));
  return it == ids_.end() ? -1 : it->second;
}

}  // namespace tessera::algo
