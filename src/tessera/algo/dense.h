// Shared vocabulary of the quality algorithms: labels as dense integer
// indices in flat vectors (items, workers and classes are 0..n-1).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace tessera::algo {

// Categorical answers: answer k says worker[k] gave item[k] class label[k].
struct CategoricalData {
  int32_t num_items = 0;
  int32_t num_workers = 0;
  int32_t num_classes = 0;
  std::vector<int32_t> item;
  std::vector<int32_t> worker;
  std::vector<int32_t> label;
  size_t size() const { return item.size(); }
};

// Maps external string ids (item names, worker pseudonyms, class names) to
// dense indices in order of first appearance. Each name is stored once: the
// map's keys view the names, which a deque keeps at stable addresses.
// Movable, not copyable. Not thread-safe.
class Interner {
 public:
  Interner() = default;
  Interner(Interner&&) = default;
  Interner& operator=(Interner&&) = default;
  Interner(const Interner&) = delete;
  Interner& operator=(const Interner&) = delete;

  int32_t Intern(absl::string_view key);
  // -1 when unknown.
  int32_t Find(absl::string_view key) const;
  const std::string& Name(int32_t id) const { return names_[id]; }
  int32_t size() const { return static_cast<int32_t>(names_.size()); }

 private:
  std::deque<std::string> names_;
  absl::flat_hash_map<absl::string_view, int32_t> ids_;
};

}  // namespace tessera::algo
