// backprop-bench: trains issue 4's configurations on MNIST's 60,000 training images and reports,
// for each, the median seconds per epoch, examples per second, GFLOP/s of the exact work, the
// percentage of this machine's sgemm peak (measured here, at start), peak memory and threads.
//
// The sgemm peak is the best single-thread rate of a large float product (1024^3 and the products
// of configuration C) by Eigen, by the library's own packed product, or by OpenBLAS where
// libopenblas.so.0 is installed (loaded at run time; see --openblas-core). The work counted is the
// matrix products only: see configs.hpp. The packed products skip the multiply-adds by rows of
// zeros (the pixels' zeros, packed_product.hpp), so that an epoch performs less than the formulas'
// work. GFLOP/s is the formulas' work per second (issue 4's "exact work"), and "% of sgemm peak"
// is that rate as a share of the peak: the epoch's time against the time the exact work would
// take at the peak, what issue 4's efficiency target measures (C's 8.0 s there is its 7.2 s
// floor over 0.9). Beside it, the same share for the work performed (the formulas' less what was
// skipped): how near the multiply-adds actually done run to the hardware's limit, which skipping
// does not help. Being the best of many samples, the peak is above what a
// product sustains; the sustained peak beside it is the best median rate of the same products,
// a steadier yardstick for an epoch's median. Beside them, the core's FMA limit: the rate of
// independent fused multiply-adds in registers, which no product can exceed.
//
// Each configuration trains in a child process of its own, so that its peak memory
// (getrusage ru_maxrss) is its own: loading the data, training and evaluating.
// Besides the human-readable table, each configuration prints one line
//   BENCH_JSON {...}
// for scripts (bench/compare_pytorch.py reads it).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "backprop/evaluation.hpp"
#include "backprop/fetch.hpp"
#include "backprop/idx.hpp"
#include "backprop/narrow_product.hpp"
#include "backprop/packed_product.hpp"
#include "backprop/skipped_work.hpp"
#include "backprop/training.hpp"
#include "configs.hpp"
#include "openblas.hpp"

// The library's threads (set_threads), where it has them.
#if __has_include("backprop/parallel.hpp")
#include "backprop/parallel.hpp"
#define BACKPROP_BENCH_HAS_PARALLEL 1
#else
#define BACKPROP_BENCH_HAS_PARALLEL 0
#endif

#ifndef BACKPROP_BUILD_TYPE
#define BACKPROP_BUILD_TYPE "unknown"
#endif

