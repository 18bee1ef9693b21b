// Interner: names in a deque, a direct table for decimal names, and a
// compact open-addressing hash table (8 bytes per slot) for the rest.
#include "tessera/algo/dense.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstring>

#include "absl/hash/hash.h"
#include "tessera/algo/internal/grouping.h"
#include "tessera/base/mix.h"

namespace tessera::algo {
namespace {

// Value of a canonical decimal (no sign, no leading zero, at most 9 digits),
// else -1.
int64_t DecimalValue(absl::string_view key) {
  if (key.empty() || key.size() > 9 || (key[0] == '0' && key.size() > 1)) {
    return -1;
  }
  int64_t v = 0;
  for (char ch : key) {
    if (ch < '0' || ch > '9') return -1;
    v = v * 10 + (ch - '0');
  }
  return v;
}

uint32_t HashName(absl::string_view key) {
  if (key.size() <= 16) {
    uint64_t a = 0, b = 0;
    std::memcpy(&a, key.data(), std::min<size_t>(key.size(), 8));
    if (key.size() > 8) std::memcpy(&b, key.data() + 8, key.size() - 8);
    return static_cast<uint32_t>(SplitMix64(a ^ SplitMix64(b ^ key.size())));
  }
  return static_cast<uint32_t>(
      SplitMix64(absl::Hash<absl::string_view>{}(key)));
}

}  // namespace

void Interner::Reserve(int64_t n) {
  number_limit_ = std::max(number_limit_, 4 * n);
}

Interner::Probe Interner::MakeProbe(absl::string_view key) const {
  Probe p;
  p.number = DecimalValue(key);
  if (p.number < 0 || p.number >= NumberLimit()) {
    p.hash = HashName(key);
    p.hashed = true;
  }
  return p;
}

void Interner::Prefetch(const Probe& p) const {
  if (p.number >= 0 && static_cast<size_t>(p.number) < by_number_.size()) {
    __builtin_prefetch(&by_number_[p.number]);
  } else if (p.hashed && !slots_.empty()) {
    __builtin_prefetch(&slots_[p.hash & (slots_.size() - 1)]);
  }
}

int32_t Interner::FindHashed(absl::string_view key, uint32_t hash) const {
  if (hashed_ == 0) return -1;
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.id < 0) return -1;
    if (s.hash == hash && names_[s.id] == key) return s.id;
  }
}

void Interner::GrowSlots() {
  const size_t n = slots_.empty() ? 16 : slots_.size() * 2;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(n, Slot{});
  const size_t mask = n - 1;
  for (const Slot& s : old) {
    if (s.id < 0) continue;
    size_t i = s.hash & mask;
    while (slots_[i].id >= 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

int32_t Interner::InternWith(absl::string_view key, Probe p) {
  const int64_t limit = NumberLimit();
  if (p.number >= 0 && p.number < limit) {
    if (static_cast<size_t>(p.number) < by_number_.size() &&
        by_number_[p.number] >= 0) {
      return by_number_[p.number];
    }
    // Interned through the hash table while the direct table was smaller?
    int32_t id = hashed_ > 0 ? FindHashed(key, HashName(key)) : -1;
    if (id < 0) {
      id = size();
      names_.emplace_back(key.data(), key.size());
    }
    if (static_cast<size_t>(p.number) >= by_number_.size()) {
      const int64_t grown = std::max<int64_t>(
          p.number + 1, 2 * static_cast<int64_t>(by_number_.size()));
      by_number_.resize(std::min(limit, grown), -1);
    }
    by_number_[p.number] = id;
    return id;
  }
  if (!p.hashed) p.hash = HashName(key);
  if (const int32_t id = FindHashed(key, p.hash); id >= 0) return id;
  if (2 * (static_cast<size_t>(hashed_) + 1) > slots_.size()) GrowSlots();
  const int32_t id = size();
  names_.emplace_back(key.data(), key.size());
  const size_t mask = slots_.size() - 1;
  size_t i = p.hash & mask;
  while (slots_[i].id >= 0) i = (i + 1) & mask;
  slots_[i] = Slot{p.hash, id};
  ++hashed_;
  return id;
}

int32_t Interner::Intern(absl::string_view key) {
  return InternWith(key, MakeProbe(key));
}

void Interner::InternAll(const absl::string_view* keys, size_t count,
                         int32_t* ids) {
  constexpr size_t kBatch = 32;
  Probe probes[kBatch];
  for (size_t start = 0; start < count; start += kBatch) {
    const size_t n = std::min(kBatch, count - start);
    for (size_t i = 0; i < n; ++i) {
      probes[i] = MakeProbe(keys[start + i]);
      Prefetch(probes[i]);
    }
    for (size_t i = 0; i < n; ++i) {
      ids[start + i] = InternWith(keys[start + i], probes[i]);
    }
  }
}

size_t Interner::DirectNumbers(const absl::string_view* keys, size_t count,
                               int32_t* values) const {
  const int64_t limit =
      std::min<int64_t>(NumberLimit(), int64_t{INT32_MAX} + 1);
  for (size_t i = 0; i < count; ++i) {
    const int64_t n = DecimalValue(keys[i]);
    if (n < 0 || n >= limit) return i;
    values[i] = static_cast<int32_t>(n);
  }
  return count;
}

int32_t Interner::AddNumber(int64_t number) {
  char buf[16];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, number);
  const absl::string_view name(buf, static_cast<size_t>(end - buf));
  // Interned through the hash table while the direct table was smaller?
  if (hashed_ > 0) {
    if (const int32_t id = FindHashed(name, HashName(name)); id >= 0) {
      return id;
    }
  }
  names_.emplace_back(name);
  return size() - 1;
}

void Interner::InternNumbers(int32_t* values, size_t count) {
  if (count == 0) return;
  int32_t largest = 0;
  for (size_t i = 0; i < count; ++i) largest = std::max(largest, values[i]);
  if (static_cast<size_t>(largest) >= by_number_.size()) {
    by_number_.resize(static_cast<size_t>(largest) + 1, -1);
  }
  constexpr size_t kAhead = 16;
  for (size_t i = 0; i < count; ++i) {
    if (i + kAhead < count) __builtin_prefetch(&by_number_[values[i + kAhead]]);
    int32_t& id = by_number_[values[i]];
    if (id < 0) id = AddNumber(values[i]);
    values[i] = id;
  }
}

int32_t Interner::Find(absl::string_view key) const {
  const int64_t n = DecimalValue(key);
  if (n >= 0 && static_cast<size_t>(n) < by_number_.size() &&
      by_number_[n] >= 0) {
    return by_number_[n];
  }
  return FindHashed(key, HashName(key));
}

}  // namespace tessera::algo
