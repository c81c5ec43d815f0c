#include "client/client_config.h"

#include <stdlib.h>

#include <string>

#include "client/client_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::client {
namespace {

using ::testing::HasSubstr;

class ClientConfigTest : public ::testing::Test {
 protected:
  ScopedClientEnv env_;
};

TEST_F(ClientConfigTest, DefaultsWhenNothingIsSet) {
  absl::StatusOr<ClientConfig> config = ResolveClientConfig({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->endpoint, "http://127.0.0.1:8080");
  EXPECT_EQ(config->region, "us-central1");
  EXPECT_EQ(config->project, "");
  EXPECT_EQ(config->token, "");
  EXPECT_FALSE(config->format.has_value());
  EXPECT_EQ(config->config_path, env_.DefaultConfigPath());
}

TEST_F(ClientConfigTest, DefaultConfigFileSuppliesEveryKey) {
  ScopedClientEnv::WriteFile(env_.DefaultConfigPath(),
                             "endpoint: http://localhost:9000\n"
                             "token: file-token\n"
                             "project: file-project\n"
                             "region: europe-west4\n"
                             "format: json\n");
  absl::StatusOr<ClientConfig> config = ResolveClientConfig({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->endpoint, "http://localhost:9000");
  EXPECT_EQ(config->token, "file-token");
  EXPECT_EQ(config->project, "file-project");
  EXPECT_EQ(config->region, "europe-west4");
  EXPECT_EQ(config->format, OutputFormat::kJson);
}

TEST_F(ClientConfigTest, FlagsBeatEnvironmentBeatsFile) {
  ScopedClientEnv::WriteFile(env_.DefaultConfigPath(),
                             "endpoint: http://127.0.0.1:1111\n"
                             "project: file-project\n"
                             "region: file-region\n"
                             "format: json\n");
  setenv("KILN_PROJECT", "env-project", 1);
  setenv("KILN_REGION", "env-region", 1);
  setenv("KILN_ENDPOINT", "http://127.0.0.1:2222", 1);

  // Environment over file; the file still supplies what env lacks (format).
  absl::StatusOr<ClientConfig> config = ResolveClientConfig({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->project, "env-project");
  EXPECT_EQ(config->region, "env-region");
  EXPECT_EQ(config->endpoint, "http://127.0.0.1:2222");
  EXPECT_EQ(config->format, OutputFormat::kJson);

  // Flags over both.
  ConfigFlags flags;
  flags.project = "flag-project";
  flags.region = "flag-region";
  flags.endpoint = "http://127.0.0.1:3333";
  flags.format = "yaml";
  config = ResolveClientConfig(flags);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->project, "flag-project");
  EXPECT_EQ(config->region, "flag-region");
  EXPECT_EQ(config->endpoint, "http://127.0.0.1:3333");
  EXPECT_EQ(config->format, OutputFormat::kYaml);
}

TEST_F(ClientConfigTest, EmptyEnvironmentValuesCountAsUnset) {
  ScopedClientEnv::WriteFile(env_.DefaultConfigPath(), "project: from-file\n");
  setenv("KILN_PROJECT", "", 1);
  absl::StatusOr<ClientConfig> config = ResolveClientConfig({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->project, "from-file");
}

TEST_F(ClientConfigTest, ConfigFileFlagBeatsKilnConfigBeatsDefaultPath) {
  ScopedClientEnv::WriteFile(env_.DefaultConfigPath(), "project: default\n");
  const std::string from_env = ScopedClientEnv::WriteFile(env_.dir() + "/env.yaml", "project: from-kiln-config\n");
  const std::string from_flag = ScopedClientEnv::WriteFile(env_.dir() + "/flag.yaml", "project: from-flag-file\n");

  setenv("KILN_CONFIG", from_env.c_str(), 1);
  absl::StatusOr<ClientConfig> config = ResolveClientConfig({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->project, "from-kiln-config");
  EXPECT_EQ(config->config_path, from_env);

  ConfigFlags flags;
  flags.config_file = from_flag;
  config = ResolveClientConfig(flags);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->project, "from-flag-file");
}

TEST_F(ClientConfigTest, NamedConfigFileMustExist) {
  ConfigFlags flags;
  flags.config_file = env_.dir() + "/missing.yaml";
  absl::StatusOr<ClientConfig> config = ResolveClientConfig(flags);
  EXPECT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(config.status().message(), HasSubstr("missing.yaml"));
  EXPECT_THAT(config.status().message(), HasSubstr("--config-file"));
}

TEST_F(ClientConfigTest, UnknownKeyAndBadYamlAreErrors) {
  ScopedClientEnv::WriteFile(env_.DefaultConfigPath(), "projet: typo\n");
  absl::StatusOr<ClientConfig> config = ResolveClientConfig({});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("unknown key \"projet\""));

  ScopedClientEnv::WriteFile(env_.DefaultConfigPath(), "project: [unclosed\n");
  config = ResolveClientConfig({});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("cannot read config file"));

  ScopedClientEnv::WriteFile(env_.DefaultConfigPath(), "- a\n- b\n");
  config = ResolveClientConfig({});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientConfigTest, TokenPrecedence) {
  const std::string token_file = ScopedClientEnv::WriteFile(env_.dir() + "/tok", "  from-env-file\n");
  ScopedClientEnv::WriteFile(env_.DefaultConfigPath(), "token: from-config\n");

  absl::StatusOr<ClientConfig> config = ResolveClientConfig({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->token, "from-config");

  setenv("KILN_TOKEN_FILE", token_file.c_str(), 1);
  config = ResolveClientConfig({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->token, "from-env-file");

  setenv("KILN_TOKEN", "from-env", 1);
  config = ResolveClientConfig({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->token, "from-env");
}

TEST_F(ClientConfigTest, ConfigTokenFileIsRelativeToTheConfigFile) {
  ScopedClientEnv::WriteFile(env_.dir() + "/kiln/secret", "abc\n");
  ScopedClientEnv::WriteFile(env_.DefaultConfigPath(), "token_file: secret\n");
  absl::StatusOr<ClientConfig> config = ResolveClientConfig({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->token, "abc");
}

TEST_F(ClientConfigTest, UnreadableOrEmptyTokenFileIsAnError) {
  setenv("KILN_TOKEN_FILE", (env_.dir() + "/nope").c_str(), 1);
  absl::StatusOr<ClientConfig> config = ResolveClientConfig({});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(config.status().message(), HasSubstr("KILN_TOKEN_FILE"));

  const std::string empty = ScopedClientEnv::WriteFile(env_.dir() + "/empty", " \n");
  setenv("KILN_TOKEN_FILE", empty.c_str(), 1);
  config = ResolveClientConfig({});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(config.status().message(), HasSubstr("is empty"));
}

TEST_F(ClientConfigTest, MissingProjectNamesTheThreeWaysToSetIt) {
  absl::StatusOr<ClientConfig> config = ResolveClientConfig({});
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<std::string> location = LocationName(*config);
  EXPECT_EQ(location.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(location.status().message(), HasSubstr("--project"));
  EXPECT_THAT(location.status().message(), HasSubstr("KILN_PROJECT"));
  EXPECT_THAT(location.status().message(), HasSubstr(env_.DefaultConfigPath()));
}

TEST_F(ClientConfigTest, LocationNameJoinsProjectAndRegion) {
  ConfigFlags flags;
  flags.project = "demo";
  absl::StatusOr<ClientConfig> config = ResolveClientConfig(flags);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(LocationName(*config).value(), "projects/demo/locations/us-central1");
}

TEST_F(ClientConfigTest, BadValuesNameTheirSource) {
  setenv("KILN_ENDPOINT", "localhost:8080", 1);
  absl::StatusOr<ClientConfig> config = ResolveClientConfig({});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("http://HOST:PORT"));
  EXPECT_THAT(config.status().message(), HasSubstr("KILN_ENDPOINT"));
  unsetenv("KILN_ENDPOINT");

  ConfigFlags flags;
  flags.region = "us/central";
  config = ResolveClientConfig(flags);
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("--region"));

  flags = {};
  flags.format = "xml";
  config = ResolveClientConfig(flags);
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("json, yaml or table"));
}

TEST(ParseEndpointTest, AcceptsHttpHostPort) {
  absl::StatusOr<Endpoint> endpoint = ParseEndpoint("http://127.0.0.1:8080");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->host, "127.0.0.1");
  EXPECT_EQ(endpoint->port, 8080);

  endpoint = ParseEndpoint("http://my-host.local:9/");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->host, "my-host.local");
  EXPECT_EQ(endpoint->port, 9);

  endpoint = ParseEndpoint("http://[::1]:65535");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->host, "::1");
  EXPECT_EQ(endpoint->port, 65535);
}

TEST(ParseEndpointTest, RejectsEverythingElse) {
  for (const char* bad : {"", "127.0.0.1:8080", "http://", "http://host", "http://host:", "http://:80", "http://host:0",
                          "http://host:65536", "http://host:8x", "http://host:80/v1", "http://a:b:80", "ftp://host:21",
                          "http://[::1]", "http://ho st:80"}) {
    absl::StatusOr<Endpoint> endpoint = ParseEndpoint(bad);
    EXPECT_EQ(endpoint.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(endpoint.status().message(), HasSubstr("http://HOST:PORT")) << bad;
  }
  EXPECT_THAT(ParseEndpoint("https://host:443").status().message(), HasSubstr("https is not supported"));
}

}  // namespace
}  // namespace kiln::client
