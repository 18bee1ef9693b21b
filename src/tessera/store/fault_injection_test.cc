// Tests of FaultInjectingStore: which write fails, how, and that a fault
// leaves the wrapped store unchanged.
#include "tessera/store/fault_injection.h"

#include <optional>

#include "tessera/store/store_conformance.h"

namespace tessera::store {
namespace {

class FaultInjectionTest : public StoreTestBase {
 protected:
  // Inserts a user named `name` through `fs`; counts runs of the function.
  absl::Status AddUser(FaultInjectingStore& fs, const std::string& name) {
    return fs.Run(TxMode::kWrite, [&](Tx& tx) -> absl::Status {
      ++runs_;
      domain::User u;
      u.username = name;
      u.password_hash = "h";
      u.roles = {domain::Role::kAnnotator};
      u.created_at = absl::FromUnixSeconds(1);
      return tx.InsertUser(u).status();
    });
  }
  bool HasUser(const std::string& name) {
    std::optional<domain::User> u;
    absl::Status s = Read([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(u, tx.FindUserByName(name));
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return u.has_value();
  }

  int runs_ = 0;
};

TEST_P(FaultInjectionTest, UnarmedPassesEverythingThrough) {
  FaultInjectingStore fs(store());
  TS_ASSERT_OK(AddUser(fs, "a"));
  TS_ASSERT_OK(
      fs.Run(TxMode::kRead, [](Tx& tx) { return tx.CountUsers().status(); }));
  EXPECT_EQ(fs.writes(), 1);  // reads are not numbered
  EXPECT_EQ(fs.injected(), 0);
  EXPECT_TRUE(HasUser("a"));
  EXPECT_EQ(fs.backend(), store().backend());
}

TEST_P(FaultInjectionTest, FailBeforeRunRefusesTheNthWriteOnly) {
  FaultInjectingStore fs(store());
  fs.FailWrite(2, WriteFault::kFailBeforeRun);
  TS_ASSERT_OK(AddUser(fs, "first"));
  absl::Status second = AddUser(fs, "second");
  EXPECT_EQ(second.code(), absl::StatusCode::kUnavailable) << second;
  TS_ASSERT_OK(AddUser(fs, "third"));
  EXPECT_EQ(runs_, 2);  // the refused write never ran
  EXPECT_EQ(fs.writes(), 3);
  EXPECT_EQ(fs.injected(), 1);
  EXPECT_TRUE(HasUser("first"));
  EXPECT_FALSE(HasUser("second"));
  EXPECT_TRUE(HasUser("third"));
}

TEST_P(FaultInjectionTest, FailBeforeCommitRunsTheWriteAndRollsItBack) {
  FaultInjectingStore fs(store());
  fs.FailWrite(1, WriteFault::kFailBeforeCommit);
  absl::Status died = AddUser(fs, "ghost");
  EXPECT_EQ(died.code(), absl::StatusCode::kUnavailable) << died;
  EXPECT_EQ(runs_, 1);
  EXPECT_FALSE(HasUser("ghost"));
  // The retry is a new write and commits.
  TS_ASSERT_OK(AddUser(fs, "ghost"));
  EXPECT_TRUE(HasUser("ghost"));
  EXPECT_EQ(fs.injected(), 1);
}

TEST_P(FaultInjectionTest, TheFunctionsOwnErrorWins) {
  FaultInjectingStore fs(store());
  TS_ASSERT_OK(AddUser(fs, "dup"));
  fs.FailWrite(1, WriteFault::kFailBeforeCommit);
  EXPECT_EQ(AddUser(fs, "dup").code(), absl::StatusCode::kAlreadyExists);
}

TEST_P(FaultInjectionTest, ClearDisarms) {
  FaultInjectingStore fs(store());
  fs.FailWrite(1, WriteFault::kFailBeforeRun);
  fs.FailWrite(2, WriteFault::kFailBeforeCommit);
  fs.Clear();
  TS_ASSERT_OK(AddUser(fs, "a"));
  TS_ASSERT_OK(AddUser(fs, "b"));
  EXPECT_EQ(fs.injected(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    fault, FaultInjectionTest,
    ::testing::Values(SqliteStoreFactory(sqlite::Durability::kNormal)),
    StoreFactoryName);

}  // namespace
}  // namespace tessera::store
