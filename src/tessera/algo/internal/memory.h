// Memory advice for the engine's large arrays: transparent huge pages where
// scattered writes and reads over hundreds of MiB would otherwise pay a page
// fault per 4 KiB and miss the TLB.
#pragma once

#include <cstddef>
#include <vector>

namespace tessera::algo::internal {

// Asks the kernel (madvise MADV_HUGEPAGE) to back the 2 MiB-aligned part of
// [data, data + bytes) with huge pages; call it before the memory is first
// touched. Does nothing below 4 MiB or where the kernel declines (huge pages
// off, or another OS).
void AdviseHugePages(const void* data, size_t bytes);

// Resizes an empty vector to n value-initialised elements, advising huge
// pages before they are written (see AdviseHugePages).
template <typename T>
void ResizeHuge(std::vector<T>& v, size_t n) {
  v.reserve(n);
  AdviseHugePages(v.data(), n * sizeof(T));
  v.resize(n);
}

}  // namespace tessera::algo::internal
