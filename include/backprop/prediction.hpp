// Prediction with a trained network, from any number of threads at once.
//
// Thread safety in backprop:
// - predict() reads the network and writes only its own result: any number
//   of threads may call it on one shared Network at the same time, and each
//   gets bitwise the answer it would get alone. The network must not be
//   changed (trained, loaded into, moved) while they do.
// - Network::feedforward, cost and backprop keep each layer's Z and A for
//   the backward pass, so they change the network: one thread at a time per
//   network (or give each thread its own copy).
// - Training parallelises inside a step by itself (parallel.hpp);
//   set_threads() sets a process-wide count: call it before starting threads.
// - Reading and writing files, parsing and the data sets share no state:
//   different threads may use different objects freely.
#pragma once

#include <type_traits>

#include "backprop/matrix.hpp"
#include "backprop/network.hpp"

namespace backprop {

// A^L for the columns of x: Z^l = W^l A^{l-1} + b^l 1^T, A^l = sigma(Z^l),
// layer by layer (eq. 25), in this thread alone and in buffers of its own.
// Throws InputError if x does not have one row per network input. (T comes
// from the network alone, so x may be any matrix expression of T.)
template <typename T>
Matrix<T> predict(const Network<T>& network, const std::type_identity_t<ConstMatrixRef<T>>& x);

}  // namespace backprop
