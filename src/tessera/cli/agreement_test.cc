// Tests of `tessera agreement` run in-process: values checked by hand and
// against Krippendorff's published example, and bad input (exit 2).
#include "tessera/cli/agreement.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace tessera::cli {
namespace {

using ::testing::HasSubstr;

class AgreementCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/tessera_agreement_test_XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    dir_ = t;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  int Run(const AgreementOptions& o) {
    out_.str("");
    err_.str("");
    return RunAgreement(o, out_, err_);
  }
  double Value() const {
    return nlohmann::json::parse(out_.str())["value"].get<double>();
  }

  std::string dir_;
  std::stringstream out_, err_;
};

// Two workers, four items; they disagree on i2 only.
//   alpha (nominal): coincidences o_aa=2, o_ab=o_ba=1, o_bb=4; n_a=3, n_b=5,
//     n=8: alpha = 1 - (n-1)(o_ab+o_ba) / (2 n_a n_b) = 1 - 14/30 = 8/15.
//   Cohen: P_o = 3/4, P_e = (2/4)(1/4) + (2/4)(3/4) = 1/2: kappa = 1/2.
//   Fleiss: mean P_i = 3/4, p = (3/8, 5/8), P_e = 34/64: kappa = 7/15.
//   Percent: 3/4.
constexpr char kTwoWorkers[] =
    "item,worker,label\n"
    "i1,A,a\ni1,B,a\n"
    "i2,A,a\ni2,B,b\n"
    "i3,A,b\ni3,B,b\n"
    "i4,A,b\ni4,B,b\n";

TEST_F(AgreementCommandTest, HandCheckedValues) {
  AgreementOptions o;
  o.labels_path = Write("labels.csv", kTwoWorkers);
  o.json = true;
  o.metric = "alpha";
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_NEAR(Value(), 8.0 / 15.0, 1e-12);
  const nlohmann::json j = nlohmann::json::parse(out_.str());
  EXPECT_EQ(j["metric"], "alpha");
  EXPECT_EQ(j["level"], "nominal");
  EXPECT_EQ(j["items"], 4);
  EXPECT_EQ(j["workers"], 2);
  EXPECT_EQ(j["labels"], 8);
  EXPECT_TRUE(j.contains("seconds"));
  EXPECT_TRUE(j.contains("parse_seconds"));
  o.metric = "cohen";
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_NEAR(Value(), 0.5, 1e-12);
  o.metric = "fleiss";
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_NEAR(Value(), 7.0 / 15.0, 1e-12);
  o.metric = "percent";
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_NEAR(Value(), 0.75, 1e-12);
  o.json = false;
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("percent agreement: 0.7500"));
}

// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example
// C: 4 observers x 12 units, values 1-5 with missing data. Published: nominal
// .743, ordinal .815, interval .849, ratio .797.
std::string KrippendorffExampleCsv() {
  const int table[4][12] = {
      {1, 2, 3, 3, 2, 1, 4, 1, 2, 0, 0, 0},
      {1, 2, 3, 3, 2, 2, 4, 1, 2, 5, 0, 3},
      {0, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 0},
      {1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, 0},
  };
  std::string csv = "item,worker,label\n";
  for (int c = 0; c < 4; ++c) {
    for (int u = 0; u < 12; ++u) {
      if (table[c][u] == 0) continue;
      csv += "u" + std::to_string(u + 1) + "," + std::string(1, 'A' + c) + "," +
             std::to_string(table[c][u]) + "\n";
    }
  }
  return csv;
}

TEST_F(AgreementCommandTest, KrippendorffPublishedExample) {
  AgreementOptions o;
  o.labels_path = Write("labels.csv", KrippendorffExampleCsv());
  o.metric = "alpha";
  o.json = true;
  const std::pair<const char*, double> expected[] = {{"", 0.743},
                                                     {"nominal", 0.743},
                                                     {"ordinal", 0.815},
                                                     {"interval", 0.849},
                                                     {"ratio", 0.797}};
  for (auto [level, value] : expected) {
    o.level = level;
    ASSERT_EQ(Run(o), 0) << level << ": " << err_.str();
    EXPECT_NEAR(Value(), value, 0.0005) << level;
  }
}

TEST_F(AgreementCommandTest, MeanPairwiseIouOfBoxes) {
  AgreementOptions o;
  // Two workers, identical box on img1; on img2 both drew nothing.
  o.labels_path = Write("boxes.csv",
                        "image,worker,x1,y1,x2,y2\n"
                        "img1,w1,0,0,10,10\nimg1,w2,0,0,10,10\n"
                        "img2,w1,,,,\nimg2,w2,,,,\n");
  o.metric = "iou";
  o.json = true;
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_NEAR(Value(), 1.0, 1e-12);
  EXPECT_EQ(nlohmann::json::parse(out_.str())["worker_pairs"], 2);
}

TEST_F(AgreementCommandTest, BadInputExitsTwo) {
  const std::string three =
      Write("three.csv", "item,worker,label\ni1,A,a\ni1,B,a\ni1,C,b\ni2,A,a\n");
  const std::string words =
      Write("words.csv", "item,worker,label\ni1,A,1\ni1,B,high\n");
  const std::string conflict =
      Write("conflict.csv", "item,worker,label\ni1,A,a\ni1,B,a\ni1,A,b\n");
  const std::string empty = Write("empty.csv", "");
  struct Case {
    const char* name;
    std::string path, metric, level, expect;
  };
  const Case cases[] = {
      {"cohen with three workers", three, "cohen", "",
       three + ": cohen's kappa needs exactly two workers, found 3"},
      {"interval needs numbers", words, "alpha", "interval",
       words + ":3: label 'high' is not a finite number"},
      {"conflicting repeat", conflict, "fleiss", "", conflict + ":4:"},
      {"empty file", empty, "alpha", "", empty + ":1: empty file"},
      {"missing file", dir_ + "/none.csv", "alpha", "",
       dir_ + "/none.csv: cannot open"},
      {"unknown metric", three, "kappa", "", "unknown --metric 'kappa'"},
      {"unknown level", three, "alpha", "nominal2", "unknown --level"},
      {"level without alpha", three, "fleiss", "interval",
       "--level applies only to --metric alpha"},
  };
  for (const Case& c : cases) {
    AgreementOptions o;
    o.labels_path = c.path;
    o.metric = c.metric;
    o.level = c.level;
    o.json = true;
    EXPECT_EQ(Run(o), 2) << c.name;
    EXPECT_THAT(err_.str(), HasSubstr(c.expect)) << c.name;
    EXPECT_EQ(out_.str(), "") << c.name;
  }
}

TEST_F(AgreementCommandTest, KeepRepeatsLetsFleissCountEveryRow) {
  AgreementOptions o;
  o.labels_path = Write("labels.csv",
                        "item,worker,label\ni1,A,a\ni1,B,a\ni1,A,b\n"
                        "i2,A,b\ni2,B,b\n");
  o.metric = "percent";
  o.json = true;
  ASSERT_EQ(Run(o), 2);
  o.keep_repeats = true;
  ASSERT_EQ(Run(o), 0) << err_.str();
  // i1: labels a,a,b -> 1 agreeing pair of 3; i2: 1 of 1. Mean 2/3.
  EXPECT_NEAR(Value(), 2.0 / 3.0, 1e-12);
}

}  // namespace
}  // namespace tessera::cli
