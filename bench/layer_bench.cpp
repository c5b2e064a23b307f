// Micro-benchmarks of a dense layer's forward and backward pass, for every layer of issue 4's
// configurations, and of one whole SGD step (backprop + update) per configuration.
//
// FLOP counts (the counter "FLOP/s"; only the matrix products are counted):
//   forward   Z = W A_in + b 1^T, A = sigma(Z)         2 n_out n_in m
//   backward  BP4 dC/dW = Delta A_in^T / m             2 n_out n_in m
//             BP2 (W^T Delta), except for the first    2 n_out n_in m
//             layer, whose input is the data
//   step      Network::backprop + parameters -= eta gradients: the sum of the above
//   descend   Network::descend: the same step with the update fused into BP3 and BP4
//   interleaved  descend, then an sgemm of its own, by turns (wide mini-batches): the step's
//             rate against the product's in the same caches, and the library's sgemm and
//             OpenBLAS's after a step against the same sgemm in place (see interleaved() below)
//
// Run: build/backprop-layer-bench [--benchmark_filter=C/] [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <vector>

#include "backprop/dense_layer.hpp"
#include "backprop/narrow_product.hpp"
#include "backprop/network.hpp"
#include "backprop/packed_product.hpp"
#include "backprop/rng.hpp"
#include "configs.hpp"
#include "openblas.hpp"

namespace backprop::bench {
namespace {

Matrix<float> random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng, double scale) {
  Matrix<float> matrix(rows, cols);
  for (Eigen::Index i = 0; i < matrix.size(); ++i) {
    matrix.data()[i] = static_cast<float>(scale * (2 * rng.uniform() - 1));
  }
  return matrix;
}

// A layer with its own parameter and gradient buffers, filled with small random values.
struct LayerFixture {
  std::vector<float> parameters;
  std::vector<float> gradients;
  DenseLayer<float> layer;
  Matrix<float> input;  // A^{l-1}, n_in x m, in [0, 1) like pixels or activations
  Matrix<float> delta;  // Delta^l, n_out x m

