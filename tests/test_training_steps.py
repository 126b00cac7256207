"""Each training-step pattern, converted and run against torch for a few steps.

Every case is a torch snippet defining `run(model, batches)`; the test builds a
small model in both frameworks with the same weights, runs the torch snippet and
its conversion on the same batches, and compares what `run` returns (losses,
norms) and the parameters afterwards. SGD keeps the update exact, so any
difference comes from the gradients the conversion computes.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import PRELUDE, compare, copy_torch_weights  # noqa: E402

TOL = 1e-5

BUILD = """
def build():
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
"""

CASES = {
    "canonical": """
def run(model, batches):
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    criterion = nn.CrossEntropyLoss()
    losses, correct = [], 0
    for x, y in batches:
        optimizer.zero_grad()
        out = model(x)
        loss = criterion(out, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        correct += (out.argmax(1) == y).sum().item()
    return losses, correct
""",
    "zero_grad_after_step": """
def run(model, batches):
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for x, y in batches:
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses
""",
    "loss_before_zero_grad_and_model_zero_grad": """
def run(model, batches):
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for x, y in batches:
        out = model(x)
        loss = F.cross_entropy(out, y)
        model.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
""",
    "clip_norm_returned": """
def run(model, batches):
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    norms = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y) * 10
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
        optimizer.step()
        norms.append(norm.item())
    return norms
""",
    "clip_value_then_norm": """
def run(model, batches):
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y) * 10
        loss.backward()
        nn.utils.clip_grad_value_(model.parameters(), 0.05)
        nn.utils.clip_grad_norm_(model.parameters(), 0.3, norm_type=2)
        optimizer.step()
    return loss.item()
""",
    "accumulation": """
def run(model, batches, steps=2):
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    losses = []
    optimizer.zero_grad()
    for i, (x, y) in enumerate(batches):
        loss = F.cross_entropy(model(x), y) / steps
        loss.backward()
        if (i + 1) % steps == 0:
            optimizer.step()
            optimizer.zero_grad()
        losses.append(loss.item())
    return losses
""",
    "never_zeroed_in_the_loop": """
def run(model, batches):
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    optimizer.zero_grad()
    for x, y in batches:
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    return loss.item()
""",
    "two_losses_one_step": """
def run(model, batches):
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    for x, y in batches:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        penalty = model(x).pow(2).mean()
        penalty.backward()
        optimizer.step()
    return penalty.item()
""",
    "several_losses_and_eval": """
def run(model, batches):
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    history = []
    for x, y in batches:
        model.train()
        optimizer.zero_grad()
        logits = model(x)
        ce = F.cross_entropy(logits, y)
        reg = logits.pow(2).mean()
        loss = ce + 0.1 * reg
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            check = F.cross_entropy(model(x), y)
        history.append((loss.item(), ce.item(), reg.item(), check.item()))
    return history
""",
    "train_and_val_phases": """
def run(model, batches):
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    criterion = nn.CrossEntropyLoss()
    history = []
    for phase in ["train", "val", "train"]:
        model.train() if phase == "train" else model.eval()
        for inputs, labels in batches:
            optimizer.zero_grad()
            with torch.set_grad_enabled(phase == "train"):
                outputs = model(inputs)
                _, preds = torch.max(outputs, 1)
                loss = criterion(outputs, labels)
                if phase == "train":
                    loss.backward()
                    optimizer.step()
            history.append((loss.item(), (preds == labels).sum().item()))
    return history
""",
    "step_function": """
def train_step(model, optimizer, batch):
    inputs, targets = batch
    optimizer.zero_grad()
    logits = model(inputs)
    loss = F.cross_entropy(logits, targets)
    loss.backward()
    optimizer.step()
    return loss.item(), (logits.argmax(-1) == targets).float().mean().item()


def run(model, batches):
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    return [train_step(model, optimizer, batch) for batch in batches]
""",
}


def _execute(code: str) -> dict:
    namespace = {"__name__": "case"}
    exec(compile(code, "<case>", "exec"), namespace)
    return namespace


def _numbers(value):
    """What `run` returned (numbers in nested lists and tuples) as one float array."""
    if isinstance(value, (list, tuple)):
        return np.concatenate([_numbers(v) for v in value]) if value else np.zeros(0)
    return np.asarray([float(value)])


def _batches(n=6):
    rng = np.random.default_rng(0)
    return [(rng.standard_normal((8, 4)).astype(np.float32), rng.integers(0, 3, 8))
            for _ in range(n)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_step_pattern(case):
    source = PRELUDE + BUILD + CASES[case]
    result = convert_source(source, f"{case}.py")
    problems = [f"{f.api}: {f.message}" for f in result.report.findings
                if f.action == "unsupported"]
    assert not problems, problems
    assert ".backward(" not in result.code
    t_ns, m_ns = _execute(source), _execute(result.code)
    torch.manual_seed(0)
    t_model, m_model = t_ns["build"](), m_ns["build"]()
    copy_torch_weights(t_model, m_model)
    batches = _batches()
    t_out = t_ns["run"](t_model, [(torch.from_numpy(x), torch.from_numpy(y))
                                  for x, y in batches])
    m_out = m_ns["run"](m_model, [(mindspore.Tensor(x), mindspore.Tensor(y.astype(np.int32)))
                                  for x, y in batches])
    compare(_numbers(t_out), _numbers(m_out), tol=TOL, where=f"{case}: results")
    t_params = [p.detach().numpy() for p in t_model.parameters()]
    m_params = [p.asnumpy() for p in m_model.trainable_params()]
    compare(t_params, m_params, tol=TOL, where=f"{case}: parameters after training")
