// Measuring a network on a data set.
#pragma once

#include <vector>

#include "backprop/dataset.hpp"
#include "backprop/network.hpp"

namespace backprop {

struct Evaluation {
  long correct = 0;  // examples whose largest output is the label
  long total = 0;
  double cost = 0;  // mean cost over the examples
  // Regression data (real-valued targets) have no classes to get right:
  // there `correct` stays 0 and the measure is the root mean squared error
  // sqrt(sum_x ||a(x) - y(x)||^2 / (n * outputs)), in the targets' units.
  bool regression = false;
  double rmse = 0;

  double accuracy() const { return total == 0 ? 0.0 : static_cast<double>(correct) / total; }
  // What early stopping and the plateau schedule try to raise: accuracy,
  // or -RMSE for regression.
  double score() const { return regression ? -rmse : accuracy(); }
};

// Feeds the data set forward in chunks of `chunk` examples.
template <typename T>
Evaluation evaluate(Network<T>& network, const Dataset& data, long chunk = 1000);

// The same over examples [begin, begin + size) only (a rank's share).
template <typename T>
Evaluation evaluate_part(Network<T>& network, const Dataset& data, long begin, long size,
                         long chunk = 1000);

// The predicted class (index of the largest output) of every example: of a
// data set, or of the columns of a matrix of inputs.
template <typename T>
std::vector<int> predict_classes(Network<T>& network, const Dataset& data, long chunk = 1000);
template <typename T>
std::vector<int> predict_classes(Network<T>& network, const Matrix<float>& inputs,
                                 long chunk = 1000);

// counts(i, j): examples of class i that the network puts in class j.
template <typename T>
Eigen::MatrixXi confusion_matrix(Network<T>& network, const Dataset& data);

}  // namespace backprop
