#include "src/app/inspect.h"

#include <filesystem>

#include "absl/strings/numbers.h"
#include "demandcenter/common/proto_json.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/engine/engine.h"
#include "demandcenter/query/account_view.h"
#include "demandcenter/state/rocksdb_kv.h"

namespace demandcenter {

absl::StatusOr<std::string> InspectAccount(const std::string& state_dir, const std::string& account_id,
                                           const config::Config& config) {
  std::error_code ec;
  if (!std::filesystem::is_directory(state_dir, ec)) {
    return absl::FailedPreconditionError(StrCat(state_dir, " is not a directory"));
  }
  int stores = 0;
  for (const auto& entry : std::filesystem::directory_iterator(state_dir, ec)) {
    std::string name = entry.path().filename().string();
    int partition = 0;
    if (name.size() < 2 || name[0] != 'p' || !absl::SimpleAtoi(name.substr(1), &partition)) continue;
    if (!std::filesystem::exists(entry.path() / "CURRENT")) continue;
    ++stores;
    // Opened as the engine opens it, so a running instance's lock refuses.
    auto store = state::OpenRocksDbPartitionStore(entry.path().string(), 1, 0);
    if (!store.ok()) return store.status();
    if (const v1::AccountState* account = (*store)->Find(account_id)) {
      v1::JourneyModel model = engine::Engine::StoredJourneyModel(store->get(), partition);
      return ToJson(query::ViewOf(*account, config.decision, (*store)->ReadCheckpoint().stream_time_ms, &model));
    }
  }
  if (stores == 0) {
    return absl::FailedPreconditionError(
        StrCat(state_dir, " holds no partition store (p0, p1, ...): give an instance's directory, "
                          "<state.dir>/<application_id>/<instance id>"));
  }
  return absl::NotFoundError(StrCat("no account ", account_id, " in the ", stores, " partition stores of ", state_dir));
}

}  // namespace demandcenter
