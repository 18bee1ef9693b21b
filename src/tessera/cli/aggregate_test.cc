// Tests of `tessera aggregate` run in-process on small hand-checkable files:
// results, --out files, JSON keys, and bad input (exit 2, FILE:LINE, no
// output).
#include "tessera/cli/aggregate.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tessera/cli/csv_inputs.h"

namespace tessera::cli {
namespace {

using ::testing::HasSubstr;

class AggregateCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/tessera_aggregate_test_XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    dir_ = t;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static bool Exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }
  // Names in the directory, one per line, sorted.
  std::string Listing() const {
    std::string cmd = "ls -A '" + dir_ + "'";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[256];
    while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
    ::pclose(p);
    return out;
  }

  int Run(const AggregateOptions& o) {
    out_.str("");
    err_.str("");
    return RunAggregate(o, out_, err_);
  }
  nlohmann::json Json() const { return nlohmann::json::parse(out_.str()); }

  std::string dir_;
  std::stringstream out_, err_;
};

// Three items, three workers; w3 disagrees on i2 and i3.
constexpr char kLabels[] =
    "item,worker,label\n"
    "i1,w1,cat\ni1,w2,cat\ni1,w3,cat\n"
    "i2,w1,dog\ni2,w2,dog\ni2,w3,cat\n"
    "i3,w1,cat\ni3,w2,cat\ni3,w3,dog\n";

TEST_F(AggregateCommandTest, MajorityVoteOutAndJson) {
  AggregateOptions o;
  o.labels_path = Write("labels.csv", kLabels);
  o.truth_path = Write("truth.csv", "item,label\ni1,cat\ni2,cat\ni9,dog\n");
  o.method = "mv";
  o.out_path = dir_ + "/result.csv";
  o.json = true;
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_EQ(err_.str(), "");
  EXPECT_EQ(Read(o.out_path),
            "item,label,confidence\n"
            "i1,cat,1\n"
            "i2,dog,0.666667\n"
            "i3,cat,0.666667\n");
  const nlohmann::json j = Json();
  EXPECT_EQ(j["kind"], "categorical");
  EXPECT_EQ(j["method"], "mv");
  EXPECT_EQ(j["items"], 3);
  EXPECT_EQ(j["workers"], 3);
  EXPECT_EQ(j["labels"], 9);
  // i9 has no answers and is not evaluated: 1 of 2.
  EXPECT_EQ(j["evaluated"], 2);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 0.5);
  EXPECT_EQ(j["iterations"], 0);
  EXPECT_GE(j["seconds"].get<double>(), 0.0);
  EXPECT_GE(j["parse_seconds"].get<double>(), 0.0);
  EXPECT_EQ(Listing(), "labels.csv\nresult.csv\ntruth.csv\n");
}

TEST_F(AggregateCommandTest, DefaultMethodIsBestAndSummaryWithoutJson) {
  AggregateOptions o;
  o.labels_path = Write("labels.csv", kLabels);
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("3 items, 3 workers, 9 labels, 2 classes"));
  EXPECT_THAT(out_.str(), HasSubstr("method best"));
  EXPECT_THAT(out_.str(), ::testing::Not(HasSubstr("accuracy")));
  o.json = true;
  o.method = "best";
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_EQ(Json()["method"], "best");
  EXPECT_FALSE(Json().contains("accuracy"));
  EXPECT_GE(Json()["iterations"].get<int>(), 1);
}

TEST_F(AggregateCommandTest, EveryCategoricalMethodRuns) {
  AggregateOptions o;
  o.labels_path = Write("labels.csv", kLabels);
  o.truth_path = Write("truth.csv", "item,label\ni1,cat\n");
  o.json = true;
  o.threads = 2;
  for (const char* m : {"mv", "wawa", "ds", "ocds", "glad", "mace", "best"}) {
    o.method = m;
    ASSERT_EQ(Run(o), 0) << m << ": " << err_.str();
    EXPECT_EQ(Json()["method"], m);
    EXPECT_DOUBLE_EQ(Json()["accuracy"].get<double>(), 1.0) << m;
  }
}

TEST_F(AggregateCommandTest, QuotedNamesAreQuotedInOut) {
  AggregateOptions o;
  o.labels_path =
      Write("labels.csv", "item,worker,label\n\"a,b\",w1,x\n\"a,b\",w2,x\n");
  o.out_path = dir_ + "/out.csv";
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_EQ(Read(o.out_path), "item,label,confidence\n\"a,b\",x,1\n");
  EXPECT_THAT(out_.str(), HasSubstr("wrote 1 rows to " + o.out_path));
}

