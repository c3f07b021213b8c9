// The generator's randomness: SplitMix64 per account, hashes of (seed,
// account, salt), and the arithmetic that turns draws into numbers the same
// way on every machine. Private to src/generate.
#ifndef DEMANDCENTER_SRC_GENERATE_RANDOM_H_
#define DEMANDCENTER_SRC_GENERATE_RANDOM_H_

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>

namespace demandcenter::generate {

// The SplitMix64 finaliser: a bijection of uint64.
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A value fixed by the seed, the account's index and a salt: what an
// account is called, its contacts, its sessions...
inline uint64_t AccountHash(uint64_t seed, int32_t index, uint64_t salt) {
  return Mix64(Mix64(seed ^ (0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(index) + 1))) ^ salt);
}

// Natural logarithm and exponential from +, -, *, / only: C libraries may
// differ in the last bit of std::log / std::pow, and one bit can move an
// event by a millisecond. Accurate to a few ulp, which is all we need.
inline double Log(double x) {  // x > 0
  int e;
  double m = std::frexp(x, &e);  // exact: x = m * 2^e, m in [0.5, 1)
  if (m < 0.70710678118654752) {
    m *= 2;
    --e;
  }
  double s = (m - 1) / (m + 1), s2 = s * s, term = s, sum = 0;
  for (int k = 1; k <= 27; k += 2) {
    sum += term / k;
    term *= s2;
  }
  return e * 0.69314718055994531 + 2 * sum;
}

inline double Exp(double x) {
  constexpr double kLn2 = 0.69314718055994531;
  double k = std::floor(x / kLn2 + 0.5);
  double r = x - k * kLn2, term = 1, sum = 1;
  for (int n = 1; n <= 20; ++n) {
    term *= r / n;
    sum += term;
  }
  return std::ldexp(sum, static_cast<int>(k));  // exact scaling
}

inline double Pow(double base, double exponent) { return Exp(Log(base) * exponent); }

// [0, n) from one 64-bit draw (multiply-shift).
inline uint64_t Below(uint64_t draw, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(draw) * n) >> 64);
}
// [0, 1) from the top 53 bits.
inline double Unit(uint64_t draw) { return static_cast<double>(draw >> 11) * 0x1.0p-53; }

// SplitMix64, the per-account generator (8 bytes of state).
struct Rng {
  uint64_t state;
  uint64_t Next() { return Mix64(state += 0x9e3779b97f4a7c15ULL); }
  uint64_t Below(uint64_t n) { return generate::Below(Next(), n); }
  double Uniform() { return Unit(Next()); }
  double Between(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  int64_t Int(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Below(hi - lo + 1)); }
  bool Chance(double p) { return Uniform() < p; }
  double Exponential(double mean) { return -mean * Log(1.0 - Uniform()); }
  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& items) { return items[Below(N)]; }
};

// Index chosen with probability proportional to weights[i].
template <typename Weights>
size_t WeightedIndex(Rng& rng, const Weights& weights) {
  double total = 0;
  for (double w : weights) total += w;
  double x = rng.Uniform() * total;
  for (size_t i = 0; i < std::size(weights); ++i) {
    if (x < weights[i]) return i;
    x -= weights[i];
  }
  return std::size(weights) - 1;
}

}  // namespace demandcenter::generate

#endif  // DEMANDCENTER_SRC_GENERATE_RANDOM_H_
