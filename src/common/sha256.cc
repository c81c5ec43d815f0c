#include "common/sha256.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"

namespace kiln {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) {
    status_ = absl::InternalError("SHA-256: cannot allocate an OpenSSL digest context");
  } else if (EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
    status_ = absl::InternalError("SHA-256: OpenSSL cannot start a digest");
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::Update(absl::string_view bytes) { Update(bytes.data(), bytes.size()); }

void Sha256::Update(const void* data, size_t size) {
  if (!status_.ok() || finished_) return;
  if (EVP_DigestUpdate(ctx_, data, size) != 1) status_ = absl::InternalError("SHA-256: OpenSSL cannot add bytes");
}

void Sha256::UpdateLittleEndian64(uint64_t value) {
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(value >> (8 * i));
  Update(bytes, sizeof(bytes));
}

absl::StatusOr<std::string> Sha256::Final() {
  if (finished_) return absl::FailedPreconditionError("SHA-256: the digest was already taken");
  finished_ = true;
  if (!status_.ok()) return status_;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx_, digest, &size) != 1 || size != kDigestBytes) {
    return absl::InternalError("SHA-256: OpenSSL cannot finish the digest");
  }
  return std::string(reinterpret_cast<const char*>(digest), size);
}

absl::StatusOr<std::string> Sha256::FinalHex() {
  absl::StatusOr<std::string> digest = Final();
  if (!digest.ok()) return digest.status();
  return HexEncode(*digest);
}

absl::StatusOr<std::string> Sha256Digest(absl::string_view bytes) {
  Sha256 hash;
  hash.Update(bytes);
  return hash.Final();
}

absl::StatusOr<std::string> Sha256Hex(absl::string_view bytes) {
  Sha256 hash;
  hash.Update(bytes);
  return hash.FinalHex();
}

std::string HexEncode(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

}  // namespace kiln
