// kafka.security: what the parser accepts and refuses, and how the password
// is read at start-up (ReadKafkaPassword).
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "demandcenter/config/config.h"
#include "demandcenter/config/kafka_password.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace demandcenter::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The smallest config that parses; the security section follows it (line 2).
constexpr char kHead[] = "journey: {stages: [a]}\nkafka:\n  security:\n";

ParseResult ParseSecurity(const std::string& lines) { return ParseConfig(kHead + lines, "dc.yaml"); }

// Every error message of `result`, one per line.
std::string Errors(const ParseResult& result) {
  std::string all;
  for (const auto& e : result.errors) all += e.ToString() + "\n";
  return all;
}

TEST(KafkaSecurityTest, DefaultIsPlaintext) {
  ParseResult result = ParseConfig("journey: {stages: [a]}\n", "dc.yaml");
  ASSERT_TRUE(result.errors.empty()) << Errors(result);
  const KafkaSecurity& s = result.config->runtime.kafka.security;
  EXPECT_EQ(s.protocol, "plaintext");
  EXPECT_FALSE(s.UsesSasl());
  EXPECT_FALSE(s.UsesTls());
}

TEST(KafkaSecurityTest, SaslWithThePasswordInAnEnvironmentVariable) {
  ParseResult result = ParseSecurity(
      "    protocol: SASL_PLAINTEXT\n"
      "    sasl_mechanism: scram-sha-256\n"
      "    username: demandcenter\n"
      "    password_env: DC_KAFKA_PASSWORD\n");
  ASSERT_TRUE(result.errors.empty()) << Errors(result);
  const KafkaSecurity& s = result.config->runtime.kafka.security;
  // librdkafka's spellings, whatever the case written.
  EXPECT_EQ(s.protocol, "sasl_plaintext");
  EXPECT_EQ(s.sasl_mechanism, "SCRAM-SHA-256");
  EXPECT_EQ(s.username, "demandcenter");
  EXPECT_EQ(s.password_env, "DC_KAFKA_PASSWORD");
  EXPECT_TRUE(s.password_file.empty());
  EXPECT_TRUE(s.UsesSasl());
  EXPECT_FALSE(s.UsesTls());
}

TEST(KafkaSecurityTest, SaslSslWithAPasswordFileAndClientCertificate) {
  ParseResult result = ParseSecurity(
      "    protocol: sasl_ssl\n"
      "    sasl_mechanism: SCRAM-SHA-512\n"
      "    username: dc\n"
      "    password_file: /run/secrets/kafka\n"
      "    ca_location: /etc/kafka/ca.pem\n"
      "    certificate_location: /etc/kafka/client.pem\n"
      "    key_location: /etc/kafka/client.key\n");
  ASSERT_TRUE(result.errors.empty()) << Errors(result);
  const KafkaSecurity& s = result.config->runtime.kafka.security;
  EXPECT_EQ(s.protocol, "sasl_ssl");
  EXPECT_EQ(s.password_file, "/run/secrets/kafka");
  EXPECT_EQ(s.ca_location, "/etc/kafka/ca.pem");
  EXPECT_EQ(s.key_location, "/etc/kafka/client.key");
  EXPECT_TRUE(s.UsesSasl());
  EXPECT_TRUE(s.UsesTls());
  ParseResult ssl = ParseSecurity("    protocol: ssl\n    ca_location: /etc/kafka/ca.pem\n");
  ASSERT_TRUE(ssl.errors.empty()) << Errors(ssl);
  EXPECT_FALSE(ssl.config->runtime.kafka.security.UsesSasl());
}

TEST(KafkaSecurityTest, AnInlinePasswordIsRefusedWithoutBeingEchoed) {
  ParseResult result = ParseSecurity(
      "    protocol: sasl_plaintext\n"
      "    sasl_mechanism: PLAIN\n"
      "    username: dc\n"
      "    password: hunter2-secret\n");
  ASSERT_FALSE(result.config.has_value());
  std::string errors = Errors(result);
  EXPECT_THAT(errors, HasSubstr("dc.yaml:7:5: kafka.security.password: a password is never written in the config"));
  EXPECT_THAT(errors, HasSubstr("password_env"));
  EXPECT_THAT(errors, HasSubstr("needs the password's source"));
  EXPECT_THAT(errors, Not(HasSubstr("hunter2")));
}