TEST_F(AggregateCommandTest, NumericMeanMedianBiasAndErrors) {
  AggregateOptions o;
  o.kind = "numeric";
  o.labels_path = Write("labels.csv",
                        "item,worker,label\n"
                        "a,w1,1\na,w2,2\na,w3,6\n"
                        "b,w1,10\nb,w2,12\n");
  o.truth_path = Write("truth.csv", "item,label\na,2\nb,10\n");
  o.out_path = dir_ + "/out.csv";
  o.json = true;
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_EQ(Json()["method"], "mean");
  EXPECT_EQ(Read(o.out_path), "item,value\na,3\nb,11\n");
  // Errors 1 and 1.
  EXPECT_DOUBLE_EQ(Json()["mae"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(Json()["rmse"].get<double>(), 1.0);
  EXPECT_EQ(Json()["evaluated"], 2);
  o.method = "median";
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_EQ(Read(o.out_path), "item,value\na,2\nb,11\n");
  EXPECT_DOUBLE_EQ(Json()["mae"].get<double>(), 0.5);
  o.method = "bias";
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_EQ(Json()["method"], "bias");
}

TEST_F(AggregateCommandTest, PairwiseRanksConsistentWinners) {
  AggregateOptions o;
  o.kind = "pairwise";
  o.labels_path = Write("pairs.csv",
                        "worker,left,right,winner\n"
                        "w1,a,b,left\nw2,b,a,right\nw1,b,c,left\n"
                        "w2,c,b,right\nw1,a,c,left\nw3,c,a,right\n"
                        "w3,b,c,tie\n");
  o.out_path = dir_ + "/out.csv";
  o.json = true;
  for (const char* m : {"crowdbt", "bt"}) {
    o.method = m;
    ASSERT_EQ(Run(o), 0) << err_.str();
    EXPECT_EQ(Json()["method"], m);
    EXPECT_EQ(Json()["items"], 3);
    EXPECT_EQ(Json()["labels"], 7);
    const std::string csv = Read(o.out_path);
    EXPECT_THAT(csv, ::testing::StartsWith("item,score,rank\na,"));
    EXPECT_THAT(csv, HasSubstr(",1\nb,"));
    EXPECT_THAT(csv, HasSubstr(",2\nc,"));
    EXPECT_THAT(csv, ::testing::EndsWith(",3\n"));
  }
  o.method = "";
  o.json = false;
  o.out_path = "";
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("method crowdbt"));
  EXPECT_THAT(out_.str(), HasSubstr("top 3: a ("));
}

// Three annotators on two images; on img1 all three draw nearly the same
// box, w3 adds a stray one; on img2 nobody draws anything.
constexpr char kBoxes[] =
    "image,worker,x1,y1,x2,y2\n"
    "img1,w1,10,10,50,50\n"
    "img1,w2,11,10,50,51\n"
    "img1,w3,10,11,49,50\n"
    "img1,w3,200,200,220,220\n"
    "img2,w1,,,,\nimg2,w2,,,,\nimg2,w3,,,,\n";

TEST_F(AggregateCommandTest, BoxesMergeEvaluateAndOut) {
  AggregateOptions o;
  o.kind = "boxes";
  o.labels_path = Write("boxes.csv", kBoxes);
  o.truth_path =
      Write("truth.csv", "image,x1,y1,x2,y2\nimg1,10,10,50,50\nimg2,,,,\n");
  o.out_path = dir_ + "/out.csv";
  o.json = true;
  for (const char* m : {"weighted", "unweighted"}) {
    o.method = m;
    ASSERT_EQ(Run(o), 0) << err_.str();
    const nlohmann::json j = Json();
    EXPECT_EQ(j["method"], m);
    EXPECT_EQ(j["images"], 2);
    EXPECT_EQ(j["workers"], 3);
    EXPECT_EQ(j["boxes"], 4);
    EXPECT_EQ(j["merged_boxes"], 1);
    EXPECT_EQ(j["evaluated_images"], 2);
    EXPECT_DOUBLE_EQ(j["precision"].get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(j["recall"].get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(j["f1"].get<double>(), 1.0);
    EXPECT_GT(j["mean_iou"].get<double>(), 0.95);
    const std::string csv = Read(o.out_path);
    EXPECT_THAT(csv, ::testing::StartsWith(
                         "image,label,x1,y1,x2,y2,confidence\nimg1,,10,"));
    EXPECT_THAT(csv, ::testing::EndsWith("\nimg2,,,,,,\n"));
  }
  o.method = "single";
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_EQ(Json()["method"], "single");
  EXPECT_EQ(Json()["evaluated_images"], 2);
}

TEST_F(AggregateCommandTest, BoxesEvaluateOnlyTruthImages) {
  AggregateOptions o;
  o.kind = "boxes";
  o.labels_path = Write("boxes.csv", kBoxes);
  // img1 is not in the truth: its boxes are not false positives.
  o.truth_path = Write("truth.csv", "image,x1,y1,x2,y2\nimg2,,,,\n");
  o.json = true;
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_EQ(Json()["evaluated_images"], 1);
  EXPECT_EQ(Json()["false_positives"], 0);
  EXPECT_DOUBLE_EQ(Json()["f1"].get<double>(), 1.0);
}

TEST_F(AggregateCommandTest, KeepRepeatsAcceptsConflictingAnswers) {
  AggregateOptions o;
  o.labels_path =
      Write("labels.csv", "item,worker,label\ni1,w1,a\ni1,w2,a\ni1,w1,b\n");
  o.json = true;
  ASSERT_EQ(Run(o), 2);
  EXPECT_THAT(err_.str(), HasSubstr(o.labels_path + ":4:"));
  o.keep_repeats = true;
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_EQ(Json()["labels"], 3);
}

struct BadInput {
  const char* name;
  std::string kind;
  std::string method;
  const char* labels;  // nullptr: the file does not exist
  const char* truth;   // nullptr: no --truth
  const char* expect;  // in stderr; "LABELS" / "TRUTH" stand for the paths
};

TEST_F(AggregateCommandTest, BadInputExitsTwoNamesFileAndLineWritesNothing) {
  const BadInput cases[] = {
      {"empty file", "", "", "", nullptr, "LABELS:1: empty file"},
      {"missing column", "", "", "item,label\na,b\n", nullptr,
       "LABELS:1: missing column(s) worker"},
      {"ragged row", "", "", "item,worker,label\na,w,x\nb,w\n", nullptr,
       "LABELS:3: ragged row"},
      {"conflicting repeat", "", "", "item,worker,label\na,w,x\nb,w,x\na,w,y\n",
       nullptr, "LABELS:4: worker 'w' labels item 'a' again"},
      {"non-numeric", "numeric", "", "item,worker,label\na,w,1\nb,w,high\n",
       nullptr, "LABELS:3: label 'high' is not a finite number"},
      {"non-numeric truth", "numeric", "", "item,worker,label\na,w,1\n",
       "item,label\na,x\n", "TRUTH:2:"},
      {"truth missing column", "", "", "item,worker,label\na,w,1\n",
       "item,value\na,1\n", "TRUTH:1: missing column(s) label"},
      {"pairwise winner", "pairwise", "",
       "worker,left,right,winner\nw,a,b,up\n", nullptr, "LABELS:2: winner"},
      {"boxes coordinate", "boxes", "",
       "image,worker,x1,y1,x2,y2\ni,w,1,2,3,x\n", nullptr,
       "LABELS:2: y2 'x' is not a finite number"},
      {"boxes truth", "boxes", "", "image,worker,x1,y1,x2,y2\ni,w,1,2,3,4\n",
       "image,x1,y1,x2,y2\ni,1,2,3\n", "TRUTH:2: ragged row"},
      {"missing labels file", "", "", nullptr, nullptr, "LABELS: cannot open"},
      {"missing truth file", "", "", "item,worker,label\na,w,1\n", "",
       "TRUTH: cannot open"},
      {"unknown method", "", "dss", "item,worker,label\na,w,1\n", nullptr,
       "unknown --method 'dss'"},
      {"unknown numeric method", "numeric", "ds", "item,worker,label\na,w,1\n",
       nullptr, "unknown --method 'ds' for --kind numeric"},
      {"unknown kind", "ranking", "", "item,worker,label\na,w,1\n", nullptr,
       "unknown --kind 'ranking'"},
      {"pairwise truth", "pairwise", "",
       "worker,left,right,winner\nw,a,b,left\n", "item,label\na,1\n",
       "--truth is not supported"},
  };
  for (const BadInput& c : cases) {
    SCOPED_TRACE(c.name);
    std::system(("rm -f '" + dir_ + "'/*").c_str());
    AggregateOptions o;
    o.kind = c.kind;
    o.method = c.method;
    o.labels_path = dir_ + "/labels.csv";
    if (c.labels != nullptr) Write("labels.csv", c.labels);
    if (c.truth != nullptr) {
      o.truth_path = dir_ + "/truth.csv";
      if (*c.truth != '\0') Write("truth.csv", c.truth);
    }
    o.out_path = dir_ + "/out.csv";
    o.json = true;
    EXPECT_EQ(Run(o), 2);
    std::string expect = c.expect;
    for (auto [key, value] :
         {std::pair<std::string, std::string>{"LABELS", o.labels_path},
          {"TRUTH", o.truth_path}}) {
      const size_t at = expect.find(key);
      if (at != std::string::npos) expect.replace(at, key.size(), value);
    }
    EXPECT_THAT(err_.str(), HasSubstr(expect));
    EXPECT_THAT(err_.str(), ::testing::StartsWith("tessera: "));
    EXPECT_EQ(out_.str(), "");
    EXPECT_FALSE(Exists(o.out_path));
    EXPECT_THAT(Listing(), ::testing::Not(HasSubstr("tmp")));
  }
}

TEST_F(AggregateCommandTest, UnwritableOutIsExitOneWithNoStdout) {
  AggregateOptions o;
  o.labels_path = Write("labels.csv", kLabels);
  o.out_path = dir_ + "/no/such/dir/out.csv";
  o.json = true;
  EXPECT_EQ(Run(o), 1);
  EXPECT_THAT(err_.str(), HasSubstr(o.out_path));
  EXPECT_EQ(out_.str(), "");
}

TEST_F(AggregateCommandTest, FailedRunKeepsAnExistingOutFile) {
  AggregateOptions o;
  o.labels_path = Write("labels.csv", "item,worker,label\na,w\n");
  o.out_path = Write("out.csv", "previous\n");
  EXPECT_EQ(Run(o), 2);
  EXPECT_EQ(Read(o.out_path), "previous\n");
}

}  // namespace
}  // namespace tessera::cli
