// LogLine: one whole line to stderr.
#include "demandcenter/common/log.h"

#include <cstdio>
#include <string>

namespace demandcenter {

void LogLine(std::string_view message) {
  std::string line = "demandcenter: ";
  line.append(message);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace demandcenter
