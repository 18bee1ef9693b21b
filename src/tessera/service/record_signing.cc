// Ed25519 signatures over canonical work-record bytes (libsodium).
#include "tessera/service/record_signing.h"

#include <sodium.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "tessera/base/status.h"
#include "tessera/service/auth.h"

namespace tessera::service {

std::string ToBase64(absl::string_view bytes) {
  std::string out(
      sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL),
      '\0');
  sodium_bin2base64(out.data(), out.size(),
                    reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

absl::StatusOr<std::string> FromBase64(absl::string_view text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()),
                        out.size(), text.data(), text.size(), nullptr, &len,
                        &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return absl::InvalidArgumentError("not base64");
  }
  out.resize(len);
  return out;
}

RecordKeyPair NewRecordKeyPair() {
  (void)InitCrypto();
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  RecordKeyPair out;
  out.public_key = ToBase64(
      absl::string_view(reinterpret_cast<const char*>(pk), sizeof(pk)));
  out.secret_key = ToBase64(
      absl::string_view(reinterpret_cast<const char*>(sk), sizeof(sk)));
  sodium_memzero(sk, sizeof(sk));
  return out;
}

std::string RecordKeyId(absl::string_view public_key_b64) {
  (void)InitCrypto();
  std::string raw = FromBase64(public_key_b64).value_or("");
  unsigned char hash[32];
  crypto_generichash(hash, sizeof(hash),
                     reinterpret_cast<const unsigned char*>(raw.data()),
                     raw.size(), nullptr, 0);
  std::string hex(2 * sizeof(hash) + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), hash, sizeof(hash));
  return absl::StrCat("ed25519:", hex.substr(0, 16));
}

std::string CanonicalRecordBytes(const nlohmann::json& record) {
  return record.dump();
}

absl::StatusOr<std::string> SignRecord(const nlohmann::json& record,
                                       absl::string_view secret_key_b64) {
  TS_RETURN_IF_ERROR(InitCrypto());
  auto sk = FromBase64(secret_key_b64);
  if (!sk.ok() || sk->size() != crypto_sign_SECRETKEYBYTES) {
    return absl::InternalError("the stored record-signing key is damaged");
  }
  const std::string bytes = CanonicalRecordBytes(record);
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(
      sig, nullptr, reinterpret_cast<const unsigned char*>(bytes.data()),
      bytes.size(), reinterpret_cast<const unsigned char*>(sk->data()));
  sodium_memzero(sk->data(), sk->size());
  return ToBase64(
      absl::string_view(reinterpret_cast<const char*>(sig), sizeof(sig)));
}

absl::Status VerifyRecord(const nlohmann::json& record,
                          absl::string_view signature_b64,
                          absl::string_view public_key_b64) {
  TS_RETURN_IF_ERROR(InitCrypto());
  auto pk = FromBase64(public_key_b64);
  if (!pk.ok() || pk->size() != crypto_sign_PUBLICKEYBYTES) {
    return InvalidField("key", "is not a base64 Ed25519 public key");
  }
  auto sig = FromBase64(signature_b64);
  if (!sig.ok() || sig->size() != crypto_sign_BYTES) {
    return Unauthenticated("invalid signature");
  }
  const std::string bytes = CanonicalRecordBytes(record);
  if (crypto_sign_verify_detached(
          reinterpret_cast<const unsigned char*>(sig->data()),
          reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
          reinterpret_cast<const unsigned char*>(pk->data())) != 0) {
    return Unauthenticated("invalid signature");
  }
  return absl::OkStatus();
}

}  // namespace tessera::service
