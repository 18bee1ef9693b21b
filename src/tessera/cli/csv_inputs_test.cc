// Tests of the pairwise and box CSV readers: what they produce, and that every
// kind of bad input is an InvalidArgument naming FILE:LINE.
#include "tessera/cli/csv_inputs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::cli {
namespace {

using ::testing::HasSubstr;

TEST(PairwiseCsvTest, ParsesItemsWorkersAndOutcomes) {
  absl::StatusOr<PairwiseLabels> p = ParsePairwiseLabels(
      "winner,worker,left,right,note\n"
      "left,w1,a,b,x\r\n"
      "\n"
      "right,w2,b,c,\"quoted, note\"\n"
      "tie,w1,c,a,\n",
      "p.csv");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->data.num_items, 3);
  EXPECT_EQ(p->data.num_workers, 2);
  ASSERT_EQ(p->data.size(), 3u);
  EXPECT_EQ(p->items.Name(p->data.left[1]), "b");
  EXPECT_EQ(p->items.Name(p->data.right[1]), "c");
  EXPECT_EQ(p->workers.Name(p->data.worker[1]), "w2");
  EXPECT_EQ(p->data.outcome[0], algo::PairOutcome::kLeft);
  EXPECT_EQ(p->data.outcome[1], algo::PairOutcome::kRight);
  EXPECT_EQ(p->data.outcome[2], algo::PairOutcome::kTie);
}

TEST(PairwiseCsvTest, RepeatsSameAnswerDroppedReversedPairRecognised) {
  // b,a,right is the same answer as a,b,left.
  absl::StatusOr<PairwiseLabels> p = ParsePairwiseLabels(
      "worker,left,right,winner\nw1,a,b,left\nw1,b,a,right\nw2,a,b,right\n",
      "p.csv");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->data.size(), 2u);
  EXPECT_EQ(p->duplicates_dropped, 1);
}

TEST(PairwiseCsvTest, ConflictingRepeatIsAnErrorUnlessKeptAll) {
  const std::string csv =
      "worker,left,right,winner\nw1,a,b,left\nw2,a,b,left\nw1,b,a,left\n";
  absl::StatusOr<PairwiseLabels> p = ParsePairwiseLabels(csv, "p.csv");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("p.csv:4:"));
  EXPECT_THAT(p.status().message(), HasSubstr("first on line 2"));
  absl::StatusOr<PairwiseLabels> kept =
      ParsePairwiseLabels(csv, "p.csv", algo::RepeatPolicy::kKeepAll);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->data.size(), 3u);
}

struct BadCase {
  const char* name;
  const char* csv;
  const char* where;  // expected "FILE:LINE:"
  const char* what;
};

TEST(PairwiseCsvTest, BadInputNamesFileAndLine) {
  const BadCase cases[] = {
      {"empty", "", "p.csv:1:", "empty file"},
      {"header only", "worker,left,right,winner\n", "p.csv:2:", "no data"},
      {"missing column", "worker,left,winner\nw,a,left\n",
       "p.csv:1:", "missing column(s) right"},
      {"ragged", "worker,left,right,winner\nw,a,b,left\nw,a,b\n",
       "p.csv:3:", "ragged row"},
      {"bad winner", "worker,left,right,winner\nw,a,b,both\n",
       "p.csv:2:", "'both' is not left, right or tie"},
      {"self", "worker,left,right,winner\nw,a,a,left\n",
       "p.csv:2:", "compared with itself"},
      {"empty worker", "worker,left,right,winner\n,a,b,left\n",
       "p.csv:2:", "empty worker"},
      {"bad quote", "worker,left,right,winner\nw,\"a,b,left\n",
       "p.csv:2:", "malformed quoted field"},
  };
  for (const BadCase& c : cases) {
    absl::StatusOr<PairwiseLabels> p = ParsePairwiseLabels(c.csv, "p.csv");
    ASSERT_FALSE(p.ok()) << c.name;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(p.status().message(), HasSubstr(c.where)) << c.name;
    EXPECT_THAT(p.status().message(), HasSubstr(c.what)) << c.name;
  }
}

TEST(BoxCsvTest, ParsesBoxesViewsAndOptionalLabel) {
  absl::StatusOr<BoxLabels> b = ParseBoxLabels(
      "image,worker,x1,y1,x2,y2\n"
      "i1,w1,1,2,11,12.5\n"
      "i1,w2,,,,\n"
      "i2,w1,+3,-4,5e1,60\n",
      "b.csv");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_FALSE(b->has_label_column);
  EXPECT_EQ(b->rows, 3);
  EXPECT_EQ(b->data.num_images, 2);
  EXPECT_EQ(b->data.num_workers, 2);
  EXPECT_EQ(b->data.num_labels, 1);
  ASSERT_EQ(b->data.size(), 2u);
  EXPECT_EQ(b->data.box[0].y2, 12.5);
  EXPECT_EQ(b->data.box[1].x1, 3);
  EXPECT_EQ(b->data.box[1].y1, -4);
  EXPECT_EQ(b->data.box[1].x2, 50);
  ASSERT_EQ(b->data.view_image.size(), 1u);
  EXPECT_EQ(b->workers.Name(b->data.view_worker[0]), "w2");

  absl::StatusOr<BoxLabels> l = ParseBoxLabels(
      "image,worker,label,x1,y1,x2,y2\n"
      "i1,w1,car,1,2,3,4\n"
      "i1,w1,person,1,2,3,4\n"
      "i2,w1,,,,,\n",
      "b.csv");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_TRUE(l->has_label_column);
  EXPECT_EQ(l->data.num_labels, 2);
  EXPECT_EQ(l->labels.Name(l->data.label[1]), "person");
  EXPECT_EQ(l->data.view_image.size(), 1u);
}

