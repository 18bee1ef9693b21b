// Detector helpers shared by every implementation.
#include "tessera/preannotate/detector.h"

#include <algorithm>

namespace tessera::preannotate {

double IoU(const Detection& a, const Detection& b) {
  if (a.w <= 0 || a.h <= 0 || b.w <= 0 || b.h <= 0) return 0;
  double ix = std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x);
  double iy = std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y);
  if (ix <= 0 || iy <= 0) return 0;
  double inter = ix * iy;
  return inter / (a.w * a.h + b.w * b.h - inter);
}

}  // namespace tessera::preannotate
