// ParseConfig on arbitrary bytes: it never crashes, never runs away, and
// answers either a config or at least one error, each naming the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "demandcenter/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  demandcenter::config::ParseResult result = demandcenter::config::ParseConfig(text, "fuzz.yaml");
  if (result.config.has_value() == !result.errors.empty()) std::abort();  // one or the other
  for (const auto& e : result.errors) {
    if (e.file != "fuzz.yaml" || e.message.empty()) std::abort();
  }
  return 0;
}
