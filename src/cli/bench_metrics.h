// nobusd's own view for `nobus bench`: scrapes a Prometheus histogram from GET /metrics (e.g.
// nobus_ack_latency_seconds: request received -> durable, measured inside nobusd) before and after
// a run, and estimates quantiles of the difference the way Prometheus' histogram_quantile does
// (linear interpolation inside the bucket). Comparing them with the client's ack latency separates
// the time spent in nobusd from the time spent in the client, the SDK and the network.
//
// Thread-safety: plain functions and values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace nobus::cli::bench {

// Cumulative bucket counts of one unlabelled histogram, by upper bound (ascending; +Inf last).
struct PromHistogram {
  std::vector<std::pair<double, double>> buckets;  // (le, cumulative count)
};

// Parses the `<name>_bucket{le="..."} N` lines of a text exposition; buckets missing = empty.
PromHistogram ParseHistogram(const std::string& exposition, const std::string& name);
// GET <http>/metrics and parse `name`; an error when nobusd cannot be reached.
[[nodiscard]] absl::StatusOr<PromHistogram> ScrapeHistogram(const std::string& http,
                                                           const std::string& name);
// Quantile q of the observations added between `before` and `after`, in the histogram's unit;
// nullopt without observations or when the quantile falls into the +Inf bucket.
std::optional<double> HistogramQuantile(const PromHistogram& before, const PromHistogram& after,
                                        double q);

}  // namespace nobus::cli::bench
