"""torch.optim.LBFGS, written into a converted file: MindSpore has no optimizer that
re-evaluates the loss. Its step takes the closure as mindspore.value_and_grad gives it
(returning the loss and the gradients) and moves the parameters by torch's L-BFGS
update without line search: the same directions, step sizes and stopping tests."""

HELPERS = {
    "LBFGS": '''\
class LBFGS:
    """torch.optim.LBFGS without line search. step(closure): closure() returns (loss,
    gradients), as mindspore.value_and_grad(closure, None, optimizer.parameters) does;
    the parameters move in place and the first loss is returned."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if line_search_fn is not None:
            raise NotImplementedError("LBFGS with a line search is not written here")
        self.parameters = list(params)
        self.lr, self.max_iter, self.history_size = lr, max_iter, history_size
        self.max_eval = max_eval if max_eval is not None else max_iter * 5 // 4
        self.tolerance_grad, self.tolerance_change = tolerance_grad, tolerance_change
        self.state = {"func_evals": 0, "n_iter": 0}

    def _evaluate(self, closure):
        loss, grads = closure()
        return loss, mindspore.ops.cat([g.reshape(-1) for g in grads])

    def _move(self, step):
        offset = 0
        for p in self.parameters:
            p.set_data(p + step[offset:offset + p.size].reshape(p.shape).astype(p.dtype))
            offset += p.size

    def step(self, closure):
        state = self.state
        orig_loss, flat_grad = self._evaluate(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        opt_cond = float(flat_grad.abs().max()) <= self.tolerance_grad
        if opt_cond:
            return orig_loss
        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_flat_grad = state.get("h_diag"), state.get("prev_flat_grad")
        n_iter = 0
        while n_iter < self.max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:  # steepest descent first
                d = -flat_grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1
            else:  # the two-loop recursion over the kept curvature pairs
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = (y * s).sum()
                if ys > 1e-10:
                    if len(old_dirs) == self.history_size:
                        old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
                    old_dirs.append(y), old_stps.append(s), ro.append(1.0 / ys)
                    h_diag = ys / (y * y).sum()
                q = -flat_grad
                al = [None] * len(old_dirs)
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = (old_stps[i] * q).sum() * ro[i]
                    q = q - al[i] * old_dirs[i]
                d = q * h_diag
                for i in range(len(old_dirs)):
                    d = d + (al[i] - (old_dirs[i] * d).sum() * ro[i]) * old_stps[i]
            prev_flat_grad, prev_loss = flat_grad, loss
            t = min(1.0, 1.0 / float(flat_grad.abs().sum())) * self.lr if state["n_iter"] == 1 else self.lr
            t = mindspore.tensor(t, flat_grad.dtype)  # a Python float would be cast to float32
            if float((flat_grad * d).sum()) > -self.tolerance_change:
                break
            self._move(d * t)
            evals = 0
            if n_iter != self.max_iter:
                loss, flat_grad = self._evaluate(closure)
                loss = float(loss)
                opt_cond = float(flat_grad.abs().max()) <= self.tolerance_grad
                evals = 1
            current_evals += evals
            state["func_evals"] += evals
            if (n_iter == self.max_iter or current_evals >= self.max_eval or opt_cond
                    or float((d * t).abs().max()) <= self.tolerance_change
                    or abs(loss - prev_loss) < self.tolerance_change):
                break
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, h_diag=h_diag,
                     prev_flat_grad=prev_flat_grad)
        return orig_loss
''',
}

IMPORTS = {"LBFGS": ("import mindspore",)}
