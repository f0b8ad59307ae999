"""`LBFGS`: limited-memory BFGS on a flat vector of all parameters, with an optional
strong-Wolfe line search (`_strong_wolfe`, using `_cubic_interpolate`).

The algorithm is PyTorch's (torch.optim.LBFGS, itself after minFunc): the same
first-step scaling, two-loop recursion, history update, termination tests and line
search, so the same closure takes the same steps.
"""

import math

from .optimizer import Optimizer


class LBFGS(Optimizer):
    """LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
    tolerance_change=1e-9, history_size=100, line_search_fn=None), as torch.optim.LBFGS.

    `step(closure)`: the closure re-evaluates the model (zero_grad, loss, backward) and
    returns the loss.  One step runs up to `max_iter` iterations on x, the parameters
    flattened into one vector, with g = df/dx:
        first iteration ever:  d = -g,  t = min(1, 1 / sum(|g|)) * lr
        later iterations:      y = g - g_prev,  s = t_prev * d_prev
                               if y.s > 1e-10: remember (s, y) (at most history_size pairs)
                               and H0 = (y.s) / (y.y)
                               d = -H g by the two-loop recursion over the pairs, H0 * I
                               as the initial inverse Hessian;  t = lr
        stop if g.d > -tolerance_change (not a descent direction)
        x = x + t * d          (t from the strong-Wolfe line search when asked)
        stop after max_iter iterations or max_eval closure calls, or when
        max|g| <= tolerance_grad, max|t * d| <= tolerance_change or
        |f - f_prev| < tolerance_change.
    Without a line search the closure is not re-evaluated after the last iteration.
    State (kept with the first parameter, as PyTorch): "func_evals" and "n_iter" (totals
    over all steps), "d", "t", "old_dirs" (the y's), "old_stps" (the s's), "ro" (1/y.s),
    "H_diag", "prev_flat_grad", "prev_loss".
    """

    __slots__ = ("_params",)

    def __init__(
        self,
        params,
        lr=1,
        max_iter=20,
        max_eval=None,
        tolerance_grad=1e-7,
        tolerance_change=1e-9,
        history_size=100,
        line_search_fn=None,
    ):
        if lr < 0:
            raise ValueError(f"LBFGS: invalid learning rate {lr}; it must be >= 0")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(
                f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}"
            )
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        devices = {p.device.name for p in self._params}
        if len(devices) != 1:
            raise ValueError(
                f"LBFGS needs all parameters on one device, got {', '.join(sorted(devices))}"
            )

    # ---- the flat view of all parameters ---------------------------------------------

    def _flat_grad(self):
        """All gradients as one new vector (zeros for parameters without a gradient)."""
        xp = self._params[0].xp
        parts = []
        for p in self._params:
            if p.grad is None:
                parts.append(xp.zeros(p.size, dtype=p.dtype))
            else:
                parts.append(p.grad.data.reshape(-1))
        return xp.concatenate(parts)

    def _add_to_params(self, step_size, direction):
        """x = x + step_size * direction, in place, parameter by parameter."""
        offset = 0
        for p in self._params:
            size = p.size
            p.data += step_size * direction[offset : offset + size].reshape(p.shape)
            p._bump_version()
            offset += size

    def _copy_params(self):
        return [p.data.copy() for p in self._params]

    def _set_params(self, values):
        for p, value in zip(self._params, values):
            p.data[...] = value
            p._bump_version()

    def _evaluate_at(self, closure, x, t, d):
        """(loss, flat gradient) at x + t * d; the parameters are x again afterwards."""
        self._add_to_params(t, d)
        loss = float(self._evaluate(closure))
        flat_grad = self._flat_grad()
        self._set_params(x)
        return loss, flat_grad

    # ---- the algorithm ---------------------------------------------------------------

    def step(self, closure=None):
        """Run up to max_iter L-BFGS iterations; returns the loss at the starting point."""
        if closure is None:
            raise TypeError(
                "LBFGS.step needs a closure that re-evaluates the model: "
                "def closure(): opt.zero_grad(); loss = ...; loss.backward(); return loss"
            )
        group = self.param_groups[0]
        lr = float(group["lr"])
        max_iter = group["max_iter"]
        max_eval = group["max_eval"]
        tolerance_grad = group["tolerance_grad"]
        tolerance_change = group["tolerance_change"]
        history_size = group["history_size"]
        line_search_fn = group["line_search_fn"]
        xp = self._params[0].xp

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if float(abs(flat_grad).max()) <= tolerance_grad:
            return orig_loss  # already optimal

        d = state.get("d")
        t = state.get("t")
        old_dirs = state.get("old_dirs")
        old_stps = state.get("old_stps")
        ro = state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad = state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # -- the direction d --
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1.0
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(xp.dot(y, s))
                if ys > 1e-10:  # keep only pairs with positive curvature
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(xp.dot(y, y))
                d = _two_loop(xp, flat_grad, old_dirs, old_stps, ro, H_diag)
            prev_flat_grad = flat_grad  # never changed in place, so no copy
            prev_loss = loss

            # -- the step length t --
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = float(xp.dot(flat_grad, d))
            if gtd > -tolerance_change:
                break  # not a descent direction (to within tolerance)

            ls_func_evals = 0
            if line_search_fn == "strong_wolfe":
                x_init = self._copy_params()

                def evaluate(x, t, d):
                    return self._evaluate_at(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    evaluate, x_init, t, d, loss, flat_grad, gtd
                )
                self._add_to_params(t, d)
                opt_cond = float(abs(flat_grad).max()) <= tolerance_grad
            else:
                self._add_to_params(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    # The last iteration's loss would only be needed by the next step,
                    # which evaluates it anyway (in a stochastic setting, a new batch).
                    loss = float(self._evaluate(closure))
                    flat_grad = self._flat_grad()
                    opt_cond = float(abs(flat_grad).max()) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # -- termination tests --
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if float(abs(d * t).max()) <= tolerance_change:
                break  # the step no longer moves the parameters
            if abs(loss - prev_loss) < tolerance_change:
                break  # the loss no longer changes

        state["d"] = d
        state["t"] = t
        state["old_dirs"] = old_dirs
        state["old_stps"] = old_stps
        state["ro"] = ro
        state["H_diag"] = H_diag
        state["prev_flat_grad"] = prev_flat_grad
        state["prev_loss"] = prev_loss
        return orig_loss


def _two_loop(xp, flat_grad, old_dirs, old_stps, ro, H_diag):
    """d = -H g: the L-BFGS inverse Hessian H (from the pairs s = old_stps[i],
    y = old_dirs[i], rho = ro[i] = 1 / y.s, and H0 = H_diag * I) times -g, without
    forming H (Nocedal & Wright, Algorithm 7.4)."""
    q = -flat_grad
    alphas = [0.0] * len(old_dirs)
    for i in range(len(old_dirs) - 1, -1, -1):  # newest pair first
        alphas[i] = float(xp.dot(old_stps[i], q)) * ro[i]
        q -= alphas[i] * old_dirs[i]
    r = q * H_diag
    for i in range(len(old_dirs)):  # oldest pair first
        beta = float(xp.dot(old_dirs[i], r)) * ro[i]
        r += (alphas[i] - beta) * old_stps[i]
    return r


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic with values f1, f2 and slopes g1, g2 at x1, x2, clipped
    to `bounds` (default: between x1 and x2); the middle of the bounds when the cubic has
    no minimiser there (Nocedal & Wright, eq. 3.59)."""
    if bounds is None:
        bounds = (x1, x2) if x1 <= x2 else (x2, x1)
    low, high = bounds
    if x1 == x2:
        return (low + high) / 2.0
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = math.sqrt(d2_square)
    # Written from the larger point so both cases read the same.
    if x1 <= x2:
        denominator = g2 - g1 + 2 * d2
        if denominator == 0:
            return (low + high) / 2.0
        min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / denominator)
    else:
        denominator = g1 - g2 + 2 * d2
        if denominator == 0:
            return (low + high) / 2.0
        min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / denominator)
    return min(max(min_pos, low), high)


def _strong_wolfe(evaluate, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Find a step t along d satisfying the strong Wolfe conditions
        f(x + t d) <= f + c1 t g.d          (sufficient decrease)
        |g(x + t d).d| <= -c2 g.d           (curvature)
    by bracketing, then zooming with cubic interpolation (Nocedal & Wright, Alg. 3.5-3.6).

    `evaluate(x, t, d)` returns (loss, flat gradient) at x + t d.  Returns
    (f_new, g_new, t, number of evaluations).
    """
    d_norm = float(abs(d).max())
    f_new, g_new = evaluate(x, t, d)
    evals = 1
    gtd_new = float((g_new * d).sum())

    # -- bracketing: grow t until [t_prev, t] contains a good step, or t itself is one --
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g, bracket_gtd = [t], [f_new], [g_new], [gtd_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # extrapolate: a cubic step between 1.01 t and 10 t
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        t_next = _cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step)
        )
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = float((g_new * d).sum())
        ls_iter += 1
    if ls_iter == max_ls:  # out of evaluations: between no step and the last one
        bracket, bracket_f = [0, t], [f, f_new]
        bracket_g, bracket_gtd = [g, g_new], [gtd, gtd_new]

    # -- zoom: shrink the bracket until a point satisfies both conditions --
    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break  # the bracket is too small to matter
        t = _cubic_interpolate(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )
        # A point too close to an end of the bracket shrinks it slowly: if that happens
        # twice in a row (or t is outside), move t to 10% of the bracket from that end.
        left, right = min(bracket), max(bracket)
        margin = 0.1 * (right - left)
        if min(right - t, t - left) < margin:
            if insufficient_progress or t >= right or t <= left:
                t = right - margin if abs(t - right) < abs(t - left) else left + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False

        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = float((g_new * d).sum())
        ls_iter += 1

        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            # not a sufficient decrease, or not below the low end: t is the new high end
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True  # both Wolfe conditions hold
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                # the slope at t points away from the high end: the old low becomes high
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new, gtd_new

    return bracket_f[low], bracket_g[low], bracket[low], evals
