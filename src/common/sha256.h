#ifndef KILN_COMMON_SHA256_H_
#define KILN_COMMON_SHA256_H_

// SHA-256, the one hash kiln uses (venv keys, model snapshot digests, object upload answers), over
// OpenSSL's EVP interface.
//
// Threading: a Sha256 object is used by one thread at a time; the free functions are thread-safe.
//
// Errors: OpenSSL fails only when it cannot allocate or its default provider is unusable. Such a
// failure is kept by the object and returned by Final()/FinalHex() as INTERNAL naming the step;
// Update() after a failure does nothing.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace kiln {

class Sha256 {
 public:
  static constexpr size_t kDigestBytes = 32;

  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  // Appends bytes to the hashed stream.
  void Update(absl::string_view bytes);
  void Update(const void* data, size_t size);
  // Appends `value` as 8 bytes, least significant first (for length prefixes in framed input).
  void UpdateLittleEndian64(uint64_t value);

  // The digest of everything appended: 32 raw bytes, or 64 lowercase hex digits. Call one of them
  // once; the object is spent afterwards (a second call is FAILED_PRECONDITION).
  absl::StatusOr<std::string> Final();
  absl::StatusOr<std::string> FinalHex();

 private:
  EVP_MD_CTX* ctx_ = nullptr;
  absl::Status status_;
  bool finished_ = false;
};

// One-shot: the digest of `bytes`, raw (32 bytes) or as 64 lowercase hex digits.
absl::StatusOr<std::string> Sha256Digest(absl::string_view bytes);
absl::StatusOr<std::string> Sha256Hex(absl::string_view bytes);

// Lowercase hex of any bytes (two digits a byte), e.g. of a raw digest.
std::string HexEncode(absl::string_view bytes);

}  // namespace kiln

#endif  // KILN_COMMON_SHA256_H_
