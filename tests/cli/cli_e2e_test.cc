// End-to-end tests of `tessera aggregate` and `tessera agreement`: the real
// binary, run as a child process on the golden data (tests/golden/data) and
// on small files written here; checks results, exit statuses and that bad
// input leaves no output behind.
#include <sys/stat.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/cli/run_binary.h"

namespace {

using tessera::e2e::ReadFile;
using tessera::e2e::Result;
using ::testing::HasSubstr;
using Json = nlohmann::json;

const std::string kBinary = TESSERA_BINARY;
const std::string kCrowd = TESSERA_CROWD_LABELS_DIR;
const std::string kPedestrians = TESSERA_PEDESTRIANS_DIR;

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

class CliEndToEndTest : public tessera::e2e::TempDirTest {
 protected:
  CliEndToEndTest() : TempDirTest("/tmp/tessera_cli_e2e_XXXXXX") {}

  // Runs `tessera ARGS...`, stdout and stderr captured through files.
  Result Run(const std::vector<std::string>& args) {
    return tessera::e2e::RunBinary(kBinary, args, dir_);
  }

  // Names in dir_, sorted, one per line.
  std::string Listing() {
    std::string out;
    FILE* p = ::popen(("ls -A '" + dir_ + "'").c_str(), "r");
    char buf[256];
    while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
    ::pclose(p);
    return out;
  }
};

std::string Labels(const std::string& set) {
  return kCrowd + "/" + set + "/labels.csv";
}
std::string Truth(const std::string& set) {
  return kCrowd + "/" + set + "/truth.csv";
}

TEST_F(CliEndToEndTest, HelpDescribesBothCommands) {
  Result a = Run({"aggregate", "--help"});
  EXPECT_EQ(a.exit_code, 0) << a.err;
  for (const char* flag : {"--labels", "--kind", "--method", "--truth", "--out",
                           "--json", "--keep-repeats", "--threads"}) {
    EXPECT_THAT(a.out, HasSubstr(flag));
  }
  Result g = Run({"agreement", "--help"});
  EXPECT_EQ(g.exit_code, 0) << g.err;
  for (const char* flag : {"--labels", "--metric", "--level", "--json"}) {
    EXPECT_THAT(g.out, HasSubstr(flag));
  }
}

TEST_F(CliEndToEndTest, ProductDawidSkeneReproducesCrowdKit) {
  Result r = Run({"aggregate", "--labels", Labels("product"), "--truth",
                  Truth("product"), "--method", "ds", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json j = r.json();
  EXPECT_EQ(j["method"], "ds");
  EXPECT_EQ(j["items"], 8315);
  EXPECT_EQ(j["workers"], 176);
  EXPECT_EQ(j["labels"], 24945);
  EXPECT_NEAR(j["accuracy"].get<double>(), 0.9397, 0.0005);
  EXPECT_GE(j["iterations"].get<int>(), 1);
  EXPECT_GE(j["seconds"].get<double>(), 0.0);
  EXPECT_GE(j["parse_seconds"].get<double>(), 0.0);
}

TEST_F(CliEndToEndTest, DefaultMethodOnSentiment) {
  Result r = Run({"aggregate", "--labels", Labels("sentiment"), "--truth",
                  Truth("sentiment"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.json()["method"], "best");
  EXPECT_GE(r.json()["accuracy"].get<double>(), 0.96);
}

// relevance has workers who answered an item twice, differently: an error
// by default, accepted (as crowd-kit does) with --keep-repeats.
TEST_F(CliEndToEndTest, RelevanceNeedsKeepRepeats) {
  const std::string out = dir_ + "/relevance.csv";
  Result bad = Run({"aggregate", "--labels", Labels("relevance"), "--truth",
                    Truth("relevance"), "--method", "ds", "--out", out});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr(Labels("relevance") + ":508:"));
  EXPECT_EQ(bad.out, "");
  EXPECT_FALSE(Exists(out));
  Result ok = Run({"aggregate", "--labels", Labels("relevance"), "--truth",
                   Truth("relevance"), "--method", "ds", "--keep-repeats",
                   "--json", "--out", out});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NEAR(ok.json()["accuracy"].get<double>(), 0.6173, 0.0005);
  EXPECT_EQ(ok.json()["evaluated"], 4460);
  const std::string csv = ReadFile(out);
  EXPECT_EQ(csv.rfind("item,label,confidence\n", 0), 0u);
  // One row per item plus the header.
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 20232 + 1);
}

TEST_F(CliEndToEndTest, ResultsDoNotDependOnThreads) {
  const std::string one = dir_ + "/one.csv", all = dir_ + "/all.csv";
  ASSERT_EQ(Run({"aggregate", "--labels", Labels("product"), "--method", "ds",
                 "--threads", "1", "--out", one})
                .exit_code,
            0);
  ASSERT_EQ(Run({"aggregate", "--labels", Labels("product"), "--method", "ds",
                 "--threads", "2", "--out", all})
                .exit_code,
            0);
  EXPECT_EQ(ReadFile(one), ReadFile(all));
}

// The default numeric method is the one with the lowest MAE on
// emotion-numeric.
TEST_F(CliEndToEndTest, NumericDefaultHasLowestMaeOnEmotion) {
  auto mae = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"aggregate",
                                     "--kind",
                                     "numeric",
                                     "--labels",
                                     Labels("emotion-numeric"),
                                     "--truth",
                                     Truth("emotion-numeric"),
                                     "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    Result r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? r.json()["mae"].get<double>() : -1.0;
  };
  const double def = mae({});
  EXPECT_NEAR(def, 12.022, 0.001);
  EXPECT_LE(def, mae({"--method", "mean"}));
  EXPECT_LT(def, mae({"--method", "median"}));
  EXPECT_LT(def, mae({"--method", "bias"}));
  const std::string out = dir_ + "/values.csv";
  ASSERT_EQ(Run({"aggregate", "--kind", "numeric", "--labels",
                 Labels("emotion-numeric"), "--out", out})
                .exit_code,
            0);
  EXPECT_EQ(ReadFile(out).rfind("item,value\n", 0), 0u);
}

TEST_F(CliEndToEndTest, PedestrianBoxesWeightedBeatsUnweightedBeatsSingle) {
  auto run = [&](const std::string& method) {
    Result r = Run({"aggregate", "--kind", "boxes", "--labels",
                    kPedestrians + "/boxes.csv", "--truth",
                    kPedestrians + "/truth.csv", "--method", method, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? r.json() : Json::object();
  };
  const Json single = run("single"), unweighted = run("unweighted"),
             weighted = run("weighted");
  for (const Json* j : {&single, &unweighted, &weighted}) {
    EXPECT_EQ((*j)["evaluated_images"], 469);
    for (const char* key : {"precision", "recall", "f1", "mean_iou"})
      EXPECT_TRUE(j->contains(key)) << key;
  }
  EXPECT_NEAR(weighted["f1"].get<double>(), 0.9110, 0.002);
  EXPECT_NEAR(unweighted["f1"].get<double>(), 0.9057, 0.002);
  EXPECT_GT(weighted["f1"].get<double>(), unweighted["f1"].get<double>());
  EXPECT_GT(unweighted["f1"].get<double>(), single["f1"].get<double>());
  EXPECT_GT(weighted["mean_iou"].get<double>(),
            unweighted["mean_iou"].get<double>());

  const std::string out = dir_ + "/merged.csv";
  Result d = Run({"aggregate", "--kind", "boxes", "--labels",
                  kPedestrians + "/boxes.csv", "--out", out});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_THAT(d.out, HasSubstr("method weighted"));
  const std::string csv = ReadFile(out);
  EXPECT_EQ(csv.rfind("image,label,x1,y1,x2,y2,confidence\n", 0), 0u);
  // The merged boxes read back as a truth file: scoring the weighted result
  // against itself is perfect.
  std::string truth = "image,x1,y1,x2,y2\n";
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    // image,label,x1,y1,x2,y2,confidence -> image,x1,y1,x2,y2
    const size_t a = line.find(','), b = line.find(',', a + 1),
                 c = line.rfind(',');
    truth += line.substr(0, a) + line.substr(b, c - b) + "\n";
  }
  const std::string self = Write("self.csv", truth);
  Result s = Run({"aggregate", "--kind", "boxes", "--labels",
                  kPedestrians + "/boxes.csv", "--truth", self, "--json"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_DOUBLE_EQ(s.json()["f1"].get<double>(), 1.0);
  EXPECT_EQ(s.json()["evaluated_images"], 724);
}

TEST_F(CliEndToEndTest, PairwiseRanking) {
  // a > b > c > d, one noisy answer.
  const std::string pairs = Write("pairs.csv",
                                  "worker,left,right,winner\n"
                                  "w1,a,b,left\nw1,b,c,left\nw1,c,d,left\n"
                                  "w2,a,c,left\nw2,d,b,right\nw2,a,d,left\n"
                                  "w3,b,a,right\nw3,c,b,left\nw3,d,c,tie\n");
  const std::string out = dir_ + "/ranking.csv";
  Result r = Run({"aggregate", "--kind", "pairwise", "--labels", pairs, "--out",
                  out, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.json()["method"], "crowdbt");
  EXPECT_EQ(r.json()["labels"], 9);
  const std::string csv = ReadFile(out);
  EXPECT_EQ(csv.rfind("item,score,rank\na,", 0), 0u) << csv;
  EXPECT_THAT(csv, ::testing::EndsWith(",4\n"));
  EXPECT_THAT(csv, HasSubstr("\nd,"));
}

TEST_F(CliEndToEndTest, AgreementValues) {
  // Two workers disagreeing on one of four items: nominal alpha = 8/15
  // (hand-computed in src/tessera/cli/agreement_test.cc), Cohen's kappa 1/2.
  const std::string labels = Write("labels.csv",
                                   "item,worker,label\n"
                                   "i1,A,a\ni1,B,a\ni2,A,a\ni2,B,b\n"
                                   "i3,A,b\ni3,B,b\ni4,A,b\ni4,B,b\n");
  Result alpha =
      Run({"agreement", "--labels", labels, "--metric", "alpha", "--json"});
  ASSERT_EQ(alpha.exit_code, 0) << alpha.err;
  EXPECT_NEAR(alpha.json()["value"].get<double>(), 8.0 / 15.0, 1e-9);
  Result cohen = Run({"agreement", "--labels", labels, "--metric", "cohen"});
  ASSERT_EQ(cohen.exit_code, 0) << cohen.err;
  EXPECT_THAT(cohen.out, HasSubstr("Cohen's kappa: 0.5000"));
  Result iou = Run({"agreement", "--labels", kPedestrians + "/boxes.csv",
                    "--metric", "iou", "--json"});
  ASSERT_EQ(iou.exit_code, 0) << iou.err;
  EXPECT_NEAR(iou.json()["value"].get<double>(), 0.6983, 0.0005);
  Result interval = Run({"agreement", "--labels", Labels("emotion-numeric"),
                         "--metric", "alpha", "--level", "interval", "--json"});
  ASSERT_EQ(interval.exit_code, 0) << interval.err;
  EXPECT_EQ(interval.json()["level"], "interval");
}

// Every class of bad input: exit 2, a message naming the file (and line where
// there is one), nothing on stdout, no --out file and no temporary left.
TEST_F(CliEndToEndTest, BadInputExitsTwoAndWritesNothing) {
  const std::string good = Write("good.csv", "item,worker,label\na,w,x\n");
  struct Case {
    const char* name;
    std::vector<std::string> args;
    std::string expect;
  };
  auto labels = [&](const std::string& name, const std::string& content) {
    return Write(name, content);
  };
  const std::string ragged = labels("ragged.csv", "item,worker,label\na,w\n");
  const std::string missing = labels("missing.csv", "item,label\na,x\n");
  const std::string empty = labels("empty.csv", "");
  const std::string twice =
      labels("twice.csv", "item,worker,label\na,w,x\nb,w,x\na,w,y\n");
  const std::string words =
      labels("words.csv", "item,worker,label\na,w,1\na,v,lots\n");
  const std::string boxes =
      labels("boxes.csv", "image,worker,x1,y1,x2,y2\ni,w,1,2,3,four\n");
  const std::string pairs =
      labels("pairs.csv", "worker,left,right,winner\nw,a,b,left\nw,b,c,draw\n");
  const std::string three =
      labels("three.csv", "item,worker,label\na,A,x\na,B,x\na,C,y\n");
  const std::string nofile = dir_ + "/nothing-here.csv";
  const Case cases[] = {
      {"ragged row", {"aggregate", "--labels", ragged}, ragged + ":2:"},
      {"missing column", {"aggregate", "--labels", missing}, missing + ":1:"},
      {"empty file", {"aggregate", "--labels", empty}, empty + ":1:"},
      {"conflicting repeat", {"aggregate", "--labels", twice}, twice + ":4:"},
      {"non-numeric",
       {"aggregate", "--kind", "numeric", "--labels", words},
       words + ":3:"},
      {"non-numeric box",
       {"aggregate", "--kind", "boxes", "--labels", boxes},
       boxes + ":2:"},
      {"bad winner",
       {"aggregate", "--kind", "pairwise", "--labels", pairs},
       pairs + ":3:"},
      {"bad truth",
       {"aggregate", "--labels", good, "--truth", ragged},
       ragged + ":2:"},
      {"missing file", {"aggregate", "--labels", nofile}, nofile},
      {"missing truth",
       {"aggregate", "--labels", good, "--truth", nofile},
       nofile},
      {"unknown method",
       {"aggregate", "--labels", good, "--method", "em"},
       "unknown --method 'em'"},
      {"unknown kind",
       {"aggregate", "--labels", good, "--kind", "text"},
       "unknown --kind 'text'"},
      {"no --labels", {"aggregate", "--method", "ds"}, "--labels"},
      {"unknown metric",
       {"agreement", "--labels", good, "--metric", "kappa"},
       "unknown --metric 'kappa'"},
      {"cohen needs two",
       {"agreement", "--labels", three, "--metric", "cohen"},
       three + ": cohen's kappa needs exactly two workers"},
      {"alpha interval words",
       {"agreement", "--labels", words, "--metric", "alpha", "--level",
        "interval"},
       words + ":3:"},
      {"agreement empty",
       {"agreement", "--labels", empty, "--metric", "fleiss"},
       empty + ":1:"},
  };
  const std::string before = Listing();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> args = c.args;
    const std::string out = dir_ + "/out.csv";
    if (args[0] == "aggregate") {
      args.push_back("--out");
      args.push_back(out);
    }
    args.push_back("--json");
    Result r = Run(args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr(c.expect));
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(Exists(out));
    EXPECT_EQ(Listing(), before);
  }
}

TEST_F(CliEndToEndTest, UnwritableOutExitsOne) {
  Result r = Run({"aggregate", "--labels", Labels("sentiment"), "--out",
                  dir_ + "/no/such/dir/out.csv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(dir_ + "/no/such/dir/out.csv"));
  EXPECT_EQ(r.out, "");
}

}  // namespace
