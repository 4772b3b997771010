#include "cli/bench_metrics.h"

#include <httplib.h>

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "cli/remote.h"

namespace nobus::cli::bench {

PromHistogram ParseHistogram(const std::string& exposition, const std::string& name) {
  PromHistogram h;
  const std::string prefix = name + "_bucket{le=\"";
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    const size_t close = line.find("\"}", prefix.size());
    if (close == std::string::npos) continue;
    const std::string le = line.substr(prefix.size(), close - prefix.size());
    const double bound = le == "+Inf" ? INFINITY : std::strtod(le.c_str(), nullptr);
    const double count = std::strtod(line.c_str() + close + 2, nullptr);
    h.buckets.emplace_back(bound, count);
  }
  return h;
}

absl::StatusOr<PromHistogram> ScrapeHistogram(const std::string& http, const std::string& name) {
  httplib::Client client = HttpClient(http);
  client.set_connection_timeout(5);
  client.set_read_timeout(30);
  httplib::Result res = client.Get("/metrics");
  if (!res || res->status != 200)
    return absl::UnavailableError(Cat("GET ", http, "/metrics failed"));
  return ParseHistogram(res->body, name);
}

std::optional<double> HistogramQuantile(const PromHistogram& before, const PromHistogram& after,
                                        double q) {
  std::vector<std::pair<double, double>> diff = after.buckets;
  for (size_t i = 0; i < diff.size() && i < before.buckets.size(); ++i)
    if (before.buckets[i].first == diff[i].first) diff[i].second -= before.buckets[i].second;
  if (diff.empty() || diff.back().second <= 0) return std::nullopt;
  const double rank = q * diff.back().second;
  double lower_bound = 0, lower_count = 0;
  for (const auto& [bound, count] : diff) {
    if (count >= rank) {
      if (std::isinf(bound)) return std::nullopt;
      const double in_bucket = count - lower_count;
      const double frac = in_bucket > 0 ? (rank - lower_count) / in_bucket : 1;
      return lower_bound + (bound - lower_bound) * frac;
    }
    lower_bound = bound;
    lower_count = count;
  }
  return std::nullopt;
}

}  // namespace nobus::cli::bench
