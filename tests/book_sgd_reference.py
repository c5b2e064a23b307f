#!/usr/bin/env python3
"""backprop's training against an independent reference of the book's network2.py SGD.

The reference below is written from the book's equations, one example at a time as
network2.py does: feedforward with sigmoid neurons, the cross-entropy output error
delta^L = a^L - y (eq. 66), BP2 backwards, the sums of the per-example gradients over a
mini-batch, then the L2-regularized update (eq. 93 and 94)
    w <- (1 - eta*lambda/n) w - (eta/m) sum_x dC_x/dw,   b <- b - (eta/m) sum_x dC_x/db,
with n the training-set size and m the mini-batch's own size (the last one may be short).
Both start from the same network2.py JSON model and see the examples in file order
(--no-shuffle); in double precision the weights must agree to rounding after 3 epochs.

Usage: book_sgd_reference.py BACKPROP_COMMAND WORK_DIR
"""
import json
import os
import struct
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    print("skipped: needs numpy (Debian: python3-numpy)")
    sys.exit(77)  # ctest's SKIP_RETURN_CODE


def write_idx_ubyte(path, array):
    with open(path, "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, 0x08, array.ndim))
        f.write(struct.pack(">" + "I" * array.ndim, *array.shape))
        f.write(array.astype(np.uint8).tobytes())


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference_sgd(weights, biases, inputs, labels, epochs, m, eta, lmbda, classes):
    n = inputs.shape[1]
    for _ in range(epochs):
        for first in range(0, n, m):
            batch = range(first, min(first + m, n))
            nabla_w = [np.zeros_like(w) for w in weights]
            nabla_b = [np.zeros_like(b) for b in biases]
            for x_index in batch:
                x = inputs[:, [x_index]]
                y = np.zeros((classes, 1))
                y[labels[x_index]] = 1.0
                activations, zs = [x], []
                for w, b in zip(weights, biases):
                    zs.append(w @ activations[-1] + b)
                    activations.append(sigmoid(zs[-1]))
                delta = activations[-1] - y  # cross-entropy with sigmoid outputs
                for l in range(len(weights) - 1, -1, -1):
                    nabla_b[l] += delta
                    nabla_w[l] += delta @ activations[l].T
                    if l > 0:
                        s = sigmoid(zs[l - 1])
                        delta = (weights[l].T @ delta) * s * (1 - s)
            size = len(batch)
            weights = [(1 - eta * lmbda / n) * w - (eta / size) * nw
                       for w, nw in zip(weights, nabla_w)]
            biases = [b - (eta / size) * nb for b, nb in zip(biases, nabla_b)]
    return weights, biases


def main():
    backprop, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(20261128)
    sizes = [12, 7, 4]
    training, validation, test = 203, 30, 20  # 203 = 20 * 10 + 3: a short last mini-batch
    total = training + validation
    pixels = rng.integers(0, 256, size=(total, sizes[0]))
    labels = rng.integers(0, sizes[-1], size=total)
    write_idx_ubyte(os.path.join(work, "train-images"), pixels.reshape(total, 3, 4))
    write_idx_ubyte(os.path.join(work, "train-labels"), labels)
    write_idx_ubyte(os.path.join(work, "test-images"), pixels[:test].reshape(test, 3, 4))
    write_idx_ubyte(os.path.join(work, "test-labels"), labels[:test])

    # network2.py's default_weight_initializer: N(0, 1/n_in) weights, N(0, 1) biases.
    weights = [rng.standard_normal((y, x)) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
    with open(os.path.join(work, "initial.json"), "w") as f:
        json.dump({"sizes": sizes, "weights": [w.tolist() for w in weights],
                   "biases": [b.tolist() for b in biases], "cost": "CrossEntropyCost"}, f)

    epochs, m, eta, lmbda = 3, 10, 0.5, 5.0
    command = [backprop, "train", "--train-images", os.path.join(work, "train-images"),
               "--train-labels", os.path.join(work, "train-labels"),
               "--test-images", os.path.join(work, "test-images"),
               "--test-labels", os.path.join(work, "test-labels"),
               "--validation-size", str(validation), "--lambda", str(lmbda), "--eta", str(eta),
               "--mini-batch", str(m), "--epochs", str(epochs), "--no-shuffle",
               "--precision", "double", "--threads", "1", "--monitor", "none",
               "--load", os.path.join(work, "initial.json"),
               "--save", os.path.join(work, "trained.json")]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(work, "trained.json")) as f:
        trained = json.load(f)

    # backprop holds pixels as float p / 255 (then widened to double).
    inputs = (pixels[:training].T.astype(np.float32) / np.float32(255)).astype(np.float64)
    ref_w, ref_b = reference_sgd(weights, biases, inputs, labels[:training], epochs, m, eta,
                                 lmbda, sizes[-1])
    worst = 0.0
    for ours, theirs in zip(trained["weights"] + trained["biases"], ref_w + ref_b):
        ours = np.array(ours).reshape(theirs.shape)
        worst = max(worst, float(np.max(np.abs(ours - theirs) / (1 + np.abs(theirs)))))
    moved = max(float(np.max(np.abs(np.array(t).reshape(w.shape) - w)))
                for t, w in zip(trained["weights"], weights))
    print(f"largest difference from the reference: {worst:.3g} (weights moved up to {moved:.3g})")
    if moved < 1e-3:
        sys.exit("training did not change the weights: the comparison would prove nothing")
    if worst > 1e-10:
        sys.exit(f"backprop's weights differ from the book's SGD by {worst:.3g} (limit 1e-10)")


if __name__ == "__main__":
    main()
