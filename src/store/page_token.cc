#include "store/page_token.h"

#include <cstddef>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "store/siphash.h"

namespace kiln::store {

namespace {

// Token layout before base64url:
//   [0]      format version: kSeqVersion, or kKeyVersion when the cursor has an after_key
//   [1, 9)   after_seq, big-endian
//   kKeyVersion only: 4 bytes of after_key's length, big-endian, then after_key
//   8 bytes  SipHash of the query fingerprint under kFingerprintKey, big-endian
//   8 bytes  SipHash of everything before under kChecksumKey, big-endian
constexpr unsigned char kSeqVersion = 1;
constexpr unsigned char kKeyVersion = 2;
constexpr size_t kSeqTokenSize = 1 + 8 + 8 + 8;
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

namespace {

std::string Encode(int64_t after_seq, absl::string_view after_key, absl::string_view query_fingerprint) {
  std::string bytes;
  bytes.reserve(kSeqTokenSize + 4 + after_key.size());
  bytes.push_back(static_cast<char>(after_key.empty() ? kSeqVersion : kKeyVersion));
  AppendBigEndian(static_cast<uint64_t>(after_seq), bytes);
  if (!after_key.empty()) {
    uint32_t size = static_cast<uint32_t>(after_key.size());
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(size >> shift));
    bytes.append(after_key.data(), after_key.size());
  }
  AppendBigEndian(internal::SipHash24(kFingerprintKey, query_fingerprint), bytes);
  AppendBigEndian(internal::SipHash24(kChecksumKey, bytes), bytes);
  return absl::WebSafeBase64Escape(bytes);
}

struct Decoded {
  int64_t after_seq = 0;
  std::string after_key;
};

// `token` is not empty.
absl::StatusOr<Decoded> Decode(absl::string_view token, absl::string_view query_fingerprint) {
  std::string bytes;
  constexpr absl::string_view kNotAToken = "not a valid page token; pass the nextPageToken of a previous response";
  // Re-encoding must give the token back: rejects padding and non-canonical trailing bits.
  if (!absl::WebSafeBase64Unescape(token, &bytes) || bytes.size() < kSeqTokenSize ||
      bytes.size() > kSeqTokenSize + 4 + kMaxCursorKeyBytes || absl::WebSafeBase64Escape(bytes) != token) {
    return TokenError(kNotAToken);
  }
  size_t body_size = bytes.size() - 8;
  absl::string_view body(bytes.data(), body_size);
  if (ReadBigEndian(bytes.data() + body_size) != internal::SipHash24(kChecksumKey, body)) {
    return TokenError("the page token is corrupted or was altered");
  }
  unsigned char version = static_cast<unsigned char>(bytes[0]);
  if (version != kSeqVersion && version != kKeyVersion) {
    return TokenError("the page token was issued by an incompatible kiln version");
  }
  Decoded cursor;
  cursor.after_seq = static_cast<int64_t>(ReadBigEndian(bytes.data() + 1));
  size_t at = 9;
  if (version == kKeyVersion) {
    if (body_size < at + 4 + 8) return TokenError(kNotAToken);
    uint32_t size = 0;
    for (int i = 0; i < 4; ++i) size = (size << 8) | static_cast<unsigned char>(bytes[at + i]);
    at += 4;
    if (size == 0 || body_size != at + size + 8) return TokenError(kNotAToken);
    cursor.after_key = bytes.substr(at, size);
    at += size;
  } else if (body_size != at + 8) {
    return TokenError(kNotAToken);
  }
  if (cursor.after_seq < 0) return TokenError("not a valid page token");
  if (ReadBigEndian(bytes.data() + at) != internal::SipHash24(kFingerprintKey, query_fingerprint)) {
    return TokenError(
        "the page token was issued for a different query; keep the parent, filter and "
        "orderBy of the first request while paging, or omit the token to start over");
  }
  return cursor;
}

}  // namespace

std::string EncodePageToken(const PageCursor& cursor, absl::string_view query_fingerprint) {
  return Encode(cursor.after_seq, "", query_fingerprint);
}

absl::StatusOr<PageCursor> DecodePageToken(absl::string_view token, absl::string_view query_fingerprint) {
  if (token.empty()) return PageCursor{};
  absl::StatusOr<Decoded> decoded = Decode(token, query_fingerprint);
  if (!decoded.ok()) return decoded.status();
  if (!decoded->after_key.empty()) return TokenError("the page token was issued for a different query");
  return PageCursor{decoded->after_seq};
}

std::string EncodeKeyPageToken(absl::string_view after_key, absl::string_view query_fingerprint) {
  return Encode(0, after_key.substr(0, kMaxCursorKeyBytes), query_fingerprint);
}

absl::StatusOr<std::string> DecodeKeyPageToken(absl::string_view token, absl::string_view query_fingerprint) {
  if (token.empty()) return std::string();
  absl::StatusOr<Decoded> decoded = Decode(token, query_fingerprint);
  if (!decoded.ok()) return decoded.status();
  if (decoded->after_key.empty()) return TokenError("the page token was issued for a different query");
  return std::move(decoded->after_key);
}

absl::StatusOr<int> EffectivePageSize(int64_t page_size) {
  if (page_size < 0) return FieldError("pageSize", "must be ≥ 0");
  if (page_size == 0) return kDefaultPageSize;
  if (page_size > kMaxPageSize) return kMaxPageSize;
  return static_cast<int>(page_size);
}

}  // namespace kiln::store
