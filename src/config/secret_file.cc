#include "demandcenter/config/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "demandcenter/common/strings.h"

namespace demandcenter::config {
namespace {

// A secret's file holds the secret alone.
constexpr off_t kMaxSecretFileBytes = 64 << 10;

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
  if (st.st_size > kMaxSecretFileBytes) {
    ::close(fd);
    return FileError(StrCat("is ", st.st_size, " bytes; a ", what, " file holds the ", what, " alone (at most ",
                            kMaxSecretFileBytes, ")"));
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

}  // namespace demandcenter::config