  LayerFixture(int n_in, int n_out, Activation activation, int m, Rng& rng)
      : parameters(static_cast<std::size_t>(DenseLayer<float>::parameter_count(n_in, n_out))),
        gradients(parameters.size()),
        layer(n_in, n_out, activation, parameters.data(), gradients.data()),
        input((random_matrix(n_in, m, rng, 1.0).array() + 1) / 2),
        delta(random_matrix(n_out, m, rng, 0.1)) {
    for (float& p : parameters) p = static_cast<float>((2 * rng.uniform() - 1) / 30);
  }
};

void set_rate(benchmark::State& state, double flops_per_iteration, int m) {
  state.counters["FLOP/s"] =
      benchmark::Counter(flops_per_iteration, benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
  state.SetItemsProcessed(state.iterations() * m);  // examples per second
}

void forward(benchmark::State& state, int n_in, int n_out, Activation activation, int m) {
  Rng rng(1);
  LayerFixture f(n_in, n_out, activation, m, rng);
  for (auto _ : state) {
    const Matrix<float>& a = f.layer.forward(f.input);
    benchmark::DoNotOptimize(a.data());
    benchmark::ClobberMemory();
  }
  set_rate(state, 2.0 * n_out * n_in * m, m);
}

void backward(benchmark::State& state, int n_in, int n_out, Activation activation, int m,
              bool first) {
  Rng rng(1);
  LayerFixture f(n_in, n_out, activation, m, rng);
  f.layer.forward(f.input);
  Matrix<float> input_grad;
  for (auto _ : state) {
    f.layer.backward(f.delta, f.input, first ? nullptr : &input_grad);
    benchmark::DoNotOptimize(f.gradients.data());
    benchmark::DoNotOptimize(input_grad.data());
    benchmark::ClobberMemory();
  }
  set_rate(state, (first ? 2.0 : 4.0) * n_out * n_in * m, m);
}

// A configuration's network, initialised, and one fixed mini-batch for it.
struct FixedBatch {
  Network<float> network;
  Matrix<float> x;
  Matrix<float> y;

  explicit FixedBatch(const BenchConfig& config) : network(config.spec) {
    Rng rng(1);
    initialize(network, config.initialization, rng);
    const int m = config.mini_batch;
    x = (random_matrix(config.spec.inputs(), m, rng, 1.0).array() + 1) / 2;
    y = Matrix<float>::Zero(config.spec.outputs(), m);
    for (int j = 0; j < m; ++j) y(static_cast<Eigen::Index>(rng.below(10)), j) = 1;
  }
};

// One SGD step of the whole network on a fixed mini-batch: what train() does per batch, less
// gathering the batch.
void step(benchmark::State& state, const BenchConfig& config) {
  FixedBatch batch(config);
  const float eta = static_cast<float>(config.eta);
  for (auto _ : state) {
    benchmark::DoNotOptimize(batch.network.backprop(batch.x, batch.y));
    batch.network.parameters() -= eta * batch.network.gradients();
    benchmark::ClobberMemory();
  }
  set_rate(state, work_per_example(config.spec.sizes).total() * config.mini_batch,
           config.mini_batch);
}

// The same step fused (Network::descend): BP3 and BP4's products update the parameters where
// they lie; what train() does for plain SGD with wide mini-batches.
void descend(benchmark::State& state, const BenchConfig& config) {
  FixedBatch batch(config);
  const Descent<float> descent{static_cast<float>(config.eta)};
  bool finite = true;
  for (auto _ : state) {
    benchmark::DoNotOptimize(batch.network.descend(batch.x, batch.y, nullptr, descent, finite));
    benchmark::ClobberMemory();
  }
  if (!finite) state.SkipWithError("the parameters became NaN or infinite");
  set_rate(state, work_per_example(config.spec.sizes).total() * config.mini_batch,
           config.mini_batch);
}

// One fused SGD step, then a large sgemm (C's W^2 A^1 shape: the library's packed product on
// matrices of its own), then the same sgemm again, by turns; and, where libopenblas.so.0 is
// installed, another step and OpenBLAS's sgemm of the same shape twice the same way. The first
// product of each pair finds the caches as a training step leaves them, as the step's own
// products do; the second is timed as backprop-bench times its sgemm peak, in place, its factors
// still in the caches from the run before, which no product inside a step sees. Counters: the
// medians of the rates, of the step's ratio to each of the library's products, and of each
// library's rate after a step to its rate again, pair by pair (steady where the machine's speed
// drifts: the parts of one iteration see the same spell).
void interleaved(benchmark::State& state, const BenchConfig& config) {
  using Clock = std::chrono::steady_clock;
  const auto seconds = [](Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
  };
  FixedBatch batch(config);
  const Descent<float> descent{static_cast<float>(config.eta) / 100};
  bool finite = true;
  Rng rng(2);
  const Matrix<float> w = random_matrix(1024, 1024, rng, 1.0);
  const Matrix<float> a = random_matrix(1024, config.mini_batch, rng, 1.0);
  Matrix<float> z(1024, config.mini_batch);
  PackedRight<float> packed;
  const auto product = [&] {
    packed.pack(strided<float>(a));
    packed_product(strided<float>(w), packed, 1.0F, z.data(), z.outerStride());
    benchmark::DoNotOptimize(z.data());
  };
  const OpenBlas openblas("");  // its kernels for this CPU, as backprop-bench's peak by default
  const GemmShape shape{"C forward W^2 A^1", 1024, config.mini_batch, 1024};
  const auto openblas_product = [&] {
    openblas.multiply(shape, w, a, z);
    benchmark::DoNotOptimize(z.data());
  };
  // A step, then `multiply` twice: the seconds of each of the three.
  struct Times {
    double step, after_step, again;
  };
  const auto after_a_step = [&](const auto& multiply) {
    const auto start = Clock::now();
    benchmark::DoNotOptimize(batch.network.descend(batch.x, batch.y, nullptr, descent, finite));
    const auto stepped = Clock::now();
    multiply();
    const auto multiplied = Clock::now();
    multiply();  // once more, as the peak is timed: in place, right after itself
    return Times{seconds(start, stepped), seconds(stepped, multiplied),
                 seconds(multiplied, Clock::now())};
  };
  const double step_flops = work_per_example(config.spec.sizes).total() * config.mini_batch;
  const double product_flops = 2.0 * 1024 * 1024 * config.mini_batch;
  std::vector<double> step_rates;
  std::vector<double> product_rates;
  std::vector<double> repeated_rates;
  std::vector<double> ratios;
  std::vector<double> repeated_ratios;
  std::vector<double> product_losses;
  std::vector<double> openblas_rates;
  std::vector<double> openblas_repeated_rates;
  std::vector<double> openblas_losses;
  for (auto _ : state) {
    const Times own = after_a_step(product);
    double total = own.step + own.after_step + own.again;
    step_rates.push_back(step_flops / own.step);
    product_rates.push_back(product_flops / own.after_step);
    repeated_rates.push_back(product_flops / own.again);
    ratios.push_back(step_rates.back() / product_rates.back());
    repeated_ratios.push_back(step_rates.back() / repeated_rates.back());
    product_losses.push_back(product_rates.back() / repeated_rates.back());
    if (openblas.available()) {
      const Times theirs = after_a_step(openblas_product);
      total += theirs.step + theirs.after_step + theirs.again;
      openblas_rates.push_back(product_flops / theirs.after_step);
      openblas_repeated_rates.push_back(product_flops / theirs.again);
      openblas_losses.push_back(openblas_rates.back() / openblas_repeated_rates.back());
    }
    state.SetIterationTime(total);
  }
  if (!finite) state.SkipWithError("the parameters became NaN or infinite");
  state.counters["step_GFLOP/s"] = median(step_rates) / 1e9;
  state.counters["sgemm_GFLOP/s"] = median(product_rates) / 1e9;
  state.counters["step/sgemm"] = median(ratios);
  state.counters["sgemm_again_GFLOP/s"] = median(repeated_rates) / 1e9;
  state.counters["step/sgemm_again"] = median(repeated_ratios);
  state.counters["sgemm/sgemm_again"] = median(product_losses);
  if (openblas.available()) {
    state.counters["openblas_GFLOP/s"] = median(openblas_rates) / 1e9;
    state.counters["openblas_again_GFLOP/s"] = median(openblas_repeated_rates) / 1e9;
    state.counters["openblas/openblas_again"] = median(openblas_losses);
  }
}

void register_all() {
  for (const BenchConfig& config : bench_configs()) {
    const std::vector<int>& sizes = config.spec.sizes;
    const int m = config.mini_batch;
    for (std::size_t l = 1; l < sizes.size(); ++l) {
      const int n_in = sizes[l - 1];
      const int n_out = sizes[l];
      const Activation activation = config.spec.activations[l - 1];
      const std::string name = config.name + "/L" + std::to_string(l) + "_" +
                               std::to_string(n_out) + "x" + std::to_string(n_in) + "_m" +
                               std::to_string(m);
      benchmark::RegisterBenchmark(("forward/" + name).c_str(), forward, n_in, n_out, activation,
                                   m);
      benchmark::RegisterBenchmark(("backward/" + name).c_str(), backward, n_in, n_out, activation,
                                   m, l == 1);
    }
    benchmark::RegisterBenchmark(("step/" + config.name + "/m" + std::to_string(m)).c_str(), step,
                                 config);
    benchmark::RegisterBenchmark(("descend/" + config.name + "/m" + std::to_string(m)).c_str(),
                                 descend, config);
    if (m > kNarrowColumns) {
      benchmark::RegisterBenchmark(
          ("interleaved/" + config.name + "/m" + std::to_string(m)).c_str(), interleaved, config)
          ->UseManualTime()
          ->MinTime(2.0);
    }
  }
}

}  // namespace
}  // namespace backprop::bench

int main(int argc, char** argv) {
  backprop::bench::register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
