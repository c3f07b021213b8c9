// Secrets read from files at start-up (kafka.security.password_file,
// http.token_file): one reader, one set of checks, errors that name the
// config key and the file and never the secret.
#ifndef DEMANDCENTER_CONFIG_SECRET_FILE_H_
#define DEMANDCENTER_CONFIG_SECRET_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace demandcenter::config {

// A secret (`what`: "password", "token") from the file at `path`, named by
// the config `key` in errors: a regular file of at most 64 KiB, its one
// trailing newline (LF or CRLF) dropped, not empty. Errors
// (kFailedPrecondition) name the key and the file, never the content.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path, std::string_view key, std::string_view what);

}  // namespace demandcenter::config

#endif  // DEMANDCENTER_CONFIG_SECRET_FILE_H_
