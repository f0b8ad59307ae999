"""Optional peers: other autograd libraries on the same workloads (`run.py --peers`).

One module per library.  Each has
- `LIBRARY`, the distribution name (for its version), and `describe()`, one line for
  the header (version, threads);
- `STEPS`, workload name -> `make(state)`: given a fresh `setup(seed)` state of that
  workload, it copies the initial weights and data it needs (before the NumPy side
  updates them in place) and returns `step()`, one training step that returns `(loss,
  [gradients])` like the workloads' steps do (anything `np.asarray` turns into arrays);
- `SKIPPED`, workload name -> why this library does not run it.

Each step is the workload's model written as a user of that library writes it, with the
same ops as `tg_step` (matmul, then bias add; the library's own loss, convolution and
pooling where it has them) and the same in-place update.  None of these libraries is a
dependency: `load` imports the ones that are installed and says why the others are not.
"""

import importlib

# The name in the tables -> module in this package, in the order they run.  micrograd
# runs last: on overhead-f64 its backward builds and frees a set of 300,000 nodes (several
# MB), and glibc then raises its mmap threshold for the rest of the process, which removes
# page faults (as run.py --malloc-tuned does) from whatever runs after it.
PEERS = {
    "torch": "torch_steps",
    "mygrad": "mygrad_steps",
    "dezero": "dezero_steps",
    "autograd": "autograd_steps",
    "micrograd": "micrograd_steps",
}


def load(names):
    """({name: module} for the peers that import, {name: reason} for those that do not)."""
    loaded, missing = {}, {}
    for name in names:
        try:
            loaded[name] = importlib.import_module(f".{PEERS[name]}", __name__)
        except Exception as error:  # not installed, or broken on this Python / NumPy
            missing[name] = f"{type(error).__name__}: {error}".splitlines()[0]
    return loaded, missing


def version(distribution):
    try:
        from importlib.metadata import version as installed_version

        return installed_version(distribution)
    except Exception:  # installed without metadata: the version is only informative
        return "version unknown"
