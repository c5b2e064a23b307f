// `backprop train`: train a network with mini-batch SGD and report each epoch.
//
// With no flags it runs the book's chapter-1 experiment: [784, 30, 10],
// sigmoid, quadratic cost, N(0,1) initialisation, eta 3.0, mini-batch 10,
// 30 epochs on MNIST, fetching MNIST first if it is not there yet.
//
// Under mpirun it trains data-parallel (docs/scaling.md): every rank runs
// this command with the same flags and data; rank 0 alone prints and
// writes files, and an error every rank meets is reported once, by rank 0.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "backprop/communicator.hpp"
#include "backprop/error.hpp"
#include "backprop/initialization.hpp"
#include "backprop/metrics_log.hpp"
#include "backprop/model_file.hpp"
#include "backprop/parallel.hpp"
#include "backprop/sha256.hpp"
#include "backprop/training.hpp"
#include "commands.hpp"
#include "config_file.hpp"
#include "data_options.hpp"
#include "model_io.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "report.hpp"
#include "settings.hpp"

namespace backprop::cli {
namespace {

struct TrainFlags {
  ArchitectureFlags architecture;
  DataFlags data;
  TrainingOptions training;
  std::string initialization = "large";
  std::string regularization = "l2";
  std::string optimizer = "sgd";
  std::string schedule = "constant";
  std::vector<double> dropout;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string precision = "float";
  std::vector<std::string> monitor{"test"};
  bool no_shuffle = false;
  std::filesystem::path save;
  std::filesystem::path load;
  std::filesystem::path metrics;
  std::filesystem::path checkpoint = "checkpoint.bpm";
  int checkpoint_every = 0;
  std::filesystem::path resume;
  std::filesystem::path config;
  std::filesystem::path report;
  bool quiet = false;
  bool json = false;

