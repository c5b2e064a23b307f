// Activation functions sigma and their derivatives, side by side.
//
// Each is applied element-wise to Z (one column per example), except softmax,
// which normalises each column and so has a full Jacobian; softmax is only
// allowed on the output layer.
#pragma once

#include <string>
#include <string_view>

#include "backprop/matrix.hpp"

namespace backprop {

enum class Activation { sigmoid, tanh, relu, identity, softmax };

// The name used on the command line and in files ("sigmoid", "tanh", ...).
std::string to_string(Activation activation);
// Parses a name; throws InputError listing the valid names otherwise.
Activation parse_activation(std::string_view name);

// A = sigma(Z).
template <typename T>
void activate(Activation activation, const Matrix<T>& z, Matrix<T>& a);

// The same for a block of rows of Z and A (any activation but softmax,
// which needs whole columns).
template <typename T>
void activate_rows(Activation activation, const Eigen::Ref<const Matrix<T>>& z,
                   Eigen::Ref<Matrix<T>> a);

// Multiplies grad (dC/dA, overwritten with dC/dZ) by sigma'(Z): the
// Hadamard product of BP1 and BP2. For the element-wise functions this is
// grad (.) sigma'(z); for softmax it is the Jacobian-vector product
// a (.) (grad - a^T grad) per column. Uses A where the derivative is cheaper
// in terms of the output (sigmoid: a(1-a), tanh: 1-a^2, softmax).
template <typename T>
void multiply_by_derivative(Activation activation, const Matrix<T>& z, const Matrix<T>& a,
                            Matrix<T>& grad);

}  // namespace backprop
