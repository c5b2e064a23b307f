#include "backprop/regularization.hpp"

#include "backprop/error.hpp"

namespace backprop {

std::string to_string(Penalty penalty) {
  switch (penalty) {
    case Penalty::none:
      return "none";
    case Penalty::l2:
      return "l2";
    case Penalty::l1:
      return "l1";
  }
  return "unknown";
}

Penalty parse_penalty(std::string_view name) {
  if (name == "none") return Penalty::none;
  if (name == "l2" || name == "L2") return Penalty::l2;
  if (name == "l1" || name == "L1") return Penalty::l1;
  throw InputError("unknown regularization '" + std::string(name) + "': use none, l2 or l1");
}

template <typename T>
double Regularization::cost(const Network<T>& network, long n) const {
  if (!active()) return 0;
  double sum = 0;
  for (int l = 0; l < network.layer_count(); ++l) {
    const auto& weights = network.layer(l).weights;
    sum += penalty == Penalty::l2 ? 0.5 * weights.template cast<double>().squaredNorm()
                                  : weights.template cast<double>().cwiseAbs().sum();
  }
  return lambda / static_cast<double>(n) * sum;
}

template <typename T>
void Regularization::add_gradient(Network<T>& network, long n) const {
  if (!active()) return;
  const T scale = static_cast<T>(lambda / static_cast<double>(n));
  for (int l = 0; l < network.layer_count(); ++l) {
    auto& layer = network.layer(l);
    if (penalty == Penalty::l2) {
      layer.weight_gradient += scale * layer.weights;
    } else {
      // sgn(0) = 0: a weight at zero is left there, as in the book.
      layer.weight_gradient += scale * layer.weights.cwiseSign();
    }
  }
}

template double Regularization::cost<float>(const Network<float>&, long) const;
template double Regularization::cost<double>(const Network<double>&, long) const;
template void Regularization::add_gradient<float>(Network<float>&, long) const;
template void Regularization::add_gradient<double>(Network<double>&, long) const;

}  // namespace backprop
