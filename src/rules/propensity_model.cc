// Propensity learned online: Beta posteriors per arm and deterministic
// Thompson draws.
#include "demandcenter/rules/propensity_model.h"

#include <algorithm>
#include <cmath>

#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"

namespace demandcenter::rules {
namespace {

// splitmix64: a small, well-mixed generator whose sequence depends on the
// seed alone.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1).
  double Uniform() { return OpenUnitFraction(Next()); }
  double Normal() {
    double u = Uniform(), v = Uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
  }

 private:
  uint64_t state_;
};

// Marsaglia and Tsang's method; shape below 1 by boosting.
double Gamma(double shape, Random& random) {
  if (shape < 1) return Gamma(shape + 1, random) * std::pow(random.Uniform(), 1.0 / shape);
  double d = shape - 1.0 / 3.0;
  double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = random.Normal();
    double v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = random.Uniform();
    if (u < 1 - 0.0331 * x * x * x * x || std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v;
  }
}

}  // namespace

std::string ArmKey(std::string_view action, v1::Channel channel, std::string_view stage, std::string_view segment) {
  return StrCat(action, "|", config::ChannelName(channel), "|", stage, "|", segment);
}

Posterior PosteriorOf(const config::LearningConfig& learning, double prior, const v1::PropensityModel& model,
                      const std::string& key) {
  double p = std::clamp(prior, 0.01, 0.99);
  Posterior post;
  if (auto it = model.arms().find(key); it != model.arms().end()) {
    post.trials = it->second.trials();
    post.successes = it->second.successes();
  }
  post.alpha = p * learning.prior_weight + static_cast<double>(post.successes);
  post.beta = (1 - p) * learning.prior_weight + static_cast<double>(post.trials - post.successes);
  return post;
}

double SampleBeta(double alpha, double beta, uint64_t seed) {
  Random random(seed);
  double x = Gamma(alpha, random);
  double y = Gamma(beta, random);
  return x + y > 0 ? x / (x + y) : 0.5;
}

double DrawPropensity(const config::LearningConfig& learning, const Posterior& posterior, uint64_t seed) {
  return std::max(learning.exploration_floor, SampleBeta(posterior.alpha, posterior.beta, seed));
}

void RecordTrial(const config::LearningConfig& learning, const std::string& key, std::string_view action,
                 v1::Channel channel, int64_t at_ms, v1::PropensityModel* model, v1::AccountState* account) {
  v1::ArmCounts& arm = (*model->mutable_arms())[key];
  arm.set_trials(arm.trials() + 1);
  auto* trials = account->mutable_trials();
  auto end = std::remove_if(trials->begin(), trials->end(),
                            [&](const v1::LearningTrial& t) { return at_ms - t.at_ms() > learning.window_ms; });
  trials->erase(end, trials->end());
  v1::LearningTrial* t = trials->Add();
  t->set_key(key);
  t->set_at_ms(at_ms);
  t->set_action(std::string(action));
  t->set_channel(channel);
}

int CreditTrials(const config::LearningConfig& learning, int64_t now_ms,
                 const std::function<bool(const v1::LearningTrial&)>& match, v1::PropensityModel* model,
                 v1::AccountState* account, bool latest_only) {
  auto* trials = account->mutable_trials();
  int credited = 0;
  // Newest last: walk back so `latest_only` takes the most recent match.
  for (int i = trials->size() - 1; i >= 0; --i) {
    const v1::LearningTrial& t = trials->Get(i);
    if (t.at_ms() > now_ms || now_ms - t.at_ms() > learning.window_ms || !match(t)) continue;
    v1::ArmCounts& arm = (*model->mutable_arms())[t.key()];
    arm.set_successes(std::min(arm.trials(), arm.successes() + 1));
    trials->DeleteSubrange(i, 1);
    ++credited;
    if (latest_only) break;
  }
  return credited;
}

}  // namespace demandcenter::rules