namespace backprop::bench {
namespace {

#ifdef NDEBUG
constexpr bool kAssertions = false;
#else
constexpr bool kAssertions = true;
#endif

using Clock = std::chrono::steady_clock;

struct Flags {
  int epochs = 3;
  std::string configs = "A,B,C";
  std::filesystem::path data_dir;
  int threads = 1;
  std::uint64_t seed = 1;
  double gemm_seconds = 1.0;
  std::string openblas_core;
  bool smoke = false;
  bool in_process = false;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The 1-minute load average (from /proc/loadavg), or -1 where it cannot be read: above ~1 while
// this benchmark runs alone, other processes compete for the cores.
double load_average() {
  std::ifstream file("/proc/loadavg");
  double load = -1;
  file >> load;
  return file ? load : -1;
}

// ---------------------------------------------------------------------------------------------
// sgemm, the kernel under every layer: Eigen's, the library's own (narrow_product.hpp,
// packed_product.hpp) and, where the system has it, OpenBLAS's (loaded at run time, so the bench
// needs no BLAS to build), each on one thread, timed on a large square product (the peak) and on
// the products the configurations make.

struct Rate {
  double best = 0;  // GFLOP/s
  double median = 0;
  int samples = 0;
};

struct GemmTiming {
  GemmShape shape;
  Rate eigen;
  Rate openblas;  // samples == 0: not measured
  Rate own;       // the library's own kernels: narrow (few examples) or packed
};

float gemm_sink = 0;  // keeps the products from being optimised away

// Samples of about a millisecond or more, for budget_seconds (at least 5 samples).
template <typename Multiply>
Rate time_rate(double flops, double budget_seconds, Multiply multiply) {
  auto start = Clock::now();
  multiply();  // warm up
  const double once = std::max(seconds_since(start), 1e-7);
  const int reps = std::max(1, static_cast<int>(1e-3 / once));
  std::vector<double> rates;
  const auto begin = Clock::now();
  while (rates.size() < 5 || (seconds_since(begin) < budget_seconds && rates.size() < 10000)) {
    start = Clock::now();
    for (int r = 0; r < reps; ++r) multiply();
    rates.push_back(flops * reps / seconds_since(start) / 1e9);
  }
  return {*std::max_element(rates.begin(), rates.end()), median(rates),
          static_cast<int>(rates.size())};
}

GemmTiming time_gemm(const GemmShape& shape, double budget_seconds, const OpenBlas& openblas) {
  const Matrix<float> a = shape.op == Op::tn ? Matrix<float>::Random(shape.k, shape.m)
                                             : Matrix<float>::Random(shape.m, shape.k);
  const Matrix<float> b = shape.op == Op::nt ? Matrix<float>::Random(shape.n, shape.k)
                                             : Matrix<float>::Random(shape.k, shape.n);
  Matrix<float> c(shape.m, shape.n);
  const double flops = 2.0 * shape.m * shape.n * shape.k;
  GemmTiming timing{shape, {}, {}, {}};
  timing.eigen = time_rate(flops, budget_seconds, [&] {
    switch (shape.op) {
      case Op::nn:
        c.noalias() = a * b;
        break;
      case Op::nt:
        c.noalias() = a * b.transpose();
        break;
      case Op::tn:
        c.noalias() = a.transpose() * b;
        break;
    }
    gemm_sink += c(0, 0);
  });
  // The products a layer hands to narrow_product.hpp: few examples per mini-batch.
  if (shape.op == Op::nn && shape.n <= kNarrowColumns) {
    timing.own = time_rate(flops, budget_seconds, [&] {
      narrow_product(a.data(), a.rows(), a.rows(), a.cols(), b.data(), b.rows(), b.cols(), c.data(),
                     c.rows());
      gemm_sink += c(0, 0);
    });
  } else if (shape.op == Op::nt && shape.k <= kNarrowColumns) {
    timing.own = time_rate(flops, budget_seconds, [&] {
      narrow_outer_product(a.data(), a.rows(), a.rows(), b.data(), b.rows(), b.rows(), b.cols(),
                           1.0F, c.data(), c.rows());
      gemm_sink += c(0, 0);
    });
  } else {
    // packed_product.hpp, as a layer calls it: the right factor packed on every call.
    const StridedMatrix<float> left =
        shape.op == Op::tn ? strided_transpose<float>(a) : strided<float>(a);
    const StridedMatrix<float> right =
        shape.op == Op::nt ? strided_transpose<float>(b) : strided<float>(b);
    PackedRight<float> packed;
    timing.own = time_rate(flops, budget_seconds, [&] {
      packed.pack(right);
      packed_product(left, packed, 1.0F, c.data(), c.rows());
      gemm_sink += c(0, 0);
    });
  }
  if (openblas.available()) {
    timing.openblas = time_rate(flops, budget_seconds, [&] {
      openblas.multiply(shape, a, b, c);
      gemm_sink += c(0, 0);
    });
  }
  return timing;
}

std::vector<GemmShape> gemm_shapes(bool smoke) {
  std::vector<GemmShape> shapes = {{"peak: square", 1024, 1024, 1024, Op::nn}};
  if (smoke) return shapes;
  const std::vector<GemmShape> layers = {
      {"A forward W^1 X", 30, 10, 784, Op::nn},
      {"A BP4 Delta^1 X^T", 30, 784, 10, Op::nt},
      {"B forward W^1 X", 100, 10, 784, Op::nn},
      {"B BP4 Delta^1 X^T", 100, 784, 10, Op::nt},
      {"C forward W^1 X", 1024, 128, 784, Op::nn},
      {"C forward W^2 A^1", 1024, 128, 1024, Op::nn},
      {"C BP4 Delta^2 (A^1)^T", 1024, 1024, 128, Op::nt},
      {"C BP2 (W^2)^T Delta^2", 1024, 128, 1024, Op::tn},
  };
  shapes.insert(shapes.end(), layers.begin(), layers.end());
  return shapes;
}

bool large(const GemmShape& shape) {
  return static_cast<double>(shape.m) * shape.n * shape.k >= 1e8;
}

// kChains independent chains of `steps` fused multiply-adds of whole SIMD packets each, kept to
// registers (every loop over the chains unrolled, so that no chain lives in memory); returns
// their sum, for the optimiser to keep them.
template <int kChains>
[[gnu::noinline]] float fma_chains(long steps) {
  using Packet = Eigen::internal::packet_traits<float>::type;
  const Packet a = Eigen::internal::pset1<Packet>(0.999999F);
  const Packet b = Eigen::internal::pset1<Packet>(1e-6F);
  Packet chain[kChains];
#pragma GCC unroll 32
  for (int c = 0; c < kChains; ++c)
    chain[c] = Eigen::internal::pset1<Packet>(static_cast<float>(c));
  for (long step = 0; step < steps; ++step) {
#pragma GCC unroll 32
    for (int c = 0; c < kChains; ++c) chain[c] = Eigen::internal::pmadd(chain[c], a, b);
  }
  Packet total = chain[0];
#pragma GCC unroll 32
  for (int c = 1; c < kChains; ++c) total = Eigen::internal::padd(total, chain[c]);
  return Eigen::internal::predux(total);
}

// The core's limit for any product: fused multiply-adds of whole SIMD packets, in independent
// chains (no loads, no stores), enough of them to keep every FMA unit busy through the
// instruction's latency (two units, four cycles: 8 at least; 24 of AVX-512's 32 registers, 12
// of AVX2's 16). The best rate of samples of about a millisecond.
double fma_limit(double budget_seconds) {
  constexpr int kLanes = Eigen::internal::packet_traits<float>::size;
  constexpr int kChains = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 ? 24 : 12;
  constexpr long kSteps = 100000;
  double best = 0;
  const auto begin = Clock::now();
  for (int sample = 0; sample < 5 || seconds_since(begin) < budget_seconds; ++sample) {
    const auto start = Clock::now();
    gemm_sink += fma_chains<kChains>(kSteps);
    best = std::max(best, 2.0 * kLanes * kChains * kSteps / seconds_since(start) / 1e9);
  }
  return best;
}

struct SgemmReport {
  std::vector<GemmTiming> timings;
  std::string openblas_core;  // empty: OpenBLAS not found
  std::string openblas_config;
  double fma_limit = 0;  // GFLOP/s

