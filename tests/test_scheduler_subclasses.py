"""torch.optim.lr_scheduler._LRScheduler / LRScheduler subclasses -> subclasses of
mindspore.experimental.optim.lr_scheduler.LRScheduler (`_step_count` is
int(last_epoch) + 1, last_epoch read as an int). A converted program steps its own
schedulers; the learning rates are compared with torch's at every step."""
import textwrap
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

PROGRAM = '''\
    import sys
    import torch
    import torch.nn as nn
    from torch.optim.lr_scheduler import _LRScheduler


    class LRPolicyScheduler(_LRScheduler):
        def __init__(self, optimizer, num_warmup_steps, decay_start_step, num_decay_steps):
            self.num_warmup_steps = num_warmup_steps
            self.decay_start_step = decay_start_step
            self.decay_end_step = decay_start_step + num_decay_steps
            self.num_decay_steps = num_decay_steps
            if self.decay_start_step < self.num_warmup_steps:
                sys.exit("Learning rate warmup must finish before the decay starts")
            super(LRPolicyScheduler, self).__init__(optimizer)

        def get_lr(self):
            step_count = self._step_count
            if step_count < self.num_warmup_steps:
                scale = 1.0 - (self.num_warmup_steps - step_count) / self.num_warmup_steps
                lr = [base_lr * scale for base_lr in self.base_lrs]
                self.last_lr = lr
            elif self.decay_start_step <= step_count and step_count < self.decay_end_step:
                decayed_steps = step_count - self.decay_start_step
                scale = ((self.num_decay_steps - decayed_steps) / self.num_decay_steps) ** 2
                min_lr = 0.0000001
                lr = [max(min_lr, base_lr * scale) for base_lr in self.base_lrs]
                self.last_lr = lr
            else:
                if self.num_decay_steps > 0:
                    lr = self.last_lr
                else:
                    lr = self.base_lrs
            return lr


    class Cyclic(torch.optim.lr_scheduler.LRScheduler):
        def __init__(self, optimizer, period, last_epoch=-1, verbose=False):
            self.period = period
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            phase = [0.5, 1.0, 0.25][self.last_epoch % self.period]
            return [base * phase for base in self.base_lrs]


    def run(steps):
        m = nn.Linear(3, 2)
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        opt2 = torch.optim.SGD(m.parameters(), lr=0.2)
        a = LRPolicyScheduler(opt, 4, 6, 5)
        b = Cyclic(opt2, 3)
        seen = []
        for _ in range(steps):

            a.step()

            b.step()
            seen.append((float(opt.param_groups[0]["lr"]), float(opt2.param_groups[0]["lr"])))
        return seen
    '''


def test_schedulers_give_torch_learning_rates():
    source = textwrap.dedent(PROGRAM)
    result = convert_source(source, "prog.py")
    assert "torch" not in result.code
    assert convert_source(result.code, "prog.py").code == result.code  # idempotent
    assert "step_count = (int(self.last_epoch) + 1)" in result.code
    assert "[int(self.last_epoch) % self.period]" in result.code
    t, m = {"__name__": "prog_torch"}, {"__name__": "prog_ms"}
    exec(compile(source, "<torch>", "exec"), t)
    exec(compile(result.code, "<ms>", "exec"), m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: scheduler.step() before optimizer.step()
        want = t["run"](14)
    got = m["run"](14)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert len({lr for lr, _ in want}) > 4  # warmup, decay and the frozen end all show


def test_verbose_goes_with_a_warning():
    source = textwrap.dedent("""\
        from torch.optim import lr_scheduler


        class Flat(lr_scheduler._LRScheduler):
            def __init__(self, optimizer, last_epoch=-1, verbose=False):
                super().__init__(optimizer, last_epoch, verbose=verbose)

            def get_lr(self):
                return self.base_lrs
        """)
    result = convert_source(source, "prog.py")
    assert "super().__init__(optimizer, last_epoch)" in result.code
    assert "class Flat(optim.lr_scheduler.LRScheduler):" in result.code
    assert any("verbose" in f.message for f in result.report.findings if f.action == "warning")
