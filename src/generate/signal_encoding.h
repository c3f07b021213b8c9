// The generator's record bytes: a Signal as one protobuf-JSON line or as
// deterministic binary protobuf, and the deliberately bad records. Private
// to src/generate.
#ifndef DEMANDCENTER_SRC_GENERATE_SIGNAL_ENCODING_H_
#define DEMANDCENTER_SRC_GENERATE_SIGNAL_ENCODING_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "demandcenter/generate/generator.h"
#include "demandcenter/v1/signal.pb.h"

namespace demandcenter::generate {

// Replaces *out with `s` in `format`: a protobuf-JSON object with proto
// field names in field-number order, default values left out and map
// entries sorted by key, as util::MessageToJsonString writes it (doubles
// in their shortest form: 1e+05 for 100000); or the
// deterministic binary encoding. Internal if binary serialisation fails.
absl::Status EncodeSignal(const v1::Signal& s, OutputFormat format, std::string* out);

// Makes record->value a bad record from `s` (a copy of a good signal with
// its own event id): `variant` (0-7) picks the fault, `junk` supplies
// random bytes. Variants 0-3 drop a required field (event_id, type,
// occurred_at, every identity: then record->key is cleared too); JSON 4-7
// cut the value short, misspell a field, spoil the time or write XML;
// binary maps 6-7 to 4-5 and 4-5 end inside a string or start with an
// invalid wire type.
absl::Status EncodeMalformed(uint64_t variant, uint64_t junk, OutputFormat format, v1::Signal* s,
                             GeneratedRecord* record);

}  // namespace demandcenter::generate

#endif  // DEMANDCENTER_SRC_GENERATE_SIGNAL_ENCODING_H_
