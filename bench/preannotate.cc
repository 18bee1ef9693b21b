// tessera-preannotate-bench: runs the HOG people detector over a YOLO-labelled
// image folder (coco128) and reports precision/recall/F1 at IoU >= 0.5, the
// box edits drafts save an annotator, and detector time per image.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "opencv2/imgcodecs.hpp"
#include "tessera/preannotate/evaluation.h"
#include "tessera/preannotate/hog_detector.h"

namespace fs = std::filesystem;
using tessera::preannotate::Detection;
using tessera::preannotate::EvalCounts;
using tessera::preannotate::EvalOptions;

namespace {

// Gold boxes of YOLO class `cls` in `path` ("class cx cy w h", normalised),
// in pixels of a `width`x`height` image. A missing file means no boxes.
std::vector<Detection> ReadYolo(const fs::path& path, int cls, int width,
                                int height) {
  std::vector<Detection> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    int c;
    double cx, cy, w, h;
    if (!(fields >> c >> cx >> cy >> w >> h) || c != cls) continue;
    out.push_back({"person", (cx - w / 2) * width, (cy - h / 2) * height,
                   w * width, h * height, 1.0});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"HOG people detector vs coco128 person boxes"};
  std::string images = "tests/data/coco128/images/train2017";
  std::string labels = "tests/data/coco128/labels/train2017";
  int cls = 0;
  tessera::preannotate::HogOptions hog;
  EvalOptions eval;
  bool only_with_people = false;
  std::vector<double> sweep;
  app.add_option("--images", images, "image folder");
  app.add_option("--labels", labels, "YOLO label folder");
  app.add_option("--class", cls, "YOLO class id of `person`");
  app.add_option("--upscale", hog.upscale, "upscale factor for small images");
  app.add_option("--upscale-below", hog.upscale_below,
                 "upscale when the longer side is below this");
  app.add_option("--scale-step", hog.scale_step, "pyramid step");
  app.add_option("--hit-threshold", hog.hit_threshold, "SVM margin");
  app.add_option("--group", hog.group_threshold, "OpenCV grouping threshold");
  app.add_option("--nms", hog.nms_iou, "NMS IoU");
  app.add_option("--min-score", hog.min_score, "minimum score");
  app.add_option("--tighten", hog.tighten, "shrink windows to the person");
  app.add_option("--accept-iou", eval.accept_iou,
                 "matched drafts below this IoU need a move");
  app.add_option("--match-iou", eval.match_iou,
                 "IoU a draft needs to match a gold box");
  bool list = false;
  app.add_flag("--list", list, "print each image's counts");
  app.add_flag("--only-with-people", only_with_people,
               "skip images without gold people");
  app.add_option("--sweep", sweep,
                 "also report these minimum scores (NMS keeps the same boxes "
                 "above a threshold, so one run serves all)");
  CLI11_PARSE(app, argc, argv);

  auto detector = tessera::preannotate::MakeHogDetector(hog);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(images)) {
    if (e.path().extension() == ".jpg") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());

  EvalCounts total;
  std::vector<EvalCounts> swept(sweep.size());
  int n = 0, n_people = 0;
  double seconds = 0;
  double cpu_seconds = 0;  // all threads (OpenCV parallelises HOG)
  for (const fs::path& file : files) {
    cv::Mat image = cv::imread(file.string(), cv::IMREAD_COLOR);
    if (image.empty()) {
      std::cerr << "cannot decode " << file << "\n";
      return 1;
    }
    std::vector<Detection> gold =
        ReadYolo(fs::path(labels) / (file.stem().string() + ".txt"), cls,
                 image.cols, image.rows);
    if (only_with_people && gold.empty()) continue;
    const std::clock_t cpu_start = std::clock();
    auto start = std::chrono::steady_clock::now();
    auto drafts = detector->Detect(image);
    seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    cpu_seconds +=
        static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    if (!drafts.ok()) {
      std::cerr << file << ": " << drafts.status() << "\n";
      return 1;
    }
    EvalCounts counts = tessera::preannotate::Evaluate(*drafts, gold, eval);
    if (list) {
      std::cout << absl::StrFormat("%s gold %d drafts %d TP %d\n",
                                   file.filename().string(), counts.gold,
                                   counts.drafts, counts.true_positives);
    }
    total += counts;
    for (size_t i = 0; i < sweep.size(); ++i) {
      std::vector<Detection> kept;
      for (const Detection& d : *drafts) {
        if (d.score >= sweep[i]) kept.push_back(d);
      }
      swept[i] += tessera::preannotate::Evaluate(kept, gold, eval);
    }
    ++n;
    if (!gold.empty()) ++n_people;
  }
  const int scratch = total.EditsFromScratch();
  const int with = total.EditsWithDrafts();
  std::cout << absl::StrFormat(
      "detector %s %s\n"
      "images %d (with people %d)  gold %d  drafts %d\n"
      "TP %d  FP %d  FN %d  precision %.3f  recall %.3f  F1 %.3f\n"
      "edits from scratch %d (%.2f/image)  with drafts %d (%.2f/image: "
      "deletes %d, moves %d, adds %d)  saved %d (%.2f/image)\n"
      "detector time %.1f ms/image wall, %.1f ms/image CPU (all threads)\n",
      detector->name(), detector->version(), n, n_people, total.gold,
      total.drafts, total.true_positives, total.false_positives, total.misses,
      tessera::preannotate::Precision(total),
      tessera::preannotate::Recall(total), tessera::preannotate::F1(total),
      scratch, static_cast<double>(scratch) / n, with,
      static_cast<double>(with) / n, total.false_positives, total.moves,
      total.misses, scratch - with, static_cast<double>(scratch - with) / n,
      1000 * seconds / n, 1000 * cpu_seconds / n);
  for (size_t i = 0; i < sweep.size(); ++i) {
    const EvalCounts& c = swept[i];
    std::cout << absl::StrFormat(
        "min-score %.3f: drafts %d TP %d P %.3f R %.3f F1 %.3f  edits/image "
        "%.2f (scratch %.2f) saved %d\n",
        sweep[i], c.drafts, c.true_positives,
        tessera::preannotate::Precision(c), tessera::preannotate::Recall(c),
        tessera::preannotate::F1(c),
        static_cast<double>(c.EditsWithDrafts()) / n,
        static_cast<double>(c.EditsFromScratch()) / n,
        c.EditsFromScratch() - c.EditsWithDrafts());
  }
  return 0;
}
