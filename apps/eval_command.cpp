// `backprop eval MODEL`: accuracy, cost and confusion matrix of a saved
// model on a data set (RMSE and cost for regression data).
#include <iomanip>
#include <iostream>
#include <memory>

#include "backprop/evaluation.hpp"
#include "commands.hpp"
#include "data_options.hpp"
#include "model_io.hpp"

namespace backprop::cli {
namespace {

struct EvalFlags {
  std::filesystem::path model;
  DataFlags data;
  std::string set = "test";
};

template <typename T>
void run(const EvalFlags& flags, Network<T>& network) {
  const DataSplit split = flags.data.load();
  const Dataset& data = flags.set == "training"     ? split.training
                        : flags.set == "validation" ? split.validation
                                                    : split.test;
  const Evaluation evaluation = evaluate(network, data);
  if (evaluation.regression) {
    std::cout << flags.set << ": RMSE " << std::setprecision(6) << evaluation.rmse << " over "
              << evaluation.total << " examples, cost " << evaluation.cost
              << " (without the regularization term)\n";
    return;
  }
  std::cout << flags.set << ": " << evaluation.correct << " / " << evaluation.total << " correct ("
            << std::fixed << std::setprecision(2) << 100 * evaluation.accuracy() << "%), cost "
            << std::defaultfloat << std::setprecision(6) << evaluation.cost
            << " (without the regularization term)\n";

  const Eigen::MatrixXi counts = confusion_matrix(network, data);
  std::cout << "confusion matrix (rows: true class, columns: predicted class)\n      ";
  for (int j = 0; j < counts.cols(); ++j) std::cout << std::setw(6) << j;
  std::cout << '\n';
  for (int i = 0; i < counts.rows(); ++i) {
    std::cout << std::setw(6) << i;
    for (int j = 0; j < counts.cols(); ++j) std::cout << std::setw(6) << counts(i, j);
    std::cout << '\n';
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto flags = std::make_shared<EvalFlags>();
  CLI::App* command = app.add_subcommand(
      "eval", "Report a saved model's accuracy, cost and confusion matrix on a data set");
  command->add_option("model", flags->model, "Model file (backprop or network2.py JSON)")
      ->required();
  add_data_flags(*command, flags->data);
  command->add_option("--set", flags->set, "Which part: test, validation or training")
      ->check(CLI::IsMember({"test", "validation", "training"}))
      ->capture_default_str();
  command->callback(
      [flags] { with_saved_network(flags->model, [&](auto& network) { run(*flags, network); }); });
}

}  // namespace backprop::cli
