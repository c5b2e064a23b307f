// The run's random number generator.
//
// There is no global generator: a run owns one Rng, seeded explicitly, and
// passes it to whatever draws numbers (initialisation, shuffling). The
// engine is std::mt19937_64, whose output the C++ standard fixes exactly;
// the uniform, normal and integer draws are implemented here rather than
// with <random>'s distributions, whose algorithms differ between standard
// libraries. So a seed gives the same numbers everywhere.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>

namespace backprop {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1), 53 random bits.
  double uniform();
  // Standard normal N(0, 1), by the Box-Muller transform (one of the pair is
  // used, so the state stays a single engine).
  double normal();
  // Uniform integer in [0, n), without modulo bias (rejection sampling).
  std::uint64_t below(std::uint64_t n);
  // Fisher-Yates shuffle.
  void shuffle(std::span<int> values);

  // The engine's state as text, and back, for checkpoints.
  std::string state() const;
  void set_state(const std::string& state);

 private:
  std::mt19937_64 engine_;
};

}  // namespace backprop
