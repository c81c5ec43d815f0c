#include "common/sha256.h"

#include <string>

#include "gtest/gtest.h"

namespace kiln {
namespace {

// FIPS 180-2 appendix B and the empty message.
constexpr char kEmpty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char kTwoBlocks[] = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr char kMillionA[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

TEST(Sha256Test, OneShotMatchesKnownVectors) {
  EXPECT_EQ(Sha256Hex("").value(), kEmpty);
  EXPECT_EQ(Sha256Hex("abc").value(), kAbc);
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").value(), kTwoBlocks);
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')).value(), kMillionA);
}

TEST(Sha256Test, RawDigestIsThirtyTwoBytesOfTheHex) {
  std::string raw = Sha256Digest("abc").value();
  ASSERT_EQ(raw.size(), Sha256::kDigestBytes);
  EXPECT_EQ(HexEncode(raw), kAbc);
}

TEST(Sha256Test, StreamingEqualsOneShotWhateverTheChunks) {
  Sha256 pieces;
  pieces.Update("abcdbcdecdefdefg");
  pieces.Update("");
  pieces.Update("efghfghighijhijkijkljklmklmnlmnomnopnopq", 40);
  EXPECT_EQ(pieces.FinalHex().value(), kTwoBlocks);

  Sha256 million;
  const std::string chunk(999, 'a');  // not a multiple of the 64-byte block
  for (int i = 0; i < 1001; ++i) million.Update(chunk);
  million.Update(std::string(1, 'a'));
  EXPECT_EQ(million.FinalHex().value(), kMillionA);
}

TEST(Sha256Test, LittleEndian64AppendsEightBytesLeastSignificantFirst) {
  Sha256 framed;
  framed.UpdateLittleEndian64(3);
  framed.Update("abc");
  Sha256 spelled;
  spelled.Update(std::string("\x03\0\0\0\0\0\0\0abc", 11));
  EXPECT_EQ(framed.FinalHex().value(), spelled.FinalHex().value());

  Sha256 wide;
  wide.UpdateLittleEndian64(0x0102030405060708ull);
  EXPECT_EQ(wide.FinalHex().value(), Sha256Hex("\x08\x07\x06\x05\x04\x03\x02\x01").value());
}

TEST(Sha256Test, DigestCanBeTakenOnce) {
  Sha256 hash;
  hash.Update("abc");
  ASSERT_TRUE(hash.Final().ok());
  absl::StatusOr<std::string> again = hash.FinalHex();
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.status().message(), "SHA-256: the digest was already taken");
}

TEST(Sha256Test, HexEncodesEveryByteWithTwoLowercaseDigits) {
  EXPECT_EQ(HexEncode(std::string("\x00\x0f\xa0\xff", 4)), "000fa0ff");
  EXPECT_EQ(HexEncode(""), "");
}

}  // namespace
}  // namespace kiln
