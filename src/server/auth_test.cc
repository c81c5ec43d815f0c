#include "server/auth.h"

#include "gtest/gtest.h"

namespace kiln::server {
namespace {

constexpr char kTokens[] = R"(
tokens:
  - token: "rw-token-0123456789"
    projects: ["alpha"]
  - token: "ro-token-0123456789"
    projects: ["*"]
    access: read-only
    name: viewer
)";

TEST(TokenAuthorizerTest, ChecksTokenProjectAndAccess) {
  auto auth = TokenAuthorizer::LoadYaml(kTokens);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_TRUE(auth->Authorize("Bearer rw-token-0123456789", "alpha", true).ok());
  EXPECT_TRUE(auth->Authorize("bearer  rw-token-0123456789 ", "alpha", false).ok());
  EXPECT_EQ(auth->Authorize("", "alpha", false).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth->Authorize("Basic abc", "alpha", false).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth->Authorize("Bearer wrong-token-0123456", "alpha", false).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth->Authorize("Bearer rw-token-0123456789", "beta", false).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(auth->Authorize("Bearer ro-token-0123456789", "beta", false).ok());
  absl::Status s = auth->Authorize("Bearer ro-token-0123456789", "beta", true);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "Permission denied: token 'viewer' is read-only.");
}

TEST(TokenAuthorizerTest, RejectsBadFilesNamingTheEntry) {
  EXPECT_EQ(TokenAuthorizer::LoadYaml("tokens: []").status().message(), "tokens: must be a non-empty list");
  EXPECT_EQ(TokenAuthorizer::LoadYaml("tokens: [{token: short, projects: [a]}]").status().message(),
            "tokens[0].token: must be at least 16 characters");
  EXPECT_EQ(TokenAuthorizer::LoadYaml("tokens: [{token: aaaaaaaaaaaaaaaaaaaa}]").status().message(),
            "tokens[0].projects: must be a non-empty list (\"*\" for all)");
  EXPECT_EQ(TokenAuthorizer::LoadYaml("tokens: [{token: aaaaaaaaaaaaaaaaaaaa, projects: [a], access: admin}]")
                .status()
                .message(),
            "tokens[0].access: must be read-write or read-only");
  EXPECT_EQ(TokenAuthorizer::LoadYaml(
                "tokens: [{token: aaaaaaaaaaaaaaaaaaaa, projects: [a]}, {token: aaaaaaaaaaaaaaaaaaaa, projects: [a]}]")
                .status()
                .message(),
            "tokens[1].token: duplicate");
  EXPECT_FALSE(TokenAuthorizer::LoadYaml("tokens: [").ok());
  EXPECT_EQ(TokenAuthorizer::LoadFile("/nonexistent/tokens.yaml").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace kiln::server