  // The peaks: the best rate of any large product (m n k >= 1e8: the square one and C's).
  double eigen_peak() const { return best(&GemmTiming::eigen); }
  double openblas_peak() const { return best(&GemmTiming::openblas); }
  double own_peak() const { return best(&GemmTiming::own); }
  // This machine's sgemm peak: the best of the three.
  double peak() const { return std::max({eigen_peak(), openblas_peak(), own_peak()}); }
  // The best median rate of a large product, any library: what one sustains sample after sample.
  double sustained_peak() const {
    return std::max({best(&GemmTiming::eigen, &Rate::median),
                     best(&GemmTiming::openblas, &Rate::median),
                     best(&GemmTiming::own, &Rate::median)});
  }

 private:
  double best(Rate GemmTiming::*library, double Rate::*statistic = &Rate::best) const {
    double rate = 0;
    for (const GemmTiming& t : timings) {
      if (large(t.shape)) rate = std::max(rate, (t.*library).*statistic);
    }
    return rate;
  }
};

SgemmReport measure_sgemm(bool smoke, double budget_seconds, const std::string& openblas_core) {
  const OpenBlas openblas(openblas_core);
  SgemmReport report;
  if (openblas.available()) {
    report.openblas_core = openblas.core();
    report.openblas_config = openblas.config();
  }
  for (const GemmShape& shape : gemm_shapes(smoke)) {
    report.timings.push_back(
        time_gemm(shape, large(shape) ? budget_seconds / 2 : budget_seconds / 8, openblas));
  }
  report.fma_limit = fma_limit(budget_seconds / 4);
  return report;
}

void print_sgemm(const SgemmReport& report) {
  std::cout << "sgemm, float, 1 thread, GFLOP/s over repeated samples (best, median):\n"
            << "  Eigen " << EIGEN_WORLD_VERSION << '.' << EIGEN_MAJOR_VERSION << '.'
            << EIGEN_MINOR_VERSION << " (the library's for mini-batches over " << kNarrowColumns
            << "; SIMD " << Eigen::SimdInstructionSetsInUse()
            << ")\n  backprop: the library's own kernels, narrow_product.hpp for mini-batches up "
               "to "
            << kNarrowColumns << ", packed_product.hpp for wider ones\n  OpenBLAS: "
            << (report.openblas_core.empty()
                    ? std::string("not timed (--openblas-core none), or libopenblas.so.0 not "
                                  "found (Debian: libopenblas0)")
                    : report.openblas_config + ", core " + report.openblas_core)
            << '\n';
  std::cout << "  " << std::left << std::setw(24) << "product" << std::right << std::setw(16)
            << "m x n x k" << std::setw(16) << "Eigen" << std::setw(16) << "OpenBLAS"
            << std::setw(16) << "backprop" << '\n';
  auto pair = [](const Rate& rate) {
    std::ostringstream text;
    if (rate.samples == 0) return std::string("-");
    text << std::fixed << std::setprecision(1) << rate.best << " " << rate.median;
    return text.str();
  };
  for (const GemmTiming& t : report.timings) {
    std::ostringstream dims;
    dims << t.shape.m << 'x' << t.shape.n << 'x' << t.shape.k;
    std::cout << "  " << std::left << std::setw(24) << t.shape.what << std::right << std::setw(16)
              << dims.str() << std::setw(16) << pair(t.eigen) << std::setw(16) << pair(t.openblas)
              << std::setw(16) << pair(t.own) << '\n';
  }
  std::cout << std::fixed << std::setprecision(1)
            << "  sgemm peak (best large product): " << report.peak() << " GFLOP/s   (Eigen "
            << report.eigen_peak() << ", OpenBLAS " << report.openblas_peak() << ", backprop "
            << report.own_peak()
            << ")\n  sustained peak (best median of a large product): " << report.sustained_peak()
            << " GFLOP/s\n  core FMA limit (independent FMAs in registers): " << report.fma_limit
            << " GFLOP/s; the sgemm peak is " << 100 * report.peak() / report.fma_limit
            << " % of it" << std::defaultfloat << "\n\n";
}

// ---------------------------------------------------------------------------------------------
// Training.

// Passes the thread count on to the library, by a TrainingOptions field or its set_threads(),
// whichever it has; returns the count in effect, or 0 if it has neither (one thread then).
template <typename Options>
int pass_threads(Options& options, int threads) {
  if constexpr (requires { options.threads = threads; }) {
    options.threads = threads;
    return threads;
  } else if constexpr (requires { options.thread_count = threads; }) {
    options.thread_count = threads;
    return threads;
  } else {
#if BACKPROP_BENCH_HAS_PARALLEL
    return backprop::set_threads(threads);
#else
    return 0;
#endif
  }
}

struct Data {
  Dataset training;
  Dataset test;
};

// A tiny synthetic data set, MNIST-shaped, for --smoke.
Dataset synthetic(long examples, std::uint64_t seed) {
  Rng rng(seed);
  Dataset data;
  data.values.resize(784, examples);
  for (Eigen::Index i = 0; i < data.values.size(); ++i) {
    data.values.data()[i] = static_cast<float>(rng.uniform());
  }
  for (long e = 0; e < examples; ++e) data.labels.push_back(static_cast<int>(rng.below(10)));
  data.classes = 10;
  data.source = "synthetic data";
  return data;
}

Data load_data(const Flags& flags) {
  if (flags.smoke) return {synthetic(512, flags.seed), synthetic(256, flags.seed + 1)};
  const IdxFiles files = fetch_dataset(KnownDataset::mnist, flags.data_dir, std::cerr);
  // The whole training file: the figures are per 60,000-image epoch.
  return {load_idx_dataset(files.training_images, files.training_labels),
          load_idx_dataset(files.test_images, files.test_labels)};
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

std::string json_number(double value) {
  std::ostringstream out;
  out << std::setprecision(6) << value;
  return out.str();
}

std::string json_list(const std::vector<double>& values) {
  std::string text = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    text += (i ? ", " : "") + json_number(values[i]);
  }
  return text + "]";
}

// Trains one configuration and prints its table and its BENCH_JSON line.
void run_config(const BenchConfig& config, const Flags& flags, double peak_gflops,
                double sustained_gflops) {
  const Data data = load_data(flags);
  Rng rng(flags.seed);
  Network<float> network(config.spec);
  initialize(network, config.initialization, rng);

  TrainingOptions options;
  options.epochs = flags.epochs;
  options.mini_batch_size = config.mini_batch;
  options.learning_rate = config.eta;
  options.shuffle = true;
  const int threads_passed = pass_threads(options, flags.threads);
  const int threads = threads_passed > 0 ? threads_passed : 1;

  // Wall time of each epoch's SGD steps (the library's own measure), and the CPU time of this
  // process from one epoch's end to the next: with one thread, the latter is what the epoch would
  // take on a core of its own, less sensitive to other processes than wall time.
  // And the multiply-adds each epoch skipped (rows of zeros).
  std::vector<double> epoch_seconds;
  std::vector<double> epoch_cpu_seconds;
  std::vector<double> epoch_skipped;
  const double load_before = load_average();
  const double cpu_before = cpu_seconds();
  double cpu_last = cpu_before;
  std::int64_t skipped_last = skipped_multiply_adds();
  const auto wall_start = Clock::now();
  train(network, data.training, options, rng, nullptr, [&](const EpochReport& report) {
    const double cpu_now = cpu_seconds();
    const std::int64_t skipped_now = skipped_multiply_adds();
    epoch_seconds.push_back(report.training_seconds);
    epoch_cpu_seconds.push_back(cpu_now - cpu_last);
    epoch_skipped.push_back(static_cast<double>(skipped_now - skipped_last));
    cpu_last = cpu_now;
    skipped_last = skipped_now;
  });
  const double wall = seconds_since(wall_start);
  const double cpu_per_wall = (cpu_seconds() - cpu_before) / wall;
  const double load_after = load_average();
  const Evaluation test = evaluate(network, data.test);

  const long n = data.training.size();
  const Work work = work_per_example(config.spec.sizes);
  const double seconds = median(epoch_seconds);
  const double examples_per_second = static_cast<double>(n) / seconds;
  const double gflops = work.total() * static_cast<double>(n) / seconds / 1e9;
  // The work performed: the formulas' less two FLOP per multiply-add skipped, the median epoch's.
  const double epoch_work = work.total() * static_cast<double>(n);
  std::vector<double> performed;
  for (std::size_t e = 0; e < epoch_seconds.size(); ++e) {
    performed.push_back((epoch_work - 2 * epoch_skipped[e]) / epoch_seconds[e] / 1e9);
  }
  const double gflops_performed = median(performed);
  const double skipped_share = 2 * median(epoch_skipped) / epoch_work;
  const double percent = 100 * gflops / peak_gflops;
  const double percent_performed = 100 * gflops_performed / peak_gflops;
  const double percent_sustained = 100 * gflops / sustained_gflops;
  const double percent_sustained_performed = 100 * gflops_performed / sustained_gflops;
  const double rss = peak_rss_mib();

  const double cpu_seconds_per_epoch = median(epoch_cpu_seconds);
  std::ostringstream each;
  for (double s : epoch_seconds) each << ' ' << std::fixed << std::setprecision(3) << s;
  std::ostringstream each_cpu;
  for (double s : epoch_cpu_seconds) each_cpu << ' ' << std::fixed << std::setprecision(3) << s;
  auto row = [](const std::string& label) {
    std::cout << "  " << std::left << std::setw(28) << label << std::right;
  };
  std::cout << std::fixed;
  std::cout << "Config " << config.name << ": " << describe(config.spec) << ", eta "
            << std::setprecision(2) << config.eta << ", mini-batch " << config.mini_batch << ", "
            << to_string(config.initialization) << " init\n";
  row("epochs");
  std::cout << flags.epochs << " x " << n << " examples\n";
  row("seconds per epoch (median)");
  std::cout << std::setprecision(3) << seconds << "   (each:" << each.str() << ")\n";
  row("CPU s per epoch (median)");
  std::cout << std::setprecision(3) << cpu_seconds_per_epoch << "   (each:" << each_cpu.str()
            << ")\n";
  row("examples per second");
  std::cout << std::setprecision(0) << examples_per_second << '\n';
  row("work per example");
  std::cout << std::setprecision(0) << work.total() << " FLOP (forward " << work.forward
            << " + weight grads " << work.weight_gradients << " + input grads "
            << work.input_gradients << ")\n";
  row("GFLOP/s");
  std::cout << std::setprecision(2) << gflops << "   (the formulas' work)\n";
  row("GFLOP/s performed");
  std::cout << std::setprecision(2) << gflops_performed << "   (" << std::setprecision(1)
            << 100 * skipped_share << " % of the work skipped: multiply-adds by rows of zeros)\n";
  row("% of sgemm peak");
  std::cout << std::setprecision(1) << percent << " %   (the formulas' work; peak " << peak_gflops
            << " GFLOP/s, the best of Eigen, OpenBLAS and backprop, 1 thread)\n";
  row("  of the work performed");
  std::cout << percent_performed << " %   (the multiply-adds done, skipped ones left out)\n";
  row("% of sustained sgemm peak");
  std::cout << percent_sustained << " %, " << percent_sustained_performed << " % performed   ("
            << sustained_gflops << " GFLOP/s, the best median rate of the same products)\n";
  row("peak memory (ru_maxrss)");
  std::cout << std::setprecision(1) << rss << " MiB   (this configuration's process)\n";
  row("threads");
  std::cout << threads << (threads_passed > 0 ? "" : " (the library has no threads option yet)")
            << "   CPU time / wall time " << std::setprecision(2) << cpu_per_wall << '\n';
  row("load average (1 min)");
  std::cout << load_before << " before, " << load_after << " after   (> threads: shared CPUs)\n";
  row("test accuracy");
  std::cout << test.correct << " / " << test.total << "   (" << std::setprecision(2)
            << 100 * test.accuracy() << " %)\n";
  std::cout << std::defaultfloat;

  std::cout << "BENCH_JSON {\"config\": \"" << config.name << "\", \"layers\": \""
            << describe(config.spec) << "\", \"mini_batch\": " << config.mini_batch
            << ", \"eta\": " << json_number(config.eta) << ", \"epochs\": " << flags.epochs
            << ", \"examples\": " << n << ", \"epoch_seconds\": " << json_list(epoch_seconds)
            << ", \"seconds_per_epoch\": " << json_number(seconds)
            << ", \"epoch_cpu_seconds\": " << json_list(epoch_cpu_seconds)
            << ", \"cpu_seconds_per_epoch\": " << json_number(cpu_seconds_per_epoch)
            << ", \"examples_per_second\": " << json_number(examples_per_second)
            << ", \"flop_per_example\": " << json_number(work.total())
            << ", \"gflops\": " << json_number(gflops)
            << ", \"gflops_performed\": " << json_number(gflops_performed)
            << ", \"skipped_share\": " << json_number(skipped_share)
            << ", \"epoch_skipped_multiply_adds\": " << json_list(epoch_skipped)
            << ", \"sgemm_peak_gflops\": " << json_number(peak_gflops)
            << ", \"percent_of_peak\": " << json_number(percent)
            << ", \"percent_of_peak_performed\": " << json_number(percent_performed)
            << ", \"sgemm_sustained_gflops\": " << json_number(sustained_gflops)
            << ", \"percent_of_sustained_peak\": " << json_number(percent_sustained)
            << ", \"percent_of_sustained_peak_performed\": "
            << json_number(percent_sustained_performed)
            << ", \"peak_rss_mib\": " << json_number(rss) << ", \"threads\": " << threads
            << ", \"cpu_per_wall\": " << json_number(cpu_per_wall)
            << ", \"load_before\": " << json_number(load_before)
            << ", \"load_after\": " << json_number(load_after)
            << ", \"test_accuracy\": " << json_number(test.accuracy()) << "}\n\n";
  std::cout.flush();
}

// Runs work(fd) in a child process, where fd is the write end of a pipe whose contents are returned
// in *result (if not null). Returns the child's exit status (0 on success). Keeps what the work
// does to the process (loading OpenBLAS, memory high-water marks) out of the parent.
template <typename Work>
int in_child(const std::string& what, Work work, std::string* result = nullptr,
             bool in_process = false) {
  if (in_process) {  // for debuggers and profilers: no fork, the result through a file
    std::FILE* file = std::tmpfile();
    if (file == nullptr) throw std::runtime_error("cannot create a temporary file");
    work(fileno(file));
    std::fflush(file);
    std::rewind(file);
    std::string text;
    for (int c; (c = std::fgetc(file)) != EOF;) text.push_back(static_cast<char>(c));
    std::fclose(file);
    if (result != nullptr) *result = text;
    return 0;
  }
  int fds[2];
  if (pipe(fds) != 0) {
    std::perror("backprop-bench: pipe");
    return 1;
  }
  std::cout.flush();
  std::cerr.flush();
  const pid_t child = fork();
  if (child < 0) {
    std::perror("backprop-bench: fork");
    return 1;
  }
  if (child == 0) {
    close(fds[0]);
    int code = 0;
    try {
      work(fds[1]);
    } catch (const std::exception& e) {
      std::cerr << "backprop-bench: " << what << ": " << e.what() << '\n';
      code = 1;
    }
    std::cout.flush();
    std::cerr.flush();
    close(fds[1]);
    std::_Exit(code);
  }
  close(fds[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t got; (got = read(fds[0], buffer, sizeof buffer)) != 0;) {
    if (got > 0) text.append(buffer, static_cast<std::size_t>(got));
    if (got < 0 && errno != EINTR) break;
  }
  close(fds[0]);
  if (result != nullptr) *result = text;
  int status = 0;
  if (waitpid(child, &status, 0) < 0) {
    std::perror("backprop-bench: waitpid");
    return 1;
  }
  if (WIFSIGNALED(status)) {
    std::cerr << "backprop-bench: " << what << " was killed by signal " << WTERMSIG(status) << '\n';
    return 1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

std::vector<BenchConfig> chosen_configs(const std::string& names) {
  std::vector<BenchConfig> chosen;
  std::stringstream list(names);
  std::string name;
  while (std::getline(list, name, ',')) {
    bool found = false;
    for (const BenchConfig& config : bench_configs()) {
      if (config.name == name) {
        chosen.push_back(config);
        found = true;
      }
    }
    if (!found) {
      throw CLI::ValidationError(
          "--configs", "unknown configuration '" + name + "': use A, B and C, e.g. --configs A,C");
    }
  }
  return chosen;
}

int run(const Flags& flags) {
  const std::vector<BenchConfig> configs = chosen_configs(flags.configs);
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M", std::localtime(&now));
  std::cout << "backprop-bench, " << date << ", " << sysconf(_SC_NPROCESSORS_ONLN)
            << " CPUs online, load average " << load_average() << ", --threads " << flags.threads
            << (flags.smoke ? ", SMOKE RUN on synthetic data" : "") << '\n'
            << "build type " << BACKPROP_BUILD_TYPE
            << (kAssertions ? ", ASSERTIONS ON (not NDEBUG): timings are not representative" : "")
            << '\n'
            << "Per-epoch times are medians over " << flags.epochs
            << (flags.epochs == 1 ? " epoch" : " epochs")
            << "; other processes may share the machine (see the load average).\n\n";

  // The sgemm timings run in a process of their own, so that the OpenBLAS they load (with its
  // threads and its core type) stays out of the configurations' processes.
  std::string peak_text;
  const int sgemm_status = in_child(
      "sgemm timing",
      [&](int fd) {
        const SgemmReport sgemm =
            measure_sgemm(flags.smoke, flags.gemm_seconds, flags.openblas_core);
        print_sgemm(sgemm);
        std::cout << "BENCH_JSON {\"sgemm_peak_gflops\": " << json_number(sgemm.peak())
                  << ", \"eigen_peak_gflops\": " << json_number(sgemm.eigen_peak())
                  << ", \"openblas_peak_gflops\": " << json_number(sgemm.openblas_peak())
                  << ", \"backprop_peak_gflops\": " << json_number(sgemm.own_peak())
                  << ", \"sgemm_sustained_gflops\": " << json_number(sgemm.sustained_peak())
                  << ", \"fma_limit_gflops\": " << json_number(sgemm.fma_limit)
                  << ", \"openblas_core\": \"" << sgemm.openblas_core << "\"}\n\n";
        const std::string peak =
            json_number(sgemm.peak()) + " " + json_number(sgemm.sustained_peak());
        if (write(fd, peak.data(), peak.size()) != static_cast<ssize_t>(peak.size())) {
          throw std::runtime_error("cannot report the peak to the parent process");
        }
      },
      &peak_text, flags.in_process);
  double peak = 0;
  double sustained = 0;
  if (sgemm_status == 0) std::istringstream(peak_text) >> peak >> sustained;
  if (!(peak > 0) || !(sustained > 0)) {
    std::cerr << "backprop-bench: the sgemm timing failed\n";
    return 1;
  }

  int failures = 0;
  for (const BenchConfig& config : configs) {
    failures +=
        in_child(
            "config " + config.name, [&](int) { run_config(config, flags, peak, sustained); },
            nullptr, flags.in_process) != 0;
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace backprop::bench

int main(int argc, char** argv) {
  backprop::bench::Flags flags;
  const char* data_env = std::getenv("BACKPROP_DATA");
  flags.data_dir = data_env != nullptr && *data_env != '\0' ? data_env : "data";

  CLI::App app{
      "backprop-bench: trains issue 4's configurations (A [784,30,10] sigmoid m=10, B "
      "[784,100,10] sigmoid cross-entropy m=10, C [784,1024,1024,10] ReLU softmax m=128) on "
      "MNIST's 60,000 training images and reports seconds per epoch, GFLOP/s, % of the measured "
      "sgemm peak, peak memory and threads",
      "backprop-bench"};
  app.add_option("--epochs", flags.epochs, "Epochs per configuration (the median is reported)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--configs", flags.configs, "Configurations to run, comma-separated")
      ->capture_default_str();
  app.add_option("--data-dir", flags.data_dir,
                 "Where MNIST is kept or fetched to (default: $BACKPROP_DATA, else ./data)")
      ->capture_default_str();
  app.add_option("--threads", flags.threads, "Training threads, passed on to the library")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--seed", flags.seed, "Seed of the run's random generator")->capture_default_str();
  app.add_option("--gemm-seconds", flags.gemm_seconds,
                 "Seconds spent timing the sgemm products (per large one and library: half of it, "
                 "small ones: an eighth)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option(
      "--openblas-core", flags.openblas_core,
      "OPENBLAS_CORETYPE for timing OpenBLAS's sgemm: a core name (e.g. Haswell, "
      "SkylakeX), env for the environment's, or none to time Eigen only (default: OpenBLAS "
      "chooses)");
  app.add_flag("--in-process", flags.in_process,
               "Run everything in this process (for debuggers and profilers); the peak memory "
               "is then the largest so far, not each configuration's");
  app.add_flag("--smoke", flags.smoke,
               "Check that it runs: tiny synthetic data instead of MNIST, short sgemm timing");
  CLI11_PARSE(app, argc, argv);
  if (flags.smoke) flags.gemm_seconds = std::min(flags.gemm_seconds, 0.05);

  try {
    return backprop::bench::run(flags);
  } catch (const CLI::Error& e) {
    std::cerr << "backprop-bench: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "backprop-bench: " << e.what() << '\n';
    return 1;
  }
}
