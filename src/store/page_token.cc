#include "store/page_token.h"

#include <cstddef>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "store/siphash.h"

namespace kiln::store {

namespace {

// Token layout (25 bytes before base64url):
//   [0]      format version (kTokenVersion)
//   [1, 9)   after_seq, big-endian
//   [9, 17)  SipHash of the query fingerprint under kFingerprintKey, big-endian
//   [17, 25) SipHash of bytes [0, 17) under kChecksumKey, big-endian
constexpr unsigned char kTokenVersion = 1;
constexpr size_t kBodySize = 17;
constexpr size_t kTokenSize = kBodySize + 8;
constexpr internal::SipKey kFingerprintKey{0x6b696c6e2d717279ULL, 0x9e3779b97f4a7c15ULL};
constexpr internal::SipKey kChecksumKey{0x6b696c6e2d706167ULL, 0xc2b2ae3d27d4eb4fULL};

void AppendBigEndian(uint64_t value, std::string& out) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

uint64_t ReadBigEndian(const char* p) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<unsigned char>(p[i]);
  return value;
}

absl::Status TokenError(absl::string_view rule) { return FieldError("pageToken", rule); }

}  // namespace

std::string QueryFingerprint(absl::Span<const absl::string_view> parts) {
  std::string out;
  for (absl::string_view part : parts) absl::StrAppend(&out, part.size(), ":", part, ";");
  return out;
}

std::string EncodePageToken(const PageCursor& cursor, absl::string_view query_fingerprint) {
  std::string bytes;
  bytes.reserve(kTokenSize);
  bytes.push_back(static_cast<char>(kTokenVersion));
  AppendBigEndian(static_cast<uint64_t>(cursor.after_seq), bytes);
  AppendBigEndian(internal::SipHash24(kFingerprintKey, query_fingerprint), bytes);
  AppendBigEndian(internal::SipHash24(kChecksumKey, bytes), bytes);
  return absl::WebSafeBase64Escape(bytes);
}

absl::StatusOr<PageCursor> DecodePageToken(absl::string_view token,
                                           absl::string_view query_fingerprint) {
  if (token.empty()) return PageCursor{};
  std::string bytes;
  // Re-encoding must give the token back: rejects padding and non-canonical trailing bits.
  if (!absl::WebSafeBase64Unescape(token, &bytes) || bytes.size() != kTokenSize ||
      absl::WebSafeBase64Escape(bytes) != token) {
    return TokenError("not a valid page token; pass the nextPageToken of a previous response");
  }
  absl::string_view body(bytes.data(), kBodySize);
  if (ReadBigEndian(bytes.data() + kBodySize) != internal::SipHash24(kChecksumKey, body)) {
    return TokenError("the page token is corrupted or was altered");
  }
  if (static_cast<unsigned char>(bytes[0]) != kTokenVersion) {
    return TokenError("the page token was issued by an incompatible kiln version");
  }
  int64_t after_seq = static_cast<int64_t>(ReadBigEndian(bytes.data() + 1));
  if (after_seq < 0) return TokenError("not a valid page token");
  if (ReadBigEndian(bytes.data() + 9) != internal::SipHash24(kFingerprintKey, query_fingerprint)) {
    return TokenError(
        "the page token was issued for a different query; keep the parent, filter and "
        "orderBy of the first request while paging, or omit the token to start over");
  }
  return PageCursor{after_seq};
}

absl::StatusOr<int> EffectivePageSize(int64_t page_size) {
  if (page_size < 0) return FieldError("pageSize", "must be ≥ 0");
  if (page_size == 0) return kDefaultPageSize;
  if (page_size > kMaxPageSize) return kMaxPageSize;
  return static_cast<int>(page_size);
}

}  // namespace kiln::store