TEST(KafkaSecurityTest, SaslNeedsMechanismUserAndOnePasswordSource) {
  ParseResult result = ParseSecurity("    protocol: sasl_ssl\n");
  EXPECT_EQ(Errors(result),
            "dc.yaml:4:5: kafka.security: protocol sasl_ssl needs sasl_mechanism (PLAIN, SCRAM-SHA-256, "
            "SCRAM-SHA-512)\n"
            "dc.yaml:4:5: kafka.security: protocol sasl_ssl needs username\n"
            "dc.yaml:4:5: kafka.security: protocol sasl_ssl needs the password's source: password_env (an "
            "environment variable) or password_file (a file)\n");
  ParseResult both = ParseSecurity(
      "    protocol: sasl_plaintext\n    sasl_mechanism: PLAIN\n    username: dc\n"
      "    password_env: DC_PASSWORD\n    password_file: /run/secrets/kafka\n");
  EXPECT_EQ(Errors(both), "dc.yaml:8:20: kafka.security: give password_env or password_file, not both\n");
}

TEST(KafkaSecurityTest, SettingsTheProtocolDoesNotUse) {
  ParseResult sasl_keys = ParseSecurity("    username: dc\n    password_env: DC_PASSWORD\n");
  EXPECT_EQ(Errors(sasl_keys),
            "dc.yaml:4:15: kafka.security.username is only used with protocol sasl_plaintext or sasl_ssl "
            "(protocol is plaintext)\n"
            "dc.yaml:5:19: kafka.security.password_env is only used with protocol sasl_plaintext or sasl_ssl "
            "(protocol is plaintext)\n");
  ParseResult tls_keys = ParseSecurity(
      "    protocol: sasl_plaintext\n    sasl_mechanism: PLAIN\n    username: dc\n"
      "    password_env: DC_PASSWORD\n    ca_location: /etc/kafka/ca.pem\n");
  EXPECT_EQ(Errors(tls_keys),
            "dc.yaml:8:18: kafka.security.ca_location is only used with protocol ssl or sasl_ssl (protocol is "
            "sasl_plaintext)\n");
  ParseResult half = ParseSecurity("    protocol: ssl\n    certificate_location: /etc/kafka/client.pem\n");
  EXPECT_EQ(Errors(half),
            "dc.yaml:5:27: kafka.security: a client certificate needs both certificate_location and "
            "key_location\n");
}

TEST(KafkaSecurityTest, UnknownValuesAndBadVariableNames) {
  ParseResult protocol = ParseSecurity("    protocol: sasl_plaintxt\n    username: dc\n");
  // An unknown protocol says so once; what it would need is not guessed.
  EXPECT_EQ(Errors(protocol),
            "dc.yaml:4:15: kafka.security.protocol must be one of plaintext, ssl, sasl_plaintext, sasl_ssl, got "
            "\"sasl_plaintxt\" (did you mean \"sasl_plaintext\"?)\n");
  ParseResult mechanism = ParseSecurity(
      "    protocol: sasl_plaintext\n    sasl_mechanism: SCRAM\n    username: dc\n    password_env: P\n");
  EXPECT_THAT(Errors(mechanism), HasSubstr("dc.yaml:5:21: kafka.security.sasl_mechanism must be one of PLAIN, "
                                           "SCRAM-SHA-256, SCRAM-SHA-512, got \"SCRAM\""));
  ParseResult env = ParseSecurity(
      "    protocol: sasl_plaintext\n    sasl_mechanism: PLAIN\n    username: dc\n    password_env: \"s3cr3t!\"\n");
  EXPECT_THAT(Errors(env), HasSubstr("dc.yaml:7:19: kafka.security.password_env is the name of the environment "
                                     "variable that holds the password"));
  EXPECT_THAT(Errors(env), Not(HasSubstr("s3cr3t")));
  ParseResult unknown = ParseSecurity("    protocl: ssl\n");
  EXPECT_THAT(Errors(unknown), HasSubstr("unknown field \"protocl\" in kafka.security (did you mean \"protocol\"?)"));
  ParseResult empty = ParseSecurity(
      "    protocol: sasl_plaintext\n    sasl_mechanism: PLAIN\n    username: \"\"\n    password_env: P\n");
  EXPECT_EQ(Errors(empty), "dc.yaml:6:15: kafka.security.username is empty\n");
}

