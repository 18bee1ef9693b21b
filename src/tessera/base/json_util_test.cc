#include "tessera/base/json_util.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tessera/base/clock.h"
#include "tessera/base/status.h"

namespace tessera {
namespace {

TEST(JsonUtilTest, MalformedAndInvalidUtf8AreBodyErrors) {
  EXPECT_EQ(FieldOf(ParseJson("{").status()), "body");
  EXPECT_EQ(FieldOf(ParseJson("{\"a\":\"\xff\"}").status()), "body");
  EXPECT_TRUE(ParseJson("{\"a\":\"\xe4\xbd\xa0\"}").ok());
  // Numbers beyond a double are bad input too, not a server error.
  EXPECT_EQ(FieldOf(ParseJson("{\"a\":1e400}").status()), "body");
}

TEST(JsonUtilTest, AccessorsNameTheField) {
  auto j = nlohmann::json::parse(R"({"name":"x","n":3,"f":1.5})");
  EXPECT_EQ(*RequiredString(j, "name"), "x");
  EXPECT_EQ(FieldOf(RequiredString(j, "missing", "pool").status()),
            "pool.missing");
  EXPECT_EQ(FieldOf(RequiredInt(j, "f").status()), "f");
  EXPECT_EQ(*RequiredInt(j, "n"), 3);
  EXPECT_EQ(OptionalInt(j, "zz")->has_value(), false);
}

TEST(ClockTest, FormatsAndParsesRfc3339) {
  auto t = ParseRfc3339("2026-11-30T08:00:00+08:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(Rfc3339(*t), "2026-11-30T00:00:00Z");
  EXPECT_FALSE(ParseRfc3339("tomorrow").has_value());
  FakeClock clock;
  absl::Time t0 = clock.Now();
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now() - t0, absl::Seconds(5));
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

TEST(AppendJsonStringTest, EscapesAndReadsBack) {
  std::string s = "q\"b\\n\n\r\t\x01\x1f é 漢 \x7f";
  std::string out;
  AppendJsonString(s, out);
  EXPECT_EQ(out, "\"q\\\"b\\\\n\\n\\r\\t\\u0001\\u001f é 漢 \x7f\"");
  EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), s);
}

TEST(AppendJsonTest, WritesExactlyWhatDumpWrites) {
  const char* docs[] = {
      R"({"b":[1,-2,3.5,1e300,0.1,true,false,null],"a":{"z":"","y":"plain"}})",
      R"({"text":"quote \" backslash \\ tab \t newline \n ctrl \u0001"})",
      R"({"ünïcödé":"日本語 ✓ \ud83d\ude00","n":18446744073709551615})",
      R"([[],{},[{}],-9223372036854775808,"\u007f"])",
      R"("just a string")",
      R"(42)"};
  for (const char* text : docs) {
    nlohmann::json j = nlohmann::json::parse(text);
    std::string out = "prefix:";
    AppendJson(j, out);
    EXPECT_EQ(out, "prefix:" + j.dump()) << text;
  }
}

}  // namespace
}  // namespace tessera
