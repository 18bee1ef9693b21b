// The TOML configuration: the example file is the defaults, every standing
// setting is read, and bad values are errors that name the section and key.
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace tessera::app {
namespace {

// A config file in a fresh temporary folder, removed with the object.
class TempConfig {
 public:
  explicit TempConfig(const std::string& text) {
    char tmpl[] = "/tmp/tessera-config-test.XXXXXX";
    EXPECT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/tessera.toml";
    std::ofstream(path_) << text;
  }
  ~TempConfig() {
    std::remove(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

// The error of applying `text`, or "" when it applied.
std::string ErrorOf(const std::string& text) {
  TempConfig file(text);
  Config c;
  absl::Status s = ApplyConfigFile(file.path(), c);
  if (s.ok()) return "";
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  // Messages start with the file's path; the rest is what the test checks.
  std::string m(s.message());
  EXPECT_EQ(m.rfind(file.path() + ": ", 0), 0u) << m;
  return m.substr(file.path().size() + 2);
}

TEST(ConfigTest, ExampleFileIsTheDefaults) {
  Config c;
  ASSERT_TRUE(
      ApplyConfigFile(TESSERA_SOURCE_DIR "/config/tessera.example.toml", c)
          .ok());
  const Config d;
  const domain::StandingPolicy& p = c.standing;
  const domain::StandingPolicy& q = d.standing;
  EXPECT_EQ(c.listen, d.listen);
  EXPECT_EQ(c.floor_interval_seconds, d.floor_interval_seconds);
  EXPECT_EQ(c.keep_quality_snapshots, d.keep_quality_snapshots);
  EXPECT_EQ(c.record_issuer, d.record_issuer);
  EXPECT_EQ(p.half_life, q.half_life);
  EXPECT_EQ(p.gold_prior.alpha, q.gold_prior.alpha);
  EXPECT_EQ(p.gold_prior.beta, q.gold_prior.beta);
  EXPECT_EQ(p.first_pass_prior.alpha, q.first_pass_prior.alpha);
  EXPECT_EQ(p.first_pass_prior.beta, q.first_pass_prior.beta);
  EXPECT_EQ(p.rounds_prior_mean, q.rounds_prior_mean);
  EXPECT_EQ(p.rounds_prior_weight, q.rounds_prior_weight);
  EXPECT_EQ(p.rejection_prior.alpha, q.rejection_prior.alpha);
  EXPECT_EQ(p.rejection_prior.beta, q.rejection_prior.beta);
  EXPECT_EQ(p.agreement_prior.alpha, q.agreement_prior.alpha);
  EXPECT_EQ(p.agreement_prior.beta, q.agreement_prior.beta);
  EXPECT_EQ(p.volume_scale, q.volume_scale);
  EXPECT_EQ(p.gold_weight, q.gold_weight);
  EXPECT_EQ(p.first_pass_weight, q.first_pass_weight);
  EXPECT_EQ(p.rounds_weight, q.rounds_weight);
  EXPECT_EQ(p.rejection_weight, q.rejection_weight);
  EXPECT_EQ(p.agreement_weight, q.agreement_weight);
  EXPECT_EQ(p.volume_weight, q.volume_weight);
  EXPECT_EQ(p.contributor_min_reviewed, q.contributor_min_reviewed);
  EXPECT_EQ(p.quality_min_score, q.quality_min_score);
  EXPECT_EQ(p.quality_min_reviewed, q.quality_min_reviewed);
  EXPECT_EQ(p.quality_min_gold_accuracy, q.quality_min_gold_accuracy);
  EXPECT_EQ(p.quality_gold_checks, q.quality_gold_checks);
  EXPECT_EQ(p.gold_bound_z, q.gold_bound_z);
  EXPECT_EQ(p.reviewer_min_score, q.reviewer_min_score);
  EXPECT_EQ(p.reviewer_min_reviewed, q.reviewer_min_reviewed);
  EXPECT_EQ(p.comeback_share, q.comeback_share);
  EXPECT_EQ(p.comeback_min_reviewed, q.comeback_min_reviewed);
  EXPECT_EQ(p.comeback_window, q.comeback_window);
  EXPECT_EQ(p.scarce_open_share, q.scarce_open_share);
  EXPECT_EQ(p.scarce_price_minor, q.scarce_price_minor);
}

TEST(ConfigTest, ReadsStandingAllocationJobsAndRecords) {
  TempConfig file(R"([standing]
half_life_days = 30.5
gold_prior = [4, 1]
first_pass_prior = [2.5, 2.5]
rounds_prior_mean = 1.5
rounds_prior_weight = 2
rejection_prior = [1, 9]
agreement_prior = [3, 2]
volume_scale = 50
gold_weight = 0.4
first_pass_weight = 0.1
rounds_weight = 0.1
rejection_weight = 0.1
agreement_weight = 0.2
volume_weight = 0.1
contributor_min_reviewed = 5
quality_min_score = 0.75
quality_min_reviewed = 20
quality_min_gold_accuracy = 0.85
quality_gold_checks = 8
gold_bound_z = 1.6449
reviewer_min_score = 0.95
reviewer_min_reviewed = 200

[allocation]
comeback_share = 0.5
comeback_min_reviewed = 20
comeback_window_days = 14
scarce_open_share = 0.2
scarce_price_minor = 500

[jobs]
floor_interval_seconds = 0
keep_quality_snapshots = 2

[records]
issuer = "annotate.example.org"
)");
  Config c;
  absl::Status s = ApplyConfigFile(file.path(), c);
  ASSERT_TRUE(s.ok()) << s;
  const domain::StandingPolicy& p = c.standing;
  EXPECT_EQ(p.half_life, absl::Hours(30 * 24 + 12));
  EXPECT_EQ(p.gold_prior.alpha, 4);
  EXPECT_EQ(p.gold_prior.beta, 1);
  EXPECT_EQ(p.first_pass_prior.alpha, 2.5);
  EXPECT_EQ(p.rounds_prior_mean, 1.5);
  EXPECT_EQ(p.rounds_prior_weight, 2);
  EXPECT_EQ(p.rejection_prior.beta, 9);
  EXPECT_EQ(p.agreement_prior.alpha, 3);
  EXPECT_EQ(p.volume_scale, 50);
  EXPECT_EQ(p.gold_weight, 0.4);
  EXPECT_EQ(p.first_pass_weight, 0.1);
  EXPECT_EQ(p.agreement_weight, 0.2);
  EXPECT_EQ(p.contributor_min_reviewed, 5);
  EXPECT_EQ(p.quality_min_score, 0.75);
  EXPECT_EQ(p.quality_min_reviewed, 20);
  EXPECT_EQ(p.quality_min_gold_accuracy, 0.85);
  EXPECT_EQ(p.quality_gold_checks, 8);
  EXPECT_EQ(p.gold_bound_z, 1.6449);
  EXPECT_EQ(p.reviewer_min_score, 0.95);
  EXPECT_EQ(p.reviewer_min_reviewed, 200);
  EXPECT_EQ(p.comeback_share, 0.5);
  EXPECT_EQ(p.comeback_min_reviewed, 20);
  EXPECT_EQ(p.comeback_window, absl::Hours(14 * 24));
  EXPECT_EQ(p.scarce_open_share, 0.2);
  EXPECT_EQ(p.scarce_price_minor, 500);
  EXPECT_EQ(c.floor_interval_seconds, 0);
  EXPECT_EQ(c.keep_quality_snapshots, 2);
  EXPECT_EQ(c.record_issuer, "annotate.example.org");
}

TEST(ConfigTest, BadStandingValuesNameTheKey) {
  EXPECT_EQ(ErrorOf("[standing]\nquality_min_score = 1.2\n"),
            "[standing] quality_min_score must be in [0, 1], got 1.2");
  EXPECT_EQ(ErrorOf("[standing]\nquality_min_score = -0.1\n"),
            "[standing] quality_min_score must be in [0, 1], got -0.1");
  EXPECT_EQ(ErrorOf("[standing]\nreviewer_min_score = 0.7\n"),
            "[standing] reviewer_min_score must be at least "
            "quality_min_score (0.8), got 0.7");
  EXPECT_EQ(ErrorOf("[standing]\nquality_min_score = 0.95\n"),
            "[standing] reviewer_min_score must be at least "
            "quality_min_score (0.95), got 0.9");
  EXPECT_EQ(ErrorOf("[standing]\nquality_min_reviewed = 200\n"),
            "[standing] reviewer_min_reviewed must be at least "
            "quality_min_reviewed (200), got 100");
  EXPECT_EQ(ErrorOf("[standing]\ncontributor_min_reviewed = 40\n"),
            "[standing] quality_min_reviewed must be at least "
            "contributor_min_reviewed (40), got 30");
  EXPECT_EQ(ErrorOf("[standing]\nquality_min_gold_accuracy = 80\n"),
            "[standing] quality_min_gold_accuracy must be in [0, 1], got 80");
  EXPECT_EQ(ErrorOf("[standing]\ngold_weight = 0.5\n"),
            "[standing] the six weights (gold_weight, first_pass_weight, "
            "rounds_weight, rejection_weight, agreement_weight, "
            "volume_weight) must sum to 1, got 1.2");
  EXPECT_EQ(ErrorOf("[standing]\ngold_prior = [0, 1]\n"),
            "[standing] gold_prior must be [alpha, beta] with both more than "
            "0, got [0, 1]");
  EXPECT_EQ(ErrorOf("[standing]\ngold_prior = [1, 2, 3]\n"),
            "[standing] gold_prior has the wrong type ([alpha, beta], two "
            "numbers)");
  EXPECT_EQ(ErrorOf("[standing]\nhalf_life_days = 0\n"),
            "[standing] half_life_days must be more than 0 and at most 36500 "
            "days, got 0");
  EXPECT_EQ(ErrorOf("[standing]\nquality_min_score = \"high\"\n"),
            "[standing] quality_min_score has the wrong type (a number)");
  EXPECT_EQ(ErrorOf("[standing]\nquality_min_reviewed = 30.5\n"),
            "[standing] quality_min_reviewed has the wrong type (an integer)");
  EXPECT_EQ(ErrorOf("[standing]\nquality_min_reviewed = 99999999999\n"),
            "[standing] quality_min_reviewed is out of range: 99999999999");
  EXPECT_EQ(ErrorOf("[standing]\nquality_min_scor = 0.8\n"),
            "unknown key quality_min_scor in [standing]");
  EXPECT_EQ(ErrorOf("[allocation]\ncomeback_share = 1.5\n"),
            "[allocation] comeback_share must be in [0, 1], got 1.5");
  EXPECT_EQ(ErrorOf("[allocation]\ncomeback_window_days = -1\n"),
            "[allocation] comeback_window_days must be more than 0 and at "
            "most 36500 days, got -1");
  EXPECT_EQ(ErrorOf("[allocation]\nscarce_price_minor = -5\n"),
            "[allocation] scarce_price_minor must be at least 0, got -5");
  EXPECT_EQ(ErrorOf("[jobs]\nfloor_interval_seconds = -1\n"),
            "[jobs] floor_interval_seconds must be 0 (off) or more");
  EXPECT_EQ(ErrorOf("[jobs]\nkeep_quality_snapshots = -1\n"),
            "[jobs] keep_quality_snapshots must be 0 (keep all) or more");
  EXPECT_EQ(ErrorOf("[records]\nissuer = \"  \"\n"),
            "[records] issuer must not be blank");
  EXPECT_EQ(ErrorOf("[records]\nissuer = \"a\\nb\"\n"),
            "[records] issuer must not hold control characters");
}

TEST(ConfigTest, IntegersAreNumbersAndEqualTierThresholdsAreAllowed) {
  EXPECT_EQ(ErrorOf("[standing]\nquality_min_score = 1\n"
                    "reviewer_min_score = 1\n"),
            "");
}

TEST(ConfigTest, FloorIntervalFromTheEnvironment) {
  Config c;
  ::setenv("TESSERA_FLOOR_INTERVAL_SECONDS", "30", 1);
  EXPECT_TRUE(ApplyEnvironment(c).ok());
  EXPECT_EQ(c.floor_interval_seconds, 30);
  ::setenv("TESSERA_FLOOR_INTERVAL_SECONDS", "-3", 1);
  absl::Status s = ApplyEnvironment(c);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "TESSERA_FLOOR_INTERVAL_SECONDS must be 0 (off) or a positive "
            "integer");
  ::unsetenv("TESSERA_FLOOR_INTERVAL_SECONDS");
}

}  // namespace
}  // namespace tessera::app
