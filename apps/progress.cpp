#include "progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <ostream>
#include <sstream>

#include "backprop/metrics_log.hpp"

namespace backprop::cli {
namespace {

// A stream that drops everything, for --quiet.
class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return traits_type::not_eof(c); }
};

std::ostream& null_stream() {
  static NullBuffer buffer;
  static std::ostream stream(&buffer);
  return stream;
}

// "1:05" or "1:02:03".
std::string clock_text(double seconds) {
  const long total = std::lround(std::max(0.0, seconds));
  std::ostringstream text;
  if (total >= 3600) text << total / 3600 << ':' << std::setw(2) << std::setfill('0');
  text << (total / 60) % (total >= 3600 ? 60 : 1L << 40) << ':' << std::setw(2) << std::setfill('0')
       << total % 60;
  return text.str();
}

// "812", "12.3k", "1.05M".
std::string rate_text(double per_second) {
  std::ostringstream text;
  text << std::setprecision(3);
  if (per_second >= 1e6) {
    text << per_second / 1e6 << 'M';
  } else if (per_second >= 1e3) {
    text << per_second / 1e3 << 'k';
  } else {
    text << std::lround(per_second);
  }
  return text.str();
}

constexpr int kBarWidth = 30;
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);

}  // namespace

std::string epoch_line(const EpochReport& report) {
  std::ostringstream line;
  line << "Epoch " << report.epoch;
  // The book's line: correct / total on the evaluation data.
  const auto& headline = report.test ? report.test : report.validation;
  if (headline && headline->regression) {
    line << ": RMSE " << std::setprecision(5) << headline->rmse;
  } else if (headline) {
    line << ": " << headline->correct << " / " << headline->total;
  } else {
    line << " complete";
  }
  line << " (" << std::fixed << std::setprecision(2) << report.training_seconds << " s";
  // Over MPI, the part of it spent summing the ranks' gradients.
  if (report.communication_seconds > 0) {
    line << ", " << report.communication_seconds << " s summing gradients";
  }
  line << ")";
  const auto part = [&](const char* name, const std::optional<Evaluation>& evaluation) {
    if (!evaluation) return;
    line << std::defaultfloat << std::setprecision(5) << " | " << name << " cost "
         << evaluation->cost;
    if (evaluation->regression) {
      line << ", RMSE " << evaluation->rmse;
    } else {
      line << ", accuracy " << std::fixed << std::setprecision(2) << 100 * evaluation->accuracy()
           << '%';
    }
  };
  part("training", report.training);
  if (report.test) part("validation", report.validation);
  if (report.test && (report.training || report.validation)) part("test", report.test);
  return line.str();
}

Progress::Progress(bool quiet, bool json, int epochs, std::string run)
    : bar_(isatty(STDERR_FILENO) == 1 && !quiet),
      json_(json),
      quiet_(quiet),
      epochs_(epochs),
      run_(std::move(run)) {}

std::ostream& Progress::info() {
  if (quiet_) return null_stream();
  return json_ ? std::cerr : std::cout;
}

BatchCallback Progress::on_batch() {
  if (!bar_) return {};
  return [this](const BatchReport& batch) { draw(batch); };
}

void Progress::draw(const BatchReport& batch) {
  const auto now = std::chrono::steady_clock::now();
  if (batch.epoch != epoch_) {
    // The first mini-batch of an epoch: time the rest from here.
    epoch_ = batch.epoch;
    start_ = now;
    examples_at_start_ = batch.examples_done;
    last_draw_ = now;
  }
  const bool last = batch.examples_done == batch.examples_total;
  if (!last && drawn_ && now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;

  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate =
      elapsed > 0 ? static_cast<double>(batch.examples_done - examples_at_start_) / elapsed : 0;
  const double fraction =
      static_cast<double>(batch.examples_done) / static_cast<double>(batch.examples_total);
  const int filled = static_cast<int>(fraction * kBarWidth);
  std::ostringstream line;
  line << "\r\033[K"
       << "Epoch " << batch.epoch << '/' << epochs_ << " [";
  for (int i = 0; i < kBarWidth; ++i) line << (i < filled ? '=' : i == filled ? '>' : ' ');
  line << "] " << batch.examples_done << '/' << batch.examples_total;
  if (rate > 0) {
    line << "  " << rate_text(rate) << " ex/s  ETA "
         << clock_text(static_cast<double>(batch.examples_total - batch.examples_done) / rate);
  }
  line << "  cost " << std::setprecision(4) << batch.running_cost();
  std::cerr << line.str() << std::flush;
  drawn_ = true;
}

void Progress::finish() {
  if (drawn_) std::cerr << "\r\033[K" << std::flush;
  drawn_ = false;
}

void Progress::on_epoch(const EpochReport& report) {
  finish();
  if (json_) {
    std::cout << metrics_json(report, run_) << std::endl;
  } else if (!quiet_) {
    std::cout << epoch_line(report) << std::endl;
  }
}

}  // namespace backprop::cli
