"""Optimizers and learning-rate schedules, with PyTorch's names and update rules.

    from tinygrad_edu import optim
    opt = optim.Adam(model.parameters(), lr=1e-3)
    sched = optim.lr_scheduler.StepLR(opt, step_size=10)
    for epoch in range(epochs):
        opt.zero_grad()
        loss = ...
        loss.backward()
        opt.step()
        sched.step()

One file per optimizer (each class docstring states its update formula): optimizer.py
(the shared base: parameter groups, state, zero_grad, state_dict), sgd.py, adam.py
(Adam, AdamW), rmsprop.py, adagrad.py, lbfgs.py, and lr_scheduler.py.
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LBFGS", "lr_scheduler"]
