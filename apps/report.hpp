// The training report: one self-contained HTML file with the run's cost and
// accuracy curves, the confusion matrix on the test set, the first layer's
// weights drawn as images, misclassified test images and the run's settings.
//
// Pictures are PNGs inside data: URIs and the page draws its charts itself,
// so the file opens anywhere without network access.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "backprop/dataset.hpp"
#include "backprop/metrics_log.hpp"
#include "backprop/network.hpp"
#include "settings.hpp"

namespace backprop::cli {

// The rows of a metrics file, for runs reported from memory (`train --report`).
MetricsRow metrics_row(const EpochReport& report, const std::string& run);

// Throws InputError unless every row of the metrics file was written by the
// run that made the model (the "run" setting): a report must not pair one
// run's curves with another's weights.
void check_same_run(const std::vector<MetricsRow>& metrics,
                    const std::filesystem::path& metrics_path, const Settings& settings,
                    const std::filesystem::path& model_path);

// Writes the report atomically. `test` gives the confusion matrix and the
// misclassified images; `settings` are shown as they are.
template <typename T>
void write_report(const std::filesystem::path& path, Network<T>& network, const Dataset& test,
                  const std::vector<MetricsRow>& metrics, const Settings& settings);

}  // namespace backprop::cli
