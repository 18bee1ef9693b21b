// Fixed, platform-independent 64-bit mixing for reproducible choices (seeded
// orders, draws, tie-breaks): the same inputs give the same outputs on every
// machine and in every release.
#pragma once

#include <cstdint>

namespace tessera {

// splitmix64's finaliser: every input bit moves about half the output bits.
constexpr uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

// splitmix64: the finaliser of `x` plus the golden-ratio increment (the
// generator's output for state `x`).
constexpr uint64_t SplitMix64(uint64_t x) {
  return Mix64(x + 0x9E3779B97F4A7C15ULL);
}

}  // namespace tessera
