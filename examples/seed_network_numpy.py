"""The same network as examples/seed_network.py, with every gradient written by hand in NumPy.

This follows the from-scratch method of the article "Neural Networks – Intuitively and
Exhaustively Explained": the forward pass keeps each layer's input and pre-activation
output; the backward pass walks the layers from last to first and applies
dW = inputs.T @ dZ / m, db = sum(dZ) / m, dA = dZ @ W.T, with ReLU's derivative as a 0/1
mask.  It exists as a reference:
tests/test_seed_reproduction.py checks that tinygrad_edu's autograd reaches the same weights.
It is not needed to run the demo.
"""

import numpy as np


def init_parameters(layer_sizes, seed=99):
    """Weights uniform in [-1, 1) drawn layer by layer after np.random.seed(seed); zero biases."""
    np.random.seed(seed)
    weights, biases = [], []
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        weights.append(np.random.uniform(-1, 1, size=(fan_in, fan_out)))
        biases.append(np.zeros((1, fan_out)))
    return weights, biases


def forward(weights, biases, x):
    """(layer_inputs, layer_outputs): the input each layer saw and its output before ReLU.

    layer_inputs[-1] is the prediction (the last layer is linear).
    """
    layer_inputs = [x]
    layer_outputs = []
    last = len(weights) - 1
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = layer_inputs[-1] @ w + b
        layer_outputs.append(z)
        a = z if i == last else np.maximum(z, 0)
        layer_inputs.append(a)
    return layer_inputs, layer_outputs


def backward(weights, layer_inputs, layer_outputs, target):
    """Gradients of 0.5 * mean((prediction - target)**2) for every weight and bias."""
    m = len(target)
    grad_weights = [None] * len(weights)
    grad_biases = [None] * len(weights)
    d_a = layer_inputs[-1] - target  # d(loss)/d(prediction), times m
    for i in reversed(range(len(weights))):
        if i == len(weights) - 1:
            d_z = d_a  # the output layer has no activation
        else:
            d_z = d_a * (layer_outputs[i] > 0)  # ReLU passes the gradient where z > 0
        grad_weights[i] = layer_inputs[i].T @ d_z / m
        grad_biases[i] = d_z.sum(axis=0, keepdims=True) / m
        if i > 0:
            d_a = d_z @ weights[i].T
    return grad_weights, grad_biases


def train(x, target, steps, lr, layer_sizes, seed=99):
    """Plain full-batch gradient descent.  Returns (losses, weights, biases).

    losses[k] is 0.5 * mean((prediction - target)**2) before update k.
    """
    weights, biases = init_parameters(layer_sizes, seed)
    losses = []
    for _ in range(steps):
        layer_inputs, layer_outputs = forward(weights, biases, x)
        losses.append(0.5 * np.mean((layer_inputs[-1] - target) ** 2))
        grad_weights, grad_biases = backward(weights, layer_inputs, layer_outputs, target)
        for i in range(len(weights)):
            weights[i] -= lr * grad_weights[i]
            biases[i] -= lr * grad_biases[i]
    return losses, weights, biases
