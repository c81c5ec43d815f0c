#include "store/page_token.h"

#include <string>

#include "absl/status/status.h"
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
    EXPECT_EQ(token.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
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
  std::string other_filter =
      QueryFingerprint({"customJobs", "projects/p/locations/l", "state=2", ""});
  std::string other_parent =
      QueryFingerprint({"customJobs", "projects/p/locations/m", "state=1", ""});
  for (const std::string& fp : {other_filter, other_parent}) {
    absl::StatusOr<PageCursor> cursor = DecodePageToken(token, fp);
    ASSERT_FALSE(cursor.ok());
    EXPECT_EQ(cursor.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(cursor.status().message()), HasSubstr("different query"));
  }
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
