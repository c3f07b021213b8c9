// ReadKafkaPassword: the SASL password from an environment variable or a
// file, at start-up. No message says anything of the secret.
#include "demandcenter/config/kafka_password.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "demandcenter/common/strings.h"

namespace demandcenter::config {
namespace {

// A secret's file holds the secret alone.
constexpr off_t kMaxPasswordFileBytes = 64 << 10;

}  // namespace

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, std::string_view key, std::string_view what) {
  auto FileError = [&](std::string_view why) {
    return absl::FailedPreconditionError(StrCat(key, ": ", path, ": ", why));
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FileError(StrCat("cannot read it (", std::strerror(errno), ")"));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return FileError(StrCat("is not a regular file; name the file that holds the ", what));
  }
  if (st.st_size > kMaxPasswordFileBytes) {
    ::close(fd);
    return FileError(StrCat("is ", st.st_size, " bytes; a ", what, " file holds the ", what, " alone (at most ",
                            kMaxPasswordFileBytes, ")"));
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      return FileError(StrCat("cannot read it (", std::strerror(error), ")"));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  // The newline an editor or `echo` leaves is not part of the secret.
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) return FileError("is empty");
  return text;
}

absl::StatusOr<std::string> ReadKafkaPassword(const KafkaSecurity& security) {
  if (!security.UsesSasl()) return std::string();
  if (!security.password_env.empty()) {
    const char* value = std::getenv(security.password_env.c_str());
    if (value == nullptr) {
      return absl::FailedPreconditionError(StrCat("kafka.security.password_env: the environment variable ",
                                                  security.password_env, " is not set (it holds the password of ",
                                                  "Kafka user ", security.username, ")"));
    }
    if (*value == '\0') {
      return absl::FailedPreconditionError(StrCat("kafka.security.password_env: the environment variable ",
                                                  security.password_env, " is empty"));
    }
    return std::string(value);
  }
  if (!security.password_file.empty()) {
    return ReadSecretFile(security.password_file, "kafka.security.password_file", "password");
  }
  return absl::FailedPreconditionError(StrCat("kafka.security: protocol ", security.protocol,
                                              " needs password_env or password_file"));
}

}  // namespace demandcenter::config