// ReadKafkaPassword ------------------------------------------------------

KafkaSecurity Sasl() {
  KafkaSecurity s;
  s.protocol = "sasl_plaintext";
  s.sasl_mechanism = "SCRAM-SHA-256";
  s.username = "dc";
  return s;
}

class PasswordFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("dc-kafka-password-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST(ReadKafkaPasswordTest, NoneWithoutSasl) {
  KafkaSecurity plain;
  plain.password_env = "DC_TEST_NEVER_SET";
  auto password = ReadKafkaPassword(plain);
  ASSERT_TRUE(password.ok()) << password.status();
  EXPECT_EQ(*password, "");
}

TEST(ReadKafkaPasswordTest, FromTheEnvironment) {
  KafkaSecurity s = Sasl();
  s.password_env = "DC_TEST_KAFKA_PASSWORD";
  ::unsetenv("DC_TEST_KAFKA_PASSWORD");
  auto missing = ReadKafkaPassword(s);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("the environment variable DC_TEST_KAFKA_PASSWORD is not set"));
  ::setenv("DC_TEST_KAFKA_PASSWORD", "", 1);
  auto empty = ReadKafkaPassword(s);
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("DC_TEST_KAFKA_PASSWORD is empty"));
  ::setenv("DC_TEST_KAFKA_PASSWORD", "pa ss\nword", 1);
  auto set = ReadKafkaPassword(s);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(*set, "pa ss\nword");  // as it is: only a file's newline is dropped
  ::unsetenv("DC_TEST_KAFKA_PASSWORD");
}

TEST_F(PasswordFileTest, OneTrailingNewlineIsDropped) {
  KafkaSecurity s = Sasl();
  for (auto [text, want] : {std::pair{"secret-1\n", "secret-1"}, {"secret-2", "secret-2"},
                            {"secret-3\r\n", "secret-3"}, {"secret-4\n\n", "secret-4\n"}}) {
    s.password_file = Write("password", text);
    auto password = ReadKafkaPassword(s);
    ASSERT_TRUE(password.ok()) << password.status();
    EXPECT_EQ(*password, want);
  }
}

TEST_F(PasswordFileTest, ProblemsNameTheFileNotTheSecret) {
  KafkaSecurity s = Sasl();
  s.password_file = (dir_ / "absent").string();
  auto missing = ReadKafkaPassword(s);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "kafka.security.password_file: " + s.password_file + ": cannot read it (No such file or directory)");
  s.password_file = dir_.string();
  auto directory = ReadKafkaPassword(s);
  ASSERT_FALSE(directory.ok());
  EXPECT_THAT(directory.status().message(), HasSubstr("is not a regular file"));
  s.password_file = Write("empty", "\n");
  auto empty = ReadKafkaPassword(s);
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("empty: is empty"));
  s.password_file = Write("big", std::string(70000, 'x') + "unique-secret-tail");
  auto big = ReadKafkaPassword(s);
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.status().message(), HasSubstr("a password file holds the password alone"));
  EXPECT_THAT(big.status().message(), Not(HasSubstr("unique-secret-tail")));
  if (::geteuid() != 0) {  // root reads any file
    s.password_file = Write("unreadable", "secret");
    std::filesystem::permissions(s.password_file, std::filesystem::perms::none);
    auto unreadable = ReadKafkaPassword(s);
    ASSERT_FALSE(unreadable.ok());
    EXPECT_THAT(unreadable.status().message(), HasSubstr("cannot read it (Permission denied)"));
  }
}

}  // namespace
}  // namespace demandcenter::config
