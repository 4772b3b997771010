#include "common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace nobus {
namespace {

// A programming error (a metric name used as two kinds, an invalid name): fail loudly at once.
[[noreturn]] void Misuse(const std::string& what) {
  std::fprintf(stderr, "metrics misuse: %s\n", what.c_str());
  std::abort();
}

bool IsNameChar(char c, bool first, bool allow_colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (allow_colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool IsValidName(const std::string& name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!IsNameChar(name[i], i == 0, allow_colon)) return false;
  return true;
}

void CheckLabels(const std::string& metric, const MetricLabels& labels, bool histogram) {
  for (const auto& [key, value] : labels) {
    if (!IsValidName(key, false) || key.starts_with("__"))
      Misuse("metric " + metric + ": invalid label name '" + key + "'");
    if (histogram && key == "le") Misuse("metric " + metric + ": label 'le' is reserved");
  }
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, end);
}

// Label values escape backslash, double quote and line feed; HELP text backslash and line feed.
void AppendEscaped(std::string* out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (quote && c == '"') {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

// `{a="x",b="y"}` plus an optional extra label (histogram `le`) last; "" when there are none.
std::string LabelText(const MetricLabels& labels, const char* extra_key = nullptr,
                      const std::string& extra_value = "") {
  if (labels.empty() && extra_key == nullptr) return "";
  std::string out = "{";
  bool first = true;
  auto add = [&](std::string_view key, std::string_view value) {
    if (!first) out.push_back(',');
    first = false;
    out.append(key);
    out.append("=\"");
    AppendEscaped(&out, value, true);
    out.push_back('"');
  };
  for (const auto& [key, value] : labels) add(key, value);
  if (extra_key != nullptr) add(extra_key, extra_value);
  out.push_back('}');
  return out;
}

void AppendSample(std::string* out, const std::string& name, const std::string& labels,
                  const std::string& value) {
  out->append(name);
  out->append(labels);
  out->push_back(' ');
  out->append(value);
  out->push_back('\n');
}

void RenderHistogram(const std::string& name, const MetricLabels& labels, const Histogram& h,
                     std::string* out) {
  std::vector<int64_t> buckets;
  double sum = 0;
  int64_t count = 0;
  h.Read(&buckets, &sum, &count);
  int64_t cumulative = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    cumulative += buckets[i];
    std::string le = i < h.upper_bounds().size() ? FormatDouble(h.upper_bounds()[i]) : "+Inf";
    AppendSample(out, name + "_bucket", LabelText(labels, "le", le), std::to_string(cumulative));
  }
  AppendSample(out, name + "_sum", LabelText(labels), FormatDouble(sum));
  AppendSample(out, name + "_count", LabelText(labels), std::to_string(count));
}

const char* KindName(int kind) {
  static constexpr const char* kNames[] = {"counter", "gauge", "histogram"};
  return kNames[kind];
}

}  // namespace

void Gauge::Set(double v) { value_.store(v, std::memory_order_relaxed); }

void Gauge::Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }

double Gauge::value() const { return value_.load(std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  if (!bounds_.empty() && std::isinf(bounds_.back()) && bounds_.back() > 0) bounds_.pop_back();
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (std::isnan(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1]))
      Misuse("histogram bounds must be finite and strictly increasing");
  }
  buckets_ = std::make_unique<std::atomic<int64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::Read(std::vector<int64_t>* buckets, double* sum, int64_t* count) const {
  buckets->assign(bounds_.size() + 1, 0);
  int64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    (*buckets)[i] = buckets_[i].load(std::memory_order_relaxed);
    total += (*buckets)[i];
  }
  *sum = sum_.load(std::memory_order_relaxed);
  // The count is the buckets' total, so the +Inf bucket and _count always agree in a snapshot.
  *count = total;
}

std::vector<double> LatencyBucketsSeconds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};
}

MetricsRegistry::Series* MetricsRegistry::Find(const std::string& name, const std::string& help,
                                               Kind kind, MetricLabels labels) {
  if (!IsValidName(name, true)) Misuse("invalid metric name '" + name + "'");
  CheckLabels(name, labels, kind == Kind::kHistogram);
  auto [fit, created] = families_.try_emplace(name, Family{kind, help, {}});
  if (!created && fit->second.kind != kind)
    Misuse("metric " + name + " registered as " + KindName(static_cast<int>(fit->second.kind)) +
           " and as " + KindName(static_cast<int>(kind)));
  auto [sit, fresh] = fit->second.series.try_emplace(std::move(labels));
  Series& series = sit->second;
  if (!fresh && series.removed) {
    retired_.push_back(std::move(series));
    series = Series{};
  }
  return &series;
}

Counter* MetricsRegistry::GetCounter(const std::string& name, const std::string& help,
                                     MetricLabels labels) {
  std::lock_guard<std::mutex> l(mu_);
  Series* s = Find(name, help, Kind::kCounter, std::move(labels));
  if (!s->counter) s->counter = std::make_unique<Counter>();
  return s->counter.get();
}

Gauge* MetricsRegistry::GetGauge(const std::string& name, const std::string& help,
                                 MetricLabels labels) {
  std::lock_guard<std::mutex> l(mu_);
  Series* s = Find(name, help, Kind::kGauge, std::move(labels));
  if (!s->gauge) s->gauge = std::make_unique<Gauge>();
  return s->gauge.get();
}

Histogram* MetricsRegistry::GetHistogram(const std::string& name, const std::string& help,
                                         std::vector<double> upper_bounds, MetricLabels labels) {
  std::lock_guard<std::mutex> l(mu_);
  Series* s = Find(name, help, Kind::kHistogram, std::move(labels));
  if (!s->histogram) s->histogram = std::make_unique<Histogram>(std::move(upper_bounds));
  return s->histogram.get();
}

void MetricsRegistry::RemoveSeries(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [name, family] : families_) {
    for (auto& [labels, series] : family.series) {
      auto it = labels.find(key);
      if (it != labels.end() && it->second == value) series.removed = true;
    }
  }
}

void MetricsRegistry::RenderFamily(const std::string& name, const Family& family,
                                   std::string* out) const {
  bool any = std::any_of(family.series.begin(), family.series.end(),
                         [](const auto& entry) { return !entry.second.removed; });
  if (!any) return;
  out->append("# HELP " + name + " ");
  AppendEscaped(out, family.help, false);
  out->append("\n# TYPE " + name + " " + KindName(static_cast<int>(family.kind)) + "\n");
  for (const auto& [labels, series] : family.series) {
    if (series.removed) continue;
    if (series.counter) {
      AppendSample(out, name, LabelText(labels), std::to_string(series.counter->value()));
    } else if (series.gauge) {
      AppendSample(out, name, LabelText(labels), FormatDouble(series.gauge->value()));
    } else if (series.histogram) {
      RenderHistogram(name, labels, *series.histogram, out);
    }
  }
}

std::string MetricsRegistry::Render() const {
  std::lock_guard<std::mutex> l(mu_);
  std::string out;
  for (const auto& [name, family] : families_) RenderFamily(name, family, &out);
  return out;
}

}  // namespace nobus
