// Interner.
#include "tessera/algo/dense.h"

namespace tessera::algo {

int32_t Interner::Intern(absl::string_view key) {
  auto it = ids_.find(key);
  if (it != ids_.end()) return it->second;
  const int32_t id = static_cast<int32_t>(names_.size());
  const std::string& stored = names_.emplace_back(key);
  ids_.emplace(absl::string_view(stored), id);
  return id;
}

int32_t Interner::Find(absl::string_view key) const {
  auto it = ids_.find(key);
  return it == ids_.end() ? -1 : it->second;
}

}  // namespace tessera::algo
