// The decision core on one core: signals/s through Engine::Process with
// 100k accounts in the in-memory store, against a baseline (the state
// lookups and dedup bookkeeping alone) measured in the same run.
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "demandcenter/config/config.h"
#include "demandcenter/generate/generator.h"
#include "demandcenter/ingest/decoder.h"
#include "demandcenter/journey/journey.h"
#include "demandcenter/pipeline/pipeline.h"
#include "demandcenter/state/state_store.h"

namespace demandcenter {
namespace {

constexpr int32_t kAccounts = 100000;
constexpr int64_t kSignals = 400000;

struct Corpus {
  config::DecisionConfig config;
  std::vector<v1::Signal> signals;
  std::vector<int32_t> partitions;
};

const Corpus& GetCorpus() {
  static const Corpus* corpus = [] {
    auto* c = new Corpus;
    config::ParseResult parsed = config::LoadConfig("deploy/config/demandcenter.yaml");
    if (!parsed.config) std::abort();
    c->config = parsed.config->decision;
    generate::GeneratorOptions options;
    options.accounts = kAccounts;
    options.signals = kSignals;
    options.seed = 11;
    pipeline::PartitionModel model{12, Partitioner::kMurmur2};
    (void)generate::Generate(
        options,
        [&](const generate::GeneratedRecord& r) {
          v1::Signal s;
          if (ingest::DecodeSignal(r.value, {}, &s).ok()) {
            c->partitions.push_back(pipeline::PartitionOf(s, model));
            c->signals.push_back(std::move(s));
          }
        },
        nullptr);
    return c;
  }();
  return *corpus;
}

// The whole core: resolve, dedup, scores, committee, stage machine, rules,
// routing, outputs.
void BM_EngineProcess(benchmark::State& state) {
  const Corpus& corpus = GetCorpus();
  for (auto _ : state) {
    state::InMemoryStateStore store;
    pipeline::Pipeline pipe(corpus.config, &store);
    std::vector<outputs::Output> out;
    for (size_t i = 0; i < corpus.signals.size(); ++i) {
      pipe.ProcessSignal(corpus.signals[i], corpus.partitions[i], &out);
      out.clear();
    }
    benchmark::DoNotOptimize(store.AccountCount());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(corpus.signals.size()));
}
BENCHMARK(BM_EngineProcess)->Unit(benchmark::kMillisecond)->Iterations(3);

// Baseline: the same store traffic and dedup bookkeeping, no decisions.
void BM_StoreAndDedupOnly(benchmark::State& state) {
  const Corpus& corpus = GetCorpus();
  for (auto _ : state) {
    state::InMemoryStateStore store;
    for (const auto& s : corpus.signals) {
      const std::string& id = s.account_id();
      if (id.empty()) continue;
      v1::AccountState* a = store.Find(id);
      if (a == nullptr) a = store.Insert(journey::NewAccount(corpus.config, id, 0));
      journey::RecordEventId(corpus.config, s, a);
    }
    benchmark::DoNotOptimize(store.AccountCount());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(corpus.signals.size()));
}
BENCHMARK(BM_StoreAndDedupOnly)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace demandcenter

BENCHMARK_MAIN();