  // Turns the names into the library's options (throws InputError).
  void resolve(int layer_count) {
    training.regularization.penalty = parse_penalty(regularization);
    training.optimizer.kind = parse_optimizer(optimizer);
    training.schedule.kind = parse_schedule(schedule);
    training.shuffle = !no_shuffle;
    training.dropout = dropout;
    // One rate means every hidden layer; the output layer is never dropped.
    if (dropout.size() == 1) {
      training.dropout.assign(static_cast<std::size_t>(layer_count), dropout.front());
      training.dropout.back() = 0;
    }
    parse_initialization(initialization);
    for (const auto& set : monitor) {
      if (set != "training" && set != "validation" && set != "test" && set != "none") {
        throw InputError("--monitor takes training, validation, test or none, not '" + set + "'");
      }
    }
    training.validate();
  }
};

Settings to_settings(const TrainFlags& flags, const NetworkSpec& spec) {
  Settings s;
  std::vector<std::string> sizes;
  for (int size : spec.sizes) sizes.push_back(std::to_string(size));
  s["layers"] = join(sizes);
  std::vector<std::string> activations;
  for (Activation a : spec.activations) activations.push_back(to_string(a));
  s["activations"] = join(activations);
  s["cost"] = to_string(spec.cost);
  s["init"] = flags.initialization;
  const TrainingOptions& t = flags.training;
  s["epochs"] = std::to_string(t.epochs);
  s["mini_batch"] = std::to_string(t.mini_batch_size);
  s["eta"] = format_number(t.learning_rate);
  s["shuffle"] = t.shuffle ? "true" : "false";
  s["regularization"] = flags.regularization;
  s["lambda"] = format_number(t.regularization.lambda);
  std::vector<std::string> rates;
  for (double rate : t.dropout) rates.push_back(format_number(rate));
  s["dropout"] = join(rates);
  s["optimizer"] = flags.optimizer;
  s["momentum"] = format_number(t.optimizer.momentum);
  s["beta1"] = format_number(t.optimizer.beta1);
  s["beta2"] = format_number(t.optimizer.beta2);
  s["adam_epsilon"] = format_number(t.optimizer.epsilon);
  s["max_grad_norm"] = format_number(t.max_gradient_norm);
  s["schedule"] = flags.schedule;
  s["step_epochs"] = std::to_string(t.schedule.step_epochs);
  s["gamma"] = format_number(t.schedule.gamma);
  s["plateau_patience"] = std::to_string(t.schedule.patience);
  s["early_stopping"] = std::to_string(t.early_stopping_patience);
  s["seed"] = std::to_string(flags.seed);
  s["precision"] = flags.precision;
  s["monitor"] = join(flags.monitor);
  s["no_shuffle"] = t.shuffle ? "false" : "true";
  s["load"] = flags.load.string();
  s["config"] = flags.config.string();
  // With the data's, these are every flag of `train` that decides the
  // weights. Not kept: where the output goes (--save, --metrics,
  // --checkpoint, --checkpoint-every), --resume and --threads, which a
  // resumed run may change without changing a bit of the result.
  flags.data.save_to(s);
  return s;
}

// The inverse of to_settings, for --resume: the run continues as it began.
void from_settings(const Settings& s, TrainFlags& flags) {
  flags.initialization = setting(s, "init");
  TrainingOptions& t = flags.training;
  t.epochs = static_cast<int>(integer_setting(s, "epochs", 0, INT_MAX));
  t.mini_batch_size = static_cast<int>(integer_setting(s, "mini_batch", 1, INT_MAX));
  t.learning_rate = number_setting(s, "eta");
  flags.no_shuffle = setting(s, "shuffle") == "false";
  flags.regularization = setting(s, "regularization");
  t.regularization.lambda = number_setting(s, "lambda");
  flags.dropout = number_list_setting(s, "dropout");
  flags.optimizer = setting(s, "optimizer");
  t.optimizer.momentum = number_setting(s, "momentum");
  t.optimizer.beta1 = number_setting(s, "beta1");
  t.optimizer.beta2 = number_setting(s, "beta2");
  t.optimizer.epsilon = number_setting(s, "adam_epsilon");
  t.max_gradient_norm = number_setting(s, "max_grad_norm");
  flags.schedule = setting(s, "schedule");
  t.schedule.step_epochs = static_cast<int>(integer_setting(s, "step_epochs", 0, INT_MAX));
  t.schedule.gamma = number_setting(s, "gamma");
  t.schedule.patience = static_cast<int>(integer_setting(s, "plateau_patience", 0, INT_MAX));
  t.early_stopping_patience = static_cast<int>(integer_setting(s, "early_stopping", 0, INT_MAX));
  flags.seed = unsigned_setting(s, "seed");
  flags.precision = setting(s, "precision");
  flags.monitor = split(setting(s, "monitor"));
  flags.data.load_from(s);
}

std::string describe(const NetworkSpec& spec) {
  std::ostringstream out;
  out << '[';
  for (std::size_t i = 0; i < spec.sizes.size(); ++i) out << (i ? "," : "") << spec.sizes[i];
  out << "] ";
  for (std::size_t l = 0; l < spec.activations.size(); ++l) {
    out << (l ? "," : "") << to_string(spec.activations[l]);
  }
  out << ", " << to_string(spec.cost) << " cost";
  return out.str();
}

bool monitors(const TrainFlags& flags, const std::string& set) {
  return std::ranges::find(flags.monitor, set) != flags.monitor.end();
}

// The settings every rank must share: all but where the data files lie,
// which may differ from machine to machine (their contents are compared).
std::string shared_settings_digest(const Settings& settings) {
  Sha256 sha;
  for (const auto& [key, value] : settings) {
    if (key == "data_dir" || key.ends_with("_images") || key.ends_with("_labels")) continue;
    for (const std::string* text : {&key, &value}) {
      sha.update(std::as_bytes(std::span(text->c_str(), text->size() + 1)));  // with its NUL
    }
  }
  return sha.hex();
}

// Ranks other than 0 print nothing: they do the same work as rank 0, and
// rank 0 reports every error that all ranks meet together.
void quiet_other_ranks(const Communicator& communicator) {
  if (communicator.rank() == 0) return;
  std::cout.rdbuf(nullptr);
  std::cerr.rdbuf(nullptr);
}

// --threads 0 means every core, shared among the ranks on this machine.
int threads_per_rank(int threads, const Communicator& communicator) {
  if (threads != 0 || communicator.size() == 1) return threads;
  const int cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  return std::max(1, cores / communicator.ranks_on_this_host());
}

template <typename T>
void run(TrainFlags& flags, std::optional<ModelFile> start, Communicator& communicator) {
  Rng rng(flags.seed);
  NetworkSpec spec;
  DataSplit data;
  std::optional<Network<T>> built;
  on_every_rank(communicator, [&] {
    spec = start ? start->spec : flags.architecture.spec();
    flags.resolve(static_cast<int>(spec.sizes.size()) - 1);
    // --quiet silences the data set's fetch messages too; failures still
    // reach the user, as exceptions.
    std::streambuf* const stderr_buffer = std::cerr.rdbuf();
    if (flags.quiet) std::cerr.rdbuf(nullptr);
    try {
      data = flags.data.load();
      std::cerr.rdbuf(stderr_buffer);
    } catch (...) {
      std::cerr.rdbuf(stderr_buffer);
      throw;
    }
    check_fits(data.training, spec.inputs(), spec.outputs());
    built.emplace(start ? start->template to_network<T>() : Network<T>(spec));
    if (!start) initialize(*built, parse_initialization(flags.initialization), rng);
  });
  Network<T>& network = *built;

  Trainer<T> trainer(network, data.training, flags.training, rng, &data.validation, communicator);
  const bool resuming = start && start->state.has_value() && !flags.resume.empty();
  if (resuming) trainer.restore(*start->state);

  Monitor monitor;
  if (monitors(flags, "training")) monitor.training = &data.training;
  if (monitors(flags, "validation")) monitor.validation = &data.validation;
  if (monitors(flags, "test")) monitor.test = &data.test;

  Settings settings = to_settings(flags, spec);
  require_agreement(communicator, shared_settings_digest(settings), "the training settings",
                    "start every rank with the same flags");
  const bool leader = communicator.rank() == 0;  // prints and writes the files
  const bool several_ranks = communicator.size() > 1;
  // The network holds its starting weights here. A resumed run keeps its
  // identifier, so its metrics file stays one run's.
  std::string identifier = run_id(settings, network.parameters().template cast<double>());
  if (resuming && start->settings.contains("run")) identifier = start->settings.at("run");
  settings["run"] = identifier;
  std::optional<MetricsLog> metrics;
  on_every_rank(communicator, [&] {
    if (leader && !flags.metrics.empty()) metrics.emplace(flags.metrics, resuming, identifier);
  });
  Progress progress(flags.quiet, flags.json, flags.training.epochs, identifier);
  std::vector<MetricsRow> history;  // for --report

  const TrainingOptions& options = flags.training;
  progress.info() << (resuming ? "Resuming " : "Training ") << describe(spec) << ", eta "
                  << options.learning_rate << ", mini-batch " << options.mini_batch_size << ", "
                  << options.epochs << " epochs, seed " << flags.seed << ", " << flags.precision
                  << ", " << threads() << (threads() == 1 ? " thread" : " threads");
  if (several_ranks) progress.info() << " on each of " << communicator.size() << " ranks";
  progress.info() << ", on " << data.training.size() << " examples";
  if (resuming) progress.info() << " from epoch " << trainer.epochs_completed();
  progress.info() << std::endl;

  const auto save_model = [&](const std::filesystem::path& path, bool with_state) {
    ModelFile model = ModelFile::from(network);
    model.settings = settings;
    if (with_state) model.state = trainer.state();
    write_model(path, model);
  };

  StopReason reason = StopReason::completed;
  try {
    reason = trainer.run(
        monitor,
        [&](const EpochReport& report) {
          if (!leader) return;
          try {
            progress.on_epoch(report);
            if (metrics) metrics->write(report);
            if (!flags.report.empty()) history.push_back(metrics_row(report, identifier));
            if (flags.checkpoint_every > 0 && (report.epoch + 1) % flags.checkpoint_every == 0) {
              save_model(flags.checkpoint, true);
            }
          } catch (const std::exception& e) {
            if (!several_ranks) throw;
            // Rank 0 alone has failed, and the others wait for it in the next
            // step's sum: end them all.
            std::cerr << "backprop: " << e.what() << std::endl;
            communicator.abort(dynamic_cast<const InputError*>(&e) != nullptr ? 2 : 1);
          }
        },
        leader ? progress.on_batch() : BatchCallback{});
  } catch (const NumericError&) {
    // Every rank meets a divergence at the same step; rank 0 saves.
    progress.finish();
    if (leader && !flags.save.empty()) {
      save_model(flags.save, false);
      std::cerr << "backprop: the last good weights were saved to " << flags.save.string() << '\n';
    }
    throw;
  }
  if (reason == StopReason::early_stopping) {
    progress.info() << "Stopped early: no better validation accuracy for "
                    << options.early_stopping_patience << " epochs; kept the best weights"
                    << std::endl;
  } else if (reason == StopReason::schedule) {
    progress.info() << "Stopped: the learning rate fell to eta/128 (" << trainer.learning_rate()
                    << ")" << std::endl;
  }
  if (!leader) return;
  if (!monitor.test || reason == StopReason::early_stopping) {
    const Evaluation test = evaluate(network, data.test);
    if (test.regression) {
      progress.info() << "Test: RMSE " << test.rmse << std::endl;
    } else {
      progress.info() << "Test: " << test.correct << " / " << test.total << std::endl;
    }
  }
  if (!flags.save.empty()) {
    save_model(flags.save, false);
    progress.info() << "Saved the model to " << flags.save.string() << std::endl;
  }
  if (!flags.report.empty()) {
    // A resumed run's earlier epochs are in its metrics file, if it kept one.
    if (resuming && !flags.metrics.empty()) history = read_metrics(flags.metrics);
    write_report(flags.report, network, data.test, history, settings);
    progress.info() << "Wrote the report to " << flags.report.string() << std::endl;
  }
}

// The model a run starts from: the checkpoint of --resume (whose settings
// then replace the flags), the model of --load, or none.
void read_start(TrainFlags& flags, CLI::App& command, const CLI::Option* resume,
                std::optional<ModelFile>& start) {
  if (!flags.resume.empty()) {
    // Only where the output goes, and how long, may change on resume.
    for (const CLI::Option* option : command.get_options()) {
      const std::string name = option->get_name();
      const bool allowed = option == resume || name == "--save" || name == "--metrics" ||
                           name == "--checkpoint" || name == "--checkpoint-every" ||
                           name == "--epochs" || name == "--threads" || name == "--help" ||
                           name == "--report" || name == "--quiet" || name == "--json";
      if (!allowed && option->count() > 0) {
        throw InputError("--resume continues the run with the settings saved in " +
                         flags.resume.string() + ": drop " + name);
      }
    }
    start = read_model(flags.resume);
    if (!start->state) {
      throw InputError(flags.resume.string() +
                       " holds a model but no training state: start from it with --load, "
                       "or resume from a file written by --checkpoint-every");
    }
    const int epochs = flags.training.epochs;
    const bool epochs_given = command.get_option("--epochs")->count() > 0;
    from_settings(start->settings, flags);
    if (epochs_given) flags.training.epochs = epochs;
  } else if (!flags.load.empty()) {
    for (const char* name : {"--layers", "--activations", "--cost", "--init"}) {
      if (command.get_option(name)->count() > 0) {
        throw InputError(std::string("--load takes the network from ") + flags.load.string() +
                         ": drop " + name);
      }
    }
    start = read_model(flags.load);
    start->state.reset();
  }
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto flags = std::make_shared<TrainFlags>();
  CLI::App* command = app.add_subcommand(
      "train",
      "Train a network with mini-batch SGD (default: the book's chapter-1 network on "
      "MNIST)");
  add_architecture_flags(*command, flags->architecture);
  add_data_flags(*command, flags->data);
  TrainingOptions& t = flags->training;
  command
      ->add_option("--init", flags->initialization,
                   "Initial weights: large (N(0,1), chapter 1), scaled (N(0,1/n_in), "
                   "chapter 3), xavier, he")
      ->capture_default_str();
  command->add_option("--eta", t.learning_rate, "Learning rate eta")->capture_default_str();
  command->add_option("--mini-batch", t.mini_batch_size, "Mini-batch size m")
      ->capture_default_str();
  command->add_option("--epochs", t.epochs, "Number of epochs")->capture_default_str();
  command->add_option("--seed", flags->seed, "Seed of the run's random generator")
      ->capture_default_str();
  command
      ->add_option("--threads", flags->threads,
                   "Threads (0 = every core); the weights do not depend on the count")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  command->add_option("--precision", flags->precision, "Arithmetic: float or double")
      ->check(CLI::IsMember({"float", "double"}))
      ->capture_default_str();
  command->add_flag("--no-shuffle", flags->no_shuffle,
                    "Keep the examples in file order every epoch (for debugging)");

  command
      ->add_option("--lambda", t.regularization.lambda,
                   "Regularization parameter lambda (0 = none); the book uses 5.0")
      ->capture_default_str();
  command
      ->add_option("--regularization", flags->regularization,
                   "Weight penalty when lambda > 0: l2 (weight decay) or l1")
      ->capture_default_str();
  command
      ->add_option("--dropout", flags->dropout,
                   "Dropout rate of every hidden layer (one number), or of each layer after "
                   "the input (0 for the output layer)")
      ->delimiter(',');
  command->add_option("--optimizer", flags->optimizer, "sgd, momentum, nesterov or adam")
      ->capture_default_str();
  command
      ->add_option("--momentum", t.optimizer.momentum,
                   "Momentum co-efficient mu (momentum, nesterov)")
      ->capture_default_str();
  command->add_option("--beta1", t.optimizer.beta1, "Adam's beta1")->capture_default_str();
  command->add_option("--beta2", t.optimizer.beta2, "Adam's beta2")->capture_default_str();
  command->add_option("--adam-epsilon", t.optimizer.epsilon, "Adam's epsilon")
      ->capture_default_str();
  command
      ->add_option("--max-grad-norm", t.max_gradient_norm,
                   "Clip the gradient's L2 norm to this (0 = off)")
      ->capture_default_str();
  command
      ->add_option("--schedule", flags->schedule,
                   "Learning-rate schedule: constant, step, or plateau (the book's: halve "
                   "eta after --plateau-patience epochs without better validation accuracy, "
                   "stop at eta/128)")
      ->capture_default_str();
  command->add_option("--step-epochs", t.schedule.step_epochs, "step: epochs per decay")
      ->capture_default_str();
  command->add_option("--gamma", t.schedule.gamma, "step: decay factor")->capture_default_str();
  command
      ->add_option("--plateau-patience", t.schedule.patience,
                   "plateau: epochs without improvement before halving eta")
      ->capture_default_str();
  command
      ->add_option("--early-stopping", t.early_stopping_patience,
                   "Stop after this many epochs without better validation accuracy, keeping "
                   "the best weights (0 = off)")
      ->capture_default_str();

  command
      ->add_option("--monitor", flags->monitor,
                   "Data evaluated (cost and accuracy) after each epoch: any of training, "
                   "validation, test, or none")
      ->delimiter(',')
      ->capture_default_str();
  command->add_option("--metrics", flags->metrics,
                      "Write per-epoch metrics to this file: .csv for CSV, else JSON lines");
  command->add_option("--save", flags->save,
                      "Save the trained model here (.json: the book's network2.py format)");
  command->add_option("--load", flags->load,
                      "Start from this saved model (backprop or network2.py JSON) instead of "
                      "random weights");
  command
      ->add_option("--checkpoint-every", flags->checkpoint_every,
                   "Write a checkpoint every N epochs (0 = never)")
      ->check(CLI::Range(0L, 1L << 40))
      ->capture_default_str();
  command->add_option("--checkpoint", flags->checkpoint, "Where checkpoints are written")
      ->capture_default_str();
  command->add_option("--config", flags->config,
                      "Read flags from this file, JSON (.json) or TOML (.toml): keys are the "
                      "flags without dashes (eta = 0.5); flags given here win over the file");
  command->add_option("--report", flags->report,
                      "Write an HTML report of the run here when training ends (curves, "
                      "confusion matrix, first-layer weights, misclassified test images)");
  command->add_flag("--quiet", flags->quiet, "Print nothing but errors");
  command->add_flag("--json", flags->json,
                    "Print one JSON object per epoch on stdout (as in a metrics file) and "
                    "nothing else there; other messages go to stderr");
  CLI::Option* resume = command->add_option(
      "--resume", flags->resume,
      "Continue the run saved in this checkpoint, with its settings; the final weights equal "
      "an uninterrupted run's");

  command->callback([flags, command, resume] {
    const std::unique_ptr<Communicator> communicator = world_communicator();
    quiet_other_ranks(*communicator);
    std::optional<ModelFile> start;
    if (!flags->config.empty() && flags->resume.empty()) {
      on_every_rank(*communicator, [&] {
        apply_config(flags->config, read_config(flags->config, *command), *command);
      });
    }
    on_every_rank(*communicator, [&] { read_start(*flags, *command, resume, start); });
    set_threads(threads_per_rank(flags->threads, *communicator));
    if (flags->precision == "double") {
      run<double>(*flags, start, *communicator);
    } else {
      run<float>(*flags, start, *communicator);
    }
  });
}

}  // namespace backprop::cli
