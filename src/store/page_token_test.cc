#include "store/page_token.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/siphash.h"

namespace kiln::store {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string& Fingerprint() {
  static const std::string* fp =
      new std::string(QueryFingerprint({"customJobs", "projects/p/locations/l", "state=1", ""}));
  return *fp;
}

TEST(SipHashTest, ReferenceVectors) {
  // From the SipHash paper: key 00..0f; messages 00..(n-1).
  internal::SipKey key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
  std::string message;
  EXPECT_EQ(internal::SipHash24(key, message), 0x726fdb47dd0e0e31ULL);
  for (int i = 0; i < 15; ++i) message.push_back(static_cast<char>(i));
  EXPECT_EQ(internal::SipHash24(key, message), 0xa129ca6149be45e5ULL);
}

TEST(PageTokenTest, RoundTrip) {
  for (int64_t seq : {int64_t{0}, int64_t{1}, int64_t{123456789}, INT64_MAX}) {
    std::string token = EncodePageToken({seq}, Fingerprint());
    EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos)
        << token;
    absl::StatusOr<PageCursor> cursor = DecodePageToken(token, Fingerprint());
    ASSERT_TRUE(cursor.ok()) << cursor.status();
    EXPECT_EQ(cursor->after_seq, seq);
  }
  // Deterministic: the same cursor and query give the same token (stable across restarts).
  EXPECT_EQ(EncodePageToken({42}, Fingerprint()), EncodePageToken({42}, Fingerprint()));
}

TEST(PageTokenTest, EmptyTokenIsTheFirstPage) {
  absl::StatusOr<PageCursor> cursor = DecodePageToken("", Fingerprint());
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(cursor->after_seq, 0);
}

TEST(PageTokenTest, GarbageIsRejected) {
  for (const char* garbage : {"x", "not a token!", "AAAA", "////", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
    absl::StatusOr<PageCursor> cursor = DecodePageToken(garbage, Fingerprint());
    ASSERT_FALSE(cursor.ok()) << garbage;
    EXPECT_EQ(cursor.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(cursor.status().message()), StartsWith("pageToken: "));
  }
  // Padding or extra characters make a different (rejected) string.
  std::string token = EncodePageToken({7}, Fingerprint());
  EXPECT_FALSE(DecodePageToken(token + "=", Fingerprint()).ok());
  EXPECT_FALSE(DecodePageToken(token + "A", Fingerprint()).ok());
  EXPECT_FALSE(DecodePageToken(token.substr(1), Fingerprint()).ok());
}

TEST(PageTokenTest, TamperedTokenIsRejected) {
  std::string token = EncodePageToken({1000}, Fingerprint());
  for (size_t i = 0; i < token.size(); ++i) {
    std::string tampered = token;
    tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
    absl::StatusOr<PageCursor> cursor = DecodePageToken(tampered, Fingerprint());
    ASSERT_FALSE(cursor.ok()) << "position " << i;
    EXPECT_EQ(cursor.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(cursor.status().message()), StartsWith("pageToken: "));
  }
}

TEST(PageTokenTest, TokenForAnotherQueryIsRejected) {
  std::string token = EncodePageToken({5}, Fingerprint());
  std::string other_filter = QueryFingerprint({"customJobs", "projects/p/locations/l", "state=2", ""});
  std::string other_parent = QueryFingerprint({"customJobs", "projects/p/locations/m", "state=1", ""});
  for (const std::string& fp : {other_filter, other_parent}) {
    absl::StatusOr<PageCursor> cursor = DecodePageToken(token, fp);
    ASSERT_FALSE(cursor.ok());
    EXPECT_EQ(cursor.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(cursor.status().message()), HasSubstr("different query"));
  }
}

TEST(PageTokenTest, KeyCursorsRoundTripAndAreCheckedLikeSeqCursors) {
  std::string fp = QueryFingerprint({"entries", "projects/p", "", "timestamp asc"});
  EXPECT_EQ(*DecodeKeyPageToken("", fp), "");
  for (std::string key : {std::string("k"), std::string("00000001700000000|job.workerpool0-0.0000000000000042"),
                          std::string(kMaxCursorKeyBytes, 'z'), std::string("a\0b", 3)}) {
    std::string token = EncodeKeyPageToken(key, fp);
    absl::StatusOr<std::string> cursor = DecodeKeyPageToken(token, fp);
    ASSERT_TRUE(cursor.ok()) << cursor.status();
    EXPECT_EQ(*cursor, key);
    // Another query, a seq token's decoder, or any flipped byte: refused.
    EXPECT_THAT(std::string(DecodeKeyPageToken(token, fp + "x").status().message()), HasSubstr("different query"));
    EXPECT_THAT(std::string(DecodePageToken(token, fp).status().message()), HasSubstr("different query"));
    std::string bytes;
    ASSERT_TRUE(absl::WebSafeBase64Unescape(token, &bytes));
    for (size_t i = 0; i < bytes.size(); i += 7) {
      std::string altered = bytes;
      altered[i] = static_cast<char>(altered[i] ^ 0x20);
      EXPECT_FALSE(DecodeKeyPageToken(absl::WebSafeBase64Escape(altered), fp).ok()) << i;
    }
  }
  EXPECT_THAT(std::string(DecodeKeyPageToken(EncodePageToken({5}, fp), fp).status().message()),
              HasSubstr("different query"));
  // A key token cut short is not a token.
  std::string bytes;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(EncodeKeyPageToken("abc", fp), &bytes));
  EXPECT_FALSE(DecodeKeyPageToken(absl::WebSafeBase64Escape(bytes.substr(0, bytes.size() - 1)), fp).ok());
}

TEST(PageTokenTest, FingerprintIsUnambiguous) {
  EXPECT_NE(QueryFingerprint({"a", "bc"}), QueryFingerprint({"ab", "c"}));
  EXPECT_NE(QueryFingerprint({"a", ""}), QueryFingerprint({"a"}));
}

TEST(PageSizeTest, Rules) {
  EXPECT_EQ(*EffectivePageSize(0), kDefaultPageSize);
  EXPECT_EQ(kDefaultPageSize, 100);
  EXPECT_EQ(kMaxPageSize, 1000);
  EXPECT_EQ(*EffectivePageSize(1), 1);
  EXPECT_EQ(*EffectivePageSize(1000), 1000);
  EXPECT_EQ(*EffectivePageSize(1001), kMaxPageSize);
  EXPECT_EQ(*EffectivePageSize(INT64_MAX), kMaxPageSize);
  absl::StatusOr<int> negative = EffectivePageSize(-1);
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status(), absl::InvalidArgumentError("pageSize: must be ≥ 0"));
}

}  // namespace
}  // namespace kiln::store
