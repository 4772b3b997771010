// Seeded mutations for the fuzz regression tests (the *_fuzz_regression_test.cc that run a fuzz
// target's entry point in the normal test build): byte flips, insertions of characters that matter
// to the format, and truncations of a valid input. Deterministic; test-only.
#pragma once

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace nobus::fuzz {

// `n` mutants of `seed`, each with 1-4 edits: mostly flips and insertions of a character of
// `inserts` (which may contain NUL), sometimes a truncation.
inline std::vector<std::string> Mutations(const std::string& seed, int n, std::string_view inserts,
                                          unsigned rng_seed = 42) {
  std::mt19937 rng(rng_seed);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    std::string m = seed;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) {
      if (m.empty()) break;
      size_t at = rng() % m.size();
      switch (rng() % 8) {
        case 0: case 1: case 2: m[at] = static_cast<char>(rng()); break;
        case 7: m.resize(at); break;
        default: m.insert(at, 1, inserts[rng() % inserts.size()]); break;
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace nobus::fuzz
