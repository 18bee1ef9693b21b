// End-to-end tests of `tessera verify-record`: the real binary, run as a
// child process on records signed here with a fresh key. A valid record
// passes; one altered byte in any of several fields, or in the signature,
// fails with exit 1; usage errors and unreadable files exit 2.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tessera/service/auth.h"
#include "tessera/service/record_signing.h"
#include "tests/cli/run_binary.h"

namespace {

using tessera::e2e::ReadFile;
using tessera::e2e::Result;
using ::testing::HasSubstr;
using Json = nlohmann::json;

const std::string kBinary = TESSERA_BINARY;

class VerifyRecordTest : public tessera::e2e::TempDirTest {
 protected:
  VerifyRecordTest() : TempDirTest("/tmp/tessera_verify_record_XXXXXX") {}

  void SetUp() override {
    TempDirTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(tessera::service::InitCrypto().ok());
    key_ = tessera::service::NewRecordKeyPair();
    record_ = {{"format", "tessera.work-record/1"},
               {"issuer", "tessera"},
               {"key_id", tessera::service::RecordKeyId(key_.public_key)},
               {"subject", {{"user_id", 7}, {"username", "amara"}}},
               {"issued_at", "2026-11-29T08:00:00Z"},
               {"domains", {"medicine"}},
               {"volumes",
                {{{"task_type", "classify"},
                  {"domain", "medicine"},
                  {"submitted", 40},
                  {"accepted", 36},
                  {"rejected", 4}}}},
               {"acceptance_rate", 0.9},
               {"gold", {{"checks", 10}, {"passed", 9}, {"accuracy", 0.9}}},
               {"tier_history",
                {{{"domain", "medicine"},
                  {"tier", "quality_contributor"},
                  {"score", 0.83},
                  {"at", "2026-11-20T10:00:00Z"}}}}};
    auto sig = tessera::service::SignRecord(record_, key_.secret_key);
    ASSERT_TRUE(sig.ok());
    signed_ = {{"record", record_},
               {"signature", *sig},
               {"key_id", record_["key_id"]},
               {"algorithm", "Ed25519"}};
    key_file_ = Write("key.json", Json{{"key_id", record_["key_id"]},
                                       {"public_key", key_.public_key},
                                       {"algorithm", "Ed25519"}}
                                      .dump());
  }

  Result Run(const std::vector<std::string>& args) {
    return tessera::e2e::RunBinary(kBinary, args, dir_);
  }

  // The signed record's file text with the byte at `pos` changed.
  std::string FlipByteAt(const std::string& text, size_t pos) {
    std::string out = text;
    char& c = out[pos];
    if (c >= '0' && c <= '9') {
      c = static_cast<char>('0' + (c - '0' + 1) % 10);
    } else {
      c = c == 'x' ? 'y' : 'x';
    }
    return out;
  }

  tessera::service::RecordKeyPair key_;
  Json record_;
  Json signed_;
  std::string key_file_;
};

TEST_F(VerifyRecordTest, ValidRecordPassesWithKeyFileOrBase64Key) {
  const std::string file = Write("record.json", signed_.dump(2));
  Result r = Run({"verify-record", file, "--key", key_file_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "valid: amara 2026-11-29T08:00:00Z\n");
  r = Run({"verify-record", file, "--key", key_.public_key});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Reformatting the file changes no signed byte.
  const std::string compact = Write("compact.json", signed_.dump());
  EXPECT_EQ(Run({"verify-record", compact, "--key", key_file_}).exit_code, 0);
}

TEST_F(VerifyRecordTest, AnyAlteredByteFails) {
  const std::string text = signed_.dump();
  // One byte inside each of several values, then inside the signature.
  const std::vector<std::string> needles = {
      "amara",           "2026-11-29T08",       "medicine",
      "\"accepted\":36", "quality_contributor", "0.83",
      "\"user_id\":7",   "tessera.work"};
  for (const std::string& needle : needles) {
    size_t pos = text.find(needle);
    ASSERT_NE(pos, std::string::npos) << needle;
    pos += needle.size() - 1;  // the needle's last byte
    const std::string file = Write("altered.json", FlipByteAt(text, pos));
    ASSERT_NE(ReadFile(file), text);
    Result r = Run({"verify-record", file, "--key", key_file_});
    EXPECT_EQ(r.exit_code, 1) << needle << ": " << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr("invalid signature")) << needle;
  }
  const std::string sig = signed_["signature"];
  size_t pos = text.find(sig);
  ASSERT_NE(pos, std::string::npos);
  for (size_t offset : {size_t{0}, size_t{10}, sig.size() / 2}) {
    const std::string file =
        Write("altered_sig.json", FlipByteAt(text, pos + offset));
    Result r = Run({"verify-record", file, "--key", key_file_});
    EXPECT_EQ(r.exit_code, 1) << offset << ": " << r.out << r.err;
  }
  // Another key does not verify it either.
  Result r = Run({"verify-record", Write("ok.json", text), "--key",
                  tessera::service::NewRecordKeyPair().public_key});
  EXPECT_EQ(r.exit_code, 1);
  // A field added to the record is an alteration too.
  Json added = signed_;
  added["record"]["note"] = "promoted";
  EXPECT_EQ(Run({"verify-record", Write("added.json", added.dump()), "--key",
                 key_file_})
                .exit_code,
            1);
  // Not JSON at all.
  EXPECT_EQ(Run({"verify-record", Write("junk.json", "{\"record\":"), "--key",
                 key_file_})
                .exit_code,
            1);
}

TEST_F(VerifyRecordTest, UsageErrorsExitTwo) {
  const std::string file = Write("record.json", signed_.dump());
  Result r = Run({"verify-record", file});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--key"));
  EXPECT_THAT(r.err, HasSubstr(record_["key_id"].get<std::string>()));
  const std::string missing = dir_ + "/no-such-record.json";
  r = Run({"verify-record", missing, "--key", key_file_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(missing));
  r = Run({"verify-record", file, "--key", "not-a-key"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--key"));
  EXPECT_EQ(Run({"verify-record"}).exit_code, 2);
}

}  // namespace
