// Tests of the crowd-label CSV readers: happy paths and every rejected input,
// with the file and line the error must name.
#include "tessera/algo/labels_csv.h"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::algo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(LabelsCsvTest, ParsesAnswersInAnyColumnOrder) {
  absl::StatusOr<CategoricalLabels> l = ParseCategoricalLabels(
      "worker,extra,label,item\r\nw1,x,10,a\r\nw2,y,2,a\r\n\r\nw1,z,2,\"b,"
      "c\"\r\n",
      "f.csv");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->data.num_items, 2);
  EXPECT_EQ(l->data.num_workers, 2);
  EXPECT_EQ(l->data.num_classes, 2);
  EXPECT_EQ(l->items.Name(1), "b,c");
  // Classes sorted numerically: "2" before "10".
  EXPECT_EQ(l->classes.Name(0), "2");
  EXPECT_EQ(l->classes.Name(1), "10");
  EXPECT_THAT(l->data.label, ElementsAre(1, 0, 0));
  EXPECT_THAT(l->data.item, ElementsAre(0, 0, 1));
  EXPECT_THAT(l->data.worker, ElementsAre(0, 1, 0));
}

TEST(LabelsCsvTest, NumericAndTextIdsStayDistinct) {
  absl::StatusOr<CategoricalLabels> l = ParseCategoricalLabels(
      "item,worker,label\n1,7,a\n01,7,a\n99999999999,7,a\n1,8,b\nx,7,a\n",
      "ids.csv");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->data.num_items, 4);  // "1", "01", "99999999999", "x"
  EXPECT_THAT(l->data.item, ElementsAre(0, 1, 2, 0, 3));
  EXPECT_EQ(l->items.Name(1), "01");
  EXPECT_EQ(l->items.Find("99999999999"), 2);
  EXPECT_THAT(l->data.worker, ElementsAre(0, 0, 0, 1, 0));
}

TEST(LabelsCsvTest, QuotedFieldsWithEscapes) {
  absl::StatusOr<CategoricalLabels> l = ParseCategoricalLabels(
      "item,worker,label\n\"say \"\"hi\"\"\",w,cat\n", "q.csv");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->items.Name(0), "say \"hi\"");
  EXPECT_EQ(l->classes.Name(0), "cat");
}

void ExpectError(absl::string_view content, absl::string_view needle) {
  absl::StatusOr<CategoricalLabels> l =
      ParseCategoricalLabels(content, "in.csv");
  ASSERT_FALSE(l.ok()) << content;
  EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(l.status().message(), HasSubstr(needle)) << l.status();
}

TEST(LabelsCsvTest, RejectsBadInputNamingFileAndLine) {
  ExpectError("", "in.csv:1: empty file");
  ExpectError("item,label\na,1\n", "in.csv:1: missing column(s) worker");
  ExpectError("item,worker,label\n", "in.csv:2: no data rows");
  ExpectError("item,worker,label\na,w,1\nb,w\n",
              "in.csv:3: ragged row: expected 3 fields, found 2");
  ExpectError("item,worker,label\na,w,1\n\nb,w,1,9\n", "in.csv:4: ragged row");
  ExpectError("item,worker,label\na,,1\n", "in.csv:2: empty worker");
  ExpectError("item,worker,label\n\"a,w,1\n",
              "in.csv:2: malformed quoted field");
  ExpectError(
      "item,worker,label\na,w,1\nb,w,0\na,w,0\n",
      "in.csv:4: worker 'w' labels item 'a' again with a different answer "
      "(first on line 2)");
}

TEST(LabelsCsvTest, IdenticalRepeatsAreDroppedOrKept) {
  const char* csv = "item,worker,label\na,w,1\na,v,0\na,w,1\n";
  absl::StatusOr<CategoricalLabels> l = ParseCategoricalLabels(csv, "r.csv");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->data.size(), 2u);
  EXPECT_EQ(l->duplicates_dropped, 1);
  LabelsCsvOptions keep;
  keep.repeats = RepeatPolicy::kKeepAll;
  l = ParseCategoricalLabels("item,worker,label\na,w,1\na,w,0\n", "r.csv",
                             keep);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->data.size(), 2u);
}

TEST(LabelsCsvTest, NumericLabelsAndTruth) {
  absl::StatusOr<NumericLabels> l = ParseNumericLabels(
      "item,worker,label\n1,w1,25\n1,w2,-80.5\n2,w1,+3e1\n", "n.csv");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_THAT(l->data.value, ElementsAre(25.0, -80.5, 30.0));
  absl::StatusOr<NumericLabels> bad =
      ParseNumericLabels("item,worker,label\n1,w1,25\n1,w2,high\n", "n.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("n.csv:3: label 'high' is not a finite number"));
  absl::StatusOr<std::vector<double>> t =
      ParseNumericTruth("item,label\n2,7\n9,1\n", "t.csv", l->items);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(std::isnan((*t)[0]));
  EXPECT_DOUBLE_EQ((*t)[1], 7.0);
  EXPECT_FALSE(ParseNumericTruth("item,label\n2,x\n", "t.csv", l->items).ok());
}

TEST(LabelsCsvTest, CategoricalTruthMapsItemsAndClasses) {
  absl::StatusOr<CategoricalLabels> l =
      ParseCategoricalLabels("item,worker,label\na,w,x\nb,w,y\n", "l.csv");
  ASSERT_TRUE(l.ok());
  absl::StatusOr<std::vector<int32_t>> t =
      ParseCategoricalTruth("item,label\nb,y\nzzz,x\na,never-answered\n",
                            "t.csv", l->items, l->classes);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(*t, ElementsAre(kUnansweredClass, 1));
  absl::StatusOr<std::vector<int32_t>> twice = ParseCategoricalTruth(
      "item,label\na,x\na,y\n", "t.csv", l->items, l->classes);
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.status().message(), HasSubstr("t.csv:3"));
  EXPECT_FALSE(
      ParseCategoricalTruth("item\na\n", "t.csv", l->items, l->classes).ok());
}

TEST(LabelsCsvTest, ReadsFilesAndReportsMissingOnes) {
  const std::string path = ::testing::TempDir() + "/labels_csv_test.csv";
  {
    std::ofstream f(path);
    f << "item,worker,label\na,w,1\n";
  }
  absl::StatusOr<CategoricalLabels> l = ReadCategoricalLabels(path);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->data.size(), 1u);
  std::remove(path.c_str());
  absl::StatusOr<CategoricalLabels> missing = ReadCategoricalLabels(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(path));
}

}  // namespace
}  // namespace tessera::algo
