// Shared vocabulary of the quality algorithms: labels as dense integer
// indices in flat vectors (items, workers and classes are 0..n-1).
#pragma once

#include <algorithm>
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
// dense indices in order of first appearance. Each name is stored once.
// Names that are canonical decimal numbers (0, 17, not 017 or +17) are found
// through a direct table instead of hashing, so files with numeric ids cost
// about 4 bytes per name beyond the names themselves. Movable, not copyable.
// Not thread-safe.
class Interner {
 public:
  Interner() = default;
  Interner(Interner&&) = default;
  Interner& operator=(Interner&&) = default;
  Interner(const Interner&) = delete;
  Interner& operator=(const Interner&) = delete;

  int32_t Intern(absl::string_view key);
  // Interns keys[i] into ids[i] for i < count, exactly as calling Intern on
  // each in order would, but with the table lookups of a batch overlapped
  // (much faster when the tables outgrow the caches and ids come in random
  // order, e.g. item ids of a shuffled file).
  void InternAll(const absl::string_view* keys, size_t count, int32_t* ids);
  // For readers that defer interning: stores in values[i] the value of
  // keys[i] while it is a canonical decimal name below the direct table's
  // limit (so at most INT32_MAX), and returns how many leading keys were.
  // A value admitted once stays admitted. Interns nothing.
  size_t DirectNumbers(const absl::string_view* keys, size_t count,
                       int32_t* values) const;
  // Interns the decimal names of values[i] for i < count in order and
  // replaces each value by its id, exactly as calling Intern on each name
  // would. Each value must have come from DirectNumbers. One tight loop
  // over the direct table with the lookups prefetched ahead: on tables
  // beyond the caches much faster than interning inside a parse loop.
  void InternNumbers(int32_t* values, size_t count);
  // -1 when unknown.
  int32_t Find(absl::string_view key) const;
  const std::string& Name(int32_t id) const { return names_[id]; }
  int32_t size() const { return static_cast<int32_t>(names_.size()); }
  // Hint: about `n` names are coming. Lets decimal names below about 4n use
  // the direct table (it grows with size() otherwise); allocates nothing.
  void Reserve(int64_t n);

 private:
  // One hash slot: id of the name (-1 = empty) and the low 32 bits of its
  // hash (the slot index is derived from them, so growing never rehashes).
  struct Slot {
    uint32_t hash = 0;
    int32_t id = -1;
  };
  // Where a key lives: its decimal value (or -1) and, if not a direct-table
  // number, its hash.
  struct Probe {
    int64_t number = -1;
    uint32_t hash = 0;
    bool hashed = false;
  };
  int64_t NumberLimit() const {
    return std::max(number_limit_, 4 * static_cast<int64_t>(names_.size()));
  }
  Probe MakeProbe(absl::string_view key) const;
  void Prefetch(const Probe& p) const;
  int32_t FindHashed(absl::string_view key, uint32_t hash) const;
  int32_t InternWith(absl::string_view key, Probe p);
  // The id of the decimal name of `number`, which by_number_ lacks: found
  // in the hash table or appended (by_number_ is left to the caller).
  int32_t AddNumber(int64_t number);
  void GrowSlots();

  std::deque<std::string> names_;
  std::vector<int32_t> by_number_;  // decimal name -> id, -1 = not there
  std::vector<Slot> slots_;         // open addressing, power-of-two size
  int32_t hashed_ = 0;              // names in slots_
  int64_t number_limit_ = 1 << 16;  // by_number_ never grows beyond this
};

}  // namespace tessera::algo
