// Tests of the crowd-label CSV readers: happy paths and every rejected input,
// with the file and line the error must name.
#include "tessera/algo/labels_csv.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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

// Numeric item ids are interned after the parse loop, until the first other
// name (here after several batches of rows): ids must still follow first
// appearance across the switch, as Interner::Intern row by row gives them.
TEST(LabelsCsvTest, ItemIdsFollowFirstAppearanceAcrossTheSwitchToText) {
  std::string csv = "item,worker,label\n";
  std::vector<std::string> items;
  for (int r = 0; r < 2000; ++r) {
    items.push_back(r == 1500 ? "text-id" : absl::StrCat((r * 7919) % 613));
    absl::StrAppend(&csv, items.back(), ",w", r, ",", r % 3, "\n");
  }
  absl::StatusOr<CategoricalLabels> l = ParseCategoricalLabels(csv, "s.csv");
  ASSERT_TRUE(l.ok()) << l.status();
  Interner expected;
  for (size_t r = 0; r < items.size(); ++r) {
    ASSERT_EQ(l->data.item[r], expected.Intern(items[r])) << r;
  }
  EXPECT_EQ(l->data.num_items, expected.size());
  for (int32_t j = 0; j < expected.size(); ++j) {
    EXPECT_EQ(l->items.Name(j), expected.Name(j));
  }
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

TEST(LabelsCsvTest, RepeatsAmongManyItemsKeepRowOrder) {
  // 300 items x 3 workers, rows interleaved; every 7th item gets one
  // identical repeat at the end of the file.
  std::string csv = "item,worker,label\n";
  for (int w = 0; w < 3; ++w) {
    for (int j = 0; j < 300; ++j) {
      absl::StrAppend(&csv, "i", j, ",w", w, ",", (j + w) % 3, "\n");
    }
  }
  int repeats = 0;
  for (int j = 0; j < 300; j += 7) {
    absl::StrAppend(&csv, "i", j, ",w1,", (j + 1) % 3, "\n");
    ++repeats;
  }
  absl::StatusOr<CategoricalLabels> l = ParseCategoricalLabels(csv, "m.csv");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->duplicates_dropped, repeats);
  ASSERT_EQ(l->data.size(), 900u);
  for (size_t k = 0; k < 900; ++k) {
    EXPECT_EQ(l->items.Name(l->data.item[k]), absl::StrCat("i", k % 300));
    EXPECT_EQ(l->workers.Name(l->data.worker[k]), absl::StrCat("w", k / 300));
  }
  // The same file with one repeat changed: a conflict, named by line.
  csv += "i5,w2,0\n";  // w2 gave i5 (5 + 2) % 3 = 1 on line 2 + 2 * 300 + 5
  absl::StatusOr<CategoricalLabels> bad = ParseCategoricalLabels(csv, "m.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr(absl::StrCat("m.csv:", 2 + 900 + repeats,
                                     ": worker 'w2' labels item 'i5' again "
                                     "with a different answer (first on line ",
                                     2 + 600 + 5, ")")));
}

TEST(LabelsCsvTest, ReadFileNamesConflictLinesAfterReleasingTheText) {
  const std::string path = ::testing::TempDir() + "/labels_csv_conflict.csv";
  {
    std::ofstream f(path);
    f << "item,worker,label\n1,7,a\n2,7,b\n\n1,8,a\n1,7,a\n1,7,b\n";
  }
  absl::StatusOr<CategoricalLabels> l = ReadCategoricalLabels(path);
  ASSERT_FALSE(l.ok());
  EXPECT_THAT(l.status().message(),
              HasSubstr(absl::StrCat(path,
                                     ":7: worker '7' labels item '1' again "
                                     "with a different answer (first on line "
                                     "2)")));
  absl::StatusOr<NumericLabels> n = ReadNumericLabels(path);
  ASSERT_FALSE(n.ok());  // "a" is not a number
  EXPECT_THAT(n.status().message(), HasSubstr(":2: label 'a'"));
  {
    std::ofstream f(path);
    f << "item,worker,label\n1,7,2.5\n1,7,2.5\n1,8,3\n1,8,4\n";
  }
  n = ReadNumericLabels(path);
  ASSERT_FALSE(n.ok());
  EXPECT_THAT(n.status().message(), HasSubstr(":5: worker '8' labels item "
                                              "'1' again with a different "
                                              "answer (first on line 4)"));
  std::remove(path.c_str());
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
  // Rows are checked in batches: the earlier row's error still comes first.
  absl::StatusOr<std::vector<int32_t>> first = ParseCategoricalTruth(
      "item,label\na,x\na,y\nb\n", "t.csv", l->items, l->classes);
  ASSERT_FALSE(first.ok());
  EXPECT_THAT(first.status().message(), HasSubstr("t.csv:3"));
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
