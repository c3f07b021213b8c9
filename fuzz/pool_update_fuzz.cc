// ParsePoolUpdateLine on arbitrary bytes: no crash, and every refusal is
// one line of printable ASCII (nothing of the input raw, none of the JSON
// parser's snippet).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "demandcenter/replay/pool_update_line.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  demandcenter::v1::PoolUpdateLine update;
  absl::Status s = demandcenter::replay::ParsePoolUpdateLine(line, &update);
  if (s.ok()) return 0;
  std::string message(s.message());
  if (message.empty()) std::abort();
  for (char c : message) {
    if (c < 0x20 || c > 0x7e) std::abort();
  }
  return 0;
}