TEST(BoxCsvTest, BadInputNamesFileAndLine) {
  const BadCase cases[] = {
      {"empty", "", "b.csv:1:", "empty file"},
      {"header only", "image,worker,x1,y1,x2,y2\n", "b.csv:2:", "no data"},
      {"missing", "image,worker,x1,y1,x2\ni,w,1,2,3\n",
       "b.csv:1:", "missing column(s) y2"},
      {"ragged", "image,worker,x1,y1,x2,y2\ni,w,1,2,3,4,5\n",
       "b.csv:2:", "ragged row"},
      {"not a number", "image,worker,x1,y1,x2,y2\ni,w,1,2,abc,4\n",
       "b.csv:2:", "x2 'abc' is not a finite number"},
      {"infinite", "image,worker,x1,y1,x2,y2\ni,w,1,2,inf,4\n",
       "b.csv:2:", "not a finite number"},
      {"partial", "image,worker,x1,y1,x2,y2\n\ni,w,1,,3,4\n",
       "b.csv:3:", "some coordinates are empty"},
      {"empty label", "image,worker,label,x1,y1,x2,y2\ni,w,,1,2,3,4\n",
       "b.csv:2:", "empty label"},
      {"empty image", "image,worker,x1,y1,x2,y2\n,w,1,2,3,4\n",
       "b.csv:2:", "empty image"},
  };
  for (const BadCase& c : cases) {
    absl::StatusOr<BoxLabels> b = ParseBoxLabels(c.csv, "b.csv");
    ASSERT_FALSE(b.ok()) << c.name;
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(b.status().message(), HasSubstr(c.where)) << c.name;
    EXPECT_THAT(b.status().message(), HasSubstr(c.what)) << c.name;
  }
}

TEST(BoxCsvTest, TruthSharesImageAndLabelIndices) {
  absl::StatusOr<BoxLabels> crowd = ParseBoxLabels(
      "image,worker,label,x1,y1,x2,y2\ni1,w1,car,1,2,3,4\n", "b.csv");
  ASSERT_TRUE(crowd.ok()) << crowd.status();
  absl::StatusOr<BoxTruth> t = ParseBoxTruth(
      "image,label,x1,y1,x2,y2\n"
      "i3,,,,,\n"
      "i1,car,1,2,3,4\n"
      "i2,bus,5,6,7,8\n",
      "t.csv", *crowd);
  ASSERT_TRUE(t.ok()) << t.status();
  // i1 keeps index 0; i3 and i2 are added after it.
  EXPECT_EQ(crowd->images.Find("i1"), 0);
  ASSERT_EQ(t->boxes.size(), 2u);
  EXPECT_EQ(t->boxes.image[0], 0);
  EXPECT_EQ(t->boxes.label[0], crowd->labels.Find("car"));
  EXPECT_EQ(t->boxes.label[1], crowd->labels.Find("bus"));
  EXPECT_EQ(t->images, (std::vector<int32_t>{0, 1, 2}));
}

TEST(BoxCsvTest, TruthLabelColumnMustMatchCrowd) {
  absl::StatusOr<BoxLabels> crowd =
      ParseBoxLabels("image,worker,x1,y1,x2,y2\ni1,w1,1,2,3,4\n", "b.csv");
  ASSERT_TRUE(crowd.ok());
  absl::StatusOr<BoxTruth> t = ParseBoxTruth(
      "image,label,x1,y1,x2,y2\ni1,car,1,2,3,4\n", "t.csv", *crowd);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("t.csv:1:"));
  absl::StatusOr<BoxTruth> bad =
      ParseBoxTruth("image,x1,y1,x2,y2\ni1,1,2,x,4\n", "t.csv", *crowd);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("t.csv:2:"));
}

TEST(CsvInputsTest, MissingFileIsNotFoundAndBadInput) {
  absl::StatusOr<BoxLabels> b = ReadBoxLabels("/nonexistent/boxes.csv");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(b.status().message(), HasSubstr("/nonexistent/boxes.csv"));
  EXPECT_EQ(ExitCodeFor(b.status()), kExitBadInput);
  EXPECT_EQ(ExitCodeFor(absl::InternalError("x")), kExitFailure);
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), kExitOk);
}

TEST(CsvInputsTest, AppendCsvFieldQuotesOnlyWhenNeeded) {
  std::string out;
  AppendCsvField(out, "plain");
  out.push_back('|');
  AppendCsvField(out, "a,\"b\"");
  EXPECT_EQ(out, "plain|\"a,\"\"b\"\"\"");
}

TEST(CsvInputsTest, WriteFileAtomicallyReplacesAndLeavesNoTemporary) {
  char dir_template[] = "/tmp/tessera_csv_inputs_XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string path = dir + "/out.csv";
  ASSERT_TRUE(WriteFileAtomically(path, "one\n").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two\n").ok());
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "two\n");
  // Nothing else in the directory.
  EXPECT_EQ(std::system(("test \"$(ls -A " + dir + ")\" = out.csv").c_str()),
            0);
  // A directory that does not exist: an error, not bad input, nothing made.
  absl::Status s = WriteFileAtomically(dir + "/missing/out.csv", "x");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(ExitCodeFor(s), kExitFailure);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace tessera::cli
