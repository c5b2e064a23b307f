// backprop-mpi-bench: the data-parallel step of configuration C (configs.hpp:
// [784,1024,1024,10] ReLU + softmax, log-likelihood, mini-batch 128) on 1 or
// more ranks, split into compute and communication per step.
//
//   build/backprop-mpi-bench                      one process
//   mpirun -np 2 build/backprop-mpi-bench         two ranks
//
// It trains --steps global mini-batches of 128 with the library's Trainer on
// synthetic data (uniform pixels, random labels: the dense products cost the
// same whatever the values) and reports, per step:
//   compute        the step's time outside the gradient sum (each rank
//                  backpropagates its share of the 128, then takes the step)
//   communication  the time in the gradient sum, including waiting for the
//                  slowest rank
//   allreduce      the sum of the gradient buffer alone, timed after a
//                  barrier, without waiting: the transfer itself; also of
//                  1/16 and 1/4 of it, to check the cost model's
//                  latency + bytes / bandwidth
// Rank 0 prints the table and one line `BENCH_JSON {...}` for scripts.
// docs/scaling.md compares these figures with its cost model.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <vector>

#include "backprop/communicator.hpp"
#include "backprop/initialization.hpp"
#include "backprop/parallel.hpp"
#include "backprop/training.hpp"
#include "configs.hpp"

namespace backprop::bench {
namespace {

Dataset synthetic(long examples, int features, int classes, Rng& rng) {
  Dataset data;
  data.values.resize(features, examples);
  for (Eigen::Index i = 0; i < data.values.size(); ++i) {
    data.values.data()[i] = static_cast<float>(rng.uniform());
  }
  data.labels.resize(static_cast<std::size_t>(examples));
  for (int& label : data.labels) label = static_cast<int>(rng.below(classes));
  data.classes = classes;
  data.source = "synthetic data";
  return data;
}

// Median seconds of one allreduce of `values`, each timed after a barrier.
double allreduce_seconds(Communicator& communicator, std::vector<float>& values, int repeats) {
  std::vector<double> seconds;
  for (int i = 0; i < repeats; ++i) {
    communicator.barrier();
    const auto start = std::chrono::steady_clock::now();
    communicator.allreduce_sum(values);
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::ranges::sort(seconds);
  return seconds[seconds.size() / 2];
}

int run(int argc, char** argv) {
  CLI::App app{
      "backprop-mpi-bench: configuration C's data-parallel step, compute and "
      "communication per step (run under mpirun for several ranks)"};
  int steps = 200;
  int threads_per_rank = 1;
  int repeats = 50;
  app.add_option("--steps", steps, "Global mini-batches of 128 to train")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--threads", threads_per_rank, "Threads per rank (0 = every core)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--allreduce-repeats", repeats, "Allreduces timed alone")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const auto communicator = world_communicator();
  const bool leader = communicator->rank() == 0;
  set_threads(threads_per_rank);
  const BenchConfig config = bench_configs().at(2);  // C
  Rng rng(1);
  Network<float> network(config.spec);
  initialize(network, config.initialization, rng);
  const long examples = static_cast<long>(steps) * config.mini_batch;
  Rng data_rng(2);  // the same data on every rank
  const Dataset training =
      synthetic(examples, config.spec.inputs(), config.spec.outputs(), data_rng);

  TrainingOptions options;
  options.epochs = 1;
  options.mini_batch_size = config.mini_batch;
  options.learning_rate = config.eta;
  Trainer<float> trainer(network, training, options, rng, nullptr, *communicator);
  EpochReport epoch;
  trainer.run({}, [&](const EpochReport& report) { epoch = report; });

  std::vector<float> gradient(static_cast<std::size_t>(network.parameter_count()), 1.0F);
  std::vector<double> part_seconds;
  for (const std::size_t part : {16, 4}) {
    std::vector<float> values(gradient.size() / part, 1.0F);
    part_seconds.push_back(allreduce_seconds(*communicator, values, repeats));
  }
  const double allreduce = allreduce_seconds(*communicator, gradient, repeats);

  if (leader) {
    const double compute = (epoch.training_seconds - epoch.communication_seconds) / steps;
    const double communication = epoch.communication_seconds / steps;
    const auto bytes = static_cast<double>(gradient.size() * sizeof(float));
    std::printf(
        "configuration C %s, mini-batch %d, %d steps\n"
        "ranks %d, threads per rank %d, parameters %zu (%.2f MB of float gradients)\n"
        "per step: compute %.2f ms, communication %.2f ms (total %.2f ms, %.0f examples/s)\n"
        "allreduce of the gradients alone: %.2f ms (of 1/4 of them %.2f ms, of 1/16 %.2f ms)\n",
        describe(config.spec).c_str(), config.mini_batch, steps, communicator->size(),
        backprop::threads(), gradient.size(), bytes / 1e6, 1e3 * compute, 1e3 * communication,
        1e3 * (compute + communication), config.mini_batch / (compute + communication),
        1e3 * allreduce, 1e3 * part_seconds[1], 1e3 * part_seconds[0]);
    std::printf(
        "BENCH_JSON {\"config\": \"C\", \"ranks\": %d, \"threads_per_rank\": %d, \"steps\": %d, "
        "\"gradient_bytes\": %.0f, \"compute_ms\": %.3f, \"communication_ms\": %.3f, "
        "\"allreduce_ms\": %.3f, \"allreduce_quarter_ms\": %.3f, \"allreduce_sixteenth_ms\": "
        "%.3f}\n",
        communicator->size(), backprop::threads(), steps, bytes, 1e3 * compute, 1e3 * communication,
        1e3 * allreduce, 1e3 * part_seconds[1], 1e3 * part_seconds[0]);
  }
  return 0;
}

}  // namespace
}  // namespace backprop::bench

int main(int argc, char** argv) {
  try {
    return backprop::bench::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "backprop-mpi-bench: " << e.what() << '\n';
    return 1;
  }
}
