#include "tessera/service/auth.h"

#include "gtest/gtest.h"

namespace tessera::service {
namespace {

TEST(AuthTest, PasswordHashVerifies) {
  ASSERT_TRUE(InitCrypto().ok());
  auto hash = HashPassword("correct horse battery");
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(hash->rfind("$argon2id$", 0) == 0) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse batterz"));
  EXPECT_FALSE(VerifyPassword("not a hash", "x"));
  // Salted: the same password hashes differently each time.
  EXPECT_NE(*hash, *HashPassword("correct horse battery"));
}

TEST(AuthTest, TokensAreRandom256BitHexAndHashedDeterministically) {
  ASSERT_TRUE(InitCrypto().ok());
  std::string a = NewToken(), b = NewToken();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(HashToken(a), HashToken(a));
  EXPECT_NE(HashToken(a), HashToken(b));
  EXPECT_NE(HashToken(a), a);
  EXPECT_EQ(HashToken(a).size(), 64u);
}

}  // namespace
}  // namespace tessera::service
