// `demandcenter demo`: everything on one machine with no set-up — an
// embedded Kafka (librdkafka's mock cluster, or a real cluster when
// bootstrap servers are given), a producer of generated account journeys,
// the engine with the default config, and a live view of what it decides.
#ifndef DEMANDCENTER_DEMO_DEMO_H_
#define DEMANDCENTER_DEMO_DEMO_H_

#include <atomic>
#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "demandcenter/config/config.h"

namespace demandcenter::demo {

struct DemoOptions {
  // Stop after this long (0 = until stopped).
  int64_t duration_ms = 0;
  // Real cluster instead of the embedded one (its topics must exist).
  std::string bootstrap_servers;
  // Signals produced per second.
  int32_t rate = 400;
  int32_t accounts = 2000;
  uint64_t seed = 1;
  int32_t partitions = 6;
  // HTTP endpoint for /metrics, /healthz, /readyz ("" = none).
  std::string http_bind;
};

// Runs the demo until `stop` or the duration, printing to `out`.
absl::Status RunDemo(const config::Config& config, const DemoOptions& options,
                     const std::atomic<bool>& stop, std::ostream& out);

}  // namespace demandcenter::demo

#endif  // DEMANDCENTER_DEMO_DEMO_H_
