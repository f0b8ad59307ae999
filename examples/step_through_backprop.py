"""Step through the backward pass of a tiny network in a debugger.

The network of the lecture "Neural Networks":
one input, one hidden layer of 3 tanh units, one output,

    y = w1 @ tanh(w0 * x + b0) + b1

fitted to a few points of x**(1/3) with the sum of squared errors.  The lecture fits it
with scipy and jax; here `loss.backward()` computes the gradients, and this script is
small enough to follow every one of them in the debugger.

Where to put a breakpoint (docs/debugging.md is the walkthrough):
1. on the line `loss.backward()` in `main` below: "step into" (F11 in VS Code, F7 in
   PyCharm, `s` in pdb) enters `Tensor.backward`; step over to `autograd.backward(...)`;
2. in tinygrad_edu/autograd.py, `backward`, the line `grads_in = node.backward(...)`: it
   stops once per op, outputs first, and "step into" there enters the op's backward;
3. in tinygrad_edu/ops/elementwise.py, `Tanh.backward`: the chain rule for tanh, with
   `grad`, `out` and `x` as plain NumPy arrays.

Run it with `python examples/step_through_backprop.py`, or under pdb with
`python -m pdb examples/step_through_backprop.py`.
"""

import numpy as np

import tinygrad_edu as tg

NUM_POINTS = 4  # points x in [0, 1]; few, so every array fits in the variables pane
HIDDEN = 3  # hidden tanh units, as in the lecture
NOISE = 0.03  # standard deviation of the noise the lecture adds to x**(1/3)
LEARNING_RATE = 0.05  # plain gradient descent: p -= LEARNING_RATE * p.grad


def make_data(seed=0):
    """(x, y) as (1, NUM_POINTS) Tensors: one row of points, y = x**(1/3) + noise."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, NUM_POINTS).reshape(1, NUM_POINTS)
    y = x ** (1.0 / 3.0) + rng.normal(scale=NOISE, size=x.shape)
    return tg.Tensor(x, name="x"), tg.Tensor(y, name="y")


def init_parameters(seed=0):
    """w0, b0 (HIDDEN, 1), w1 (1, HIDDEN), b1 (1, 1): standard normal, as the lecture starts.

    A dict name -> Tensor; the names show up in drawings, traces and the debugger.
    """
    rng = np.random.default_rng(seed + 1)  # not the data's generator: different numbers
    shapes = {"w0": (HIDDEN, 1), "b0": (HIDDEN, 1), "w1": (1, HIDDEN), "b1": (1, 1)}
    parameters = {}
    for name, shape in shapes.items():
        parameters[name] = tg.Tensor(rng.normal(size=shape), requires_grad=True, name=name)
    return parameters


def compute_loss(parameters, x, y):
    """The lecture's model and loss: sum((y - y_pred)**2), a scalar Tensor."""
    w0, b0, w1, b1 = parameters["w0"], parameters["b0"], parameters["w1"], parameters["b1"]
    hidden = (w0 * x + b0).tanh()  # (HIDDEN, 1) * (1, N) broadcasts to (HIDDEN, N)
    y_pred = w1 @ hidden + b1  # (1, HIDDEN) @ (HIDDEN, N) -> (1, N)
    return ((y - y_pred) ** 2).sum()


def main(steps=1, seed=0):
    """Run `steps` gradient-descent steps, printing the loss and every gradient.

    Returns the list of losses (floats), one per step.
    """
    x, y = make_data(seed)
    parameters = init_parameters(seed)
    losses = []
    for step in range(steps):
        loss = compute_loss(parameters, x, y)
        # Breakpoint here, then step into: Tensor.backward -> autograd.backward -> e.g.
        # Tanh.backward.  Three frames from this line to the chain rule of any op.
        loss.backward()
        losses.append(loss.item())
        print(f"step {step}: loss {losses[-1]:.6f}")
        for name, p in parameters.items():
            # Breakpoint here to compare p.grad with p: same shape, one number per weight.
            print(f"  d loss / d {name} = {np.round(p.grad.numpy(), 4).tolist()}")
        with tg.no_grad():  # the update itself must not be recorded in a graph
            for p in parameters.values():
                p -= LEARNING_RATE * p.grad
                p.grad = None  # backward adds into .grad, so clear it for the next step
    return losses


if __name__ == "__main__":
    main()
