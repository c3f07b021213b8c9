// The engine's operational log: one line per event on stderr, prefixed
// "demandcenter: " (what a supervisor such as systemd or Kubernetes
// collects). Thread safe: each line is written whole.
#ifndef DEMANDCENTER_COMMON_LOG_H_
#define DEMANDCENTER_COMMON_LOG_H_

#include <string_view>

namespace demandcenter {

void LogLine(std::string_view message);

}  // namespace demandcenter

#endif  // DEMANDCENTER_COMMON_LOG_H_
