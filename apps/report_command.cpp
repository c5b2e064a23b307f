// `backprop report MODEL --metrics FILE --output FILE.html`: the training
// report of a saved model, from the metrics file its run wrote and its test
// data (by default the data it was trained on, as saved in the model).
#include <iostream>
#include <memory>

#include "backprop/error.hpp"
#include "commands.hpp"
#include "data_options.hpp"
#include "model_io.hpp"
#include "report.hpp"

namespace backprop::cli {
namespace {

struct ReportFlags {
  std::filesystem::path model;
  std::filesystem::path metrics;
  std::filesystem::path output = "report.html";
  DataFlags data;
};

}  // namespace

void add_report_command(CLI::App& app) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* command = app.add_subcommand(
      "report",
      "Write a self-contained HTML report of a training run: cost and accuracy curves, the "
      "confusion matrix, the first layer's weights, misclassified test images, the settings");
  command->add_option("model", flags->model, "Model saved by `backprop train --save`")->required();
  command
      ->add_option("--metrics", flags->metrics,
                   "The metrics file the same run wrote (`train --metrics`, .csv or JSON lines)")
      ->required();
  command->add_option("-o,--output", flags->output, "Where to write the HTML report")
      ->capture_default_str();
  add_data_flags(*command, flags->data);
  command->callback([flags, command] {
    const ModelFile model = read_model(flags->model);
    const std::vector<MetricsRow> metrics = read_metrics(flags->metrics);
    check_same_run(metrics, flags->metrics, model.settings, flags->model);
    // Without data flags, test on the data the model was trained on.
    bool data_given = false;
    for (const char* name : {"--dataset", "--train-images", "--train-labels", "--test-images",
                             "--test-labels", "--validation-size"}) {
      data_given = data_given || command->get_option(name)->count() > 0;
    }
    if (!data_given) {
      const std::filesystem::path data_dir = flags->data.data_dir;
      flags->data.load_from(model.settings);
      if (command->get_option("--data-dir")->count() > 0) flags->data.data_dir = data_dir;
    }
    const DataSplit data = flags->data.load();
    if (model.precision == Precision::float64) {
      Network<double> network = model.to_network<double>();
      write_report(flags->output, network, data.test, metrics, model.settings);
    } else {
      Network<float> network = model.to_network<float>();
      write_report(flags->output, network, data.test, metrics, model.settings);
    }
    std::cout << "Wrote the report to " << flags->output.string() << std::endl;
  });
}

}  // namespace backprop::cli
