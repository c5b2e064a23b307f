#include "backprop/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>
#include <vector>

namespace backprop {

template <typename T>
Evaluation evaluate(Network<T>& network, const Dataset& data, long chunk) {
  return evaluate_part(network, data, 0, data.size(), chunk);
}

template <typename T>
Evaluation evaluate_part(Network<T>& network, const Dataset& data, long begin, long size,
                         long chunk) {
  check_fits(data, network.spec().inputs(), network.spec().outputs());
  const int outputs = network.spec().outputs();
  Evaluation result;
  result.total = size;
  result.regression = data.regression();
  double squared_error = 0;
  std::vector<int> indices(static_cast<std::size_t>(std::min(chunk, size)));
  Matrix<T> x;
  Matrix<T> y;
  double cost_sum = 0;
  const long end = begin + size;
  for (long first = begin; first < end; first += chunk) {
    const long count = std::min(chunk, end - first);
    indices.resize(static_cast<std::size_t>(count));
    std::iota(indices.begin(), indices.end(), static_cast<int>(first));
    gather(data, std::span<const int>(indices), outputs, x, y);
    const double chunk_cost = network.cost(x, y);
    cost_sum += chunk_cost * static_cast<double>(count);
    const Matrix<T>& a = network.layer(network.layer_count() - 1).a();
    if (result.regression) {
      squared_error += static_cast<double>((a - y).squaredNorm());
      continue;
    }
    for (long i = 0; i < count; ++i) {
      Eigen::Index predicted = 0;
      a.col(i).maxCoeff(&predicted);
      if (predicted == data.labels[static_cast<std::size_t>(first + i)]) ++result.correct;
    }
  }
  result.cost = size == 0 ? 0.0 : cost_sum / static_cast<double>(size);
  if (result.regression && size > 0) {
    result.rmse = std::sqrt(squared_error / static_cast<double>(size * outputs));
  }
  return result;
}

namespace {

// The predicted classes of examples [0, count), `chunk` at a time, whose
// inputs columns(first, size) gives.
template <typename T, typename Columns>
std::vector<int> predict_in_chunks(Network<T>& network, long count, long chunk,
                                   const Columns& columns) {
  std::vector<int> classes;
  classes.reserve(static_cast<std::size_t>(count));
  for (long first = 0; first < count; first += chunk) {
    const long size = std::min<long>(chunk, count - first);
    const Matrix<T> x = columns(first, size).template cast<T>();
    const Matrix<T>& a = network.feedforward(x);
    for (long i = 0; i < size; ++i) {
      Eigen::Index predicted = 0;
      a.col(i).maxCoeff(&predicted);
      classes.push_back(static_cast<int>(predicted));
    }
  }
  return classes;
}

}  // namespace

template <typename T>
std::vector<int> predict_classes(Network<T>& network, const Dataset& data, long chunk) {
  return predict_in_chunks(network, data.size(), chunk,
                           [&](long first, long size) { return data.input_columns(first, size); });
}

template <typename T>
std::vector<int> predict_classes(Network<T>& network, const Matrix<float>& inputs, long chunk) {
  return predict_in_chunks(network, inputs.cols(), chunk,
                           [&](long first, long size) { return inputs.middleCols(first, size); });
}

template <typename T>
Eigen::MatrixXi confusion_matrix(Network<T>& network, const Dataset& data) {
  check_fits(data, network.spec().inputs(), network.spec().outputs());
  const int classes = network.spec().outputs();
  Eigen::MatrixXi counts = Eigen::MatrixXi::Zero(classes, classes);
  const std::vector<int> predicted = predict_classes(network, data);
  for (std::size_t i = 0; i < predicted.size(); ++i) ++counts(data.labels[i], predicted[i]);
  return counts;
}

template std::vector<int> predict_classes<float>(Network<float>&, const Dataset&, long);
template std::vector<int> predict_classes<double>(Network<double>&, const Dataset&, long);
template std::vector<int> predict_classes<float>(Network<float>&, const Matrix<float>&, long);
template std::vector<int> predict_classes<double>(Network<double>&, const Matrix<float>&, long);
template Eigen::MatrixXi confusion_matrix<float>(Network<float>&, const Dataset&);
template Eigen::MatrixXi confusion_matrix<double>(Network<double>&, const Dataset&);
template Evaluation evaluate<float>(Network<float>&, const Dataset&, long);
template Evaluation evaluate<double>(Network<double>&, const Dataset&, long);
template Evaluation evaluate_part<float>(Network<float>&, const Dataset&, long, long, long);
template Evaluation evaluate_part<double>(Network<double>&, const Dataset&, long, long, long);

}  // namespace backprop
