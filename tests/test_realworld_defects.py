"""Defects found by converting public repositories: each snippet is a small
self-written reduction of what the real file does."""
import textwrap

from ms_migrate import convert_source


def convert(source: str) -> str:
    code = convert_source(textwrap.dedent(source), "snippet.py").code
    compile(code, "<converted>", "exec")
    assert convert_source(code, "snippet.py").code == code  # idempotent
    return code


def run(code: str, **names) -> dict:
    scope = dict(names)
    exec(compile(code, "<converted>", "exec"), scope)
    return scope


# --- a variable named like an imported module is a variable in its function ---------------
def test_parameter_named_like_an_import_is_a_tensor_there():
    code = convert("""\
        import torch
        import os as data

        def batchify(data, bsz):
            return data.size(0) // bsz
        """)
    assert "data.size(0)" not in code and "data.shape[0] // bsz" in code
    import mindspore
    assert run(code)["batchify"](mindspore.ops.zeros((10, 2)), 3) == 3


def test_assigned_loop_and_comprehension_variables_shadow_imports():
    code = convert("""\
        import torch
        import os as data, sys as item

        def f(xs):
            out = [item.size(0) for item in xs]
            for data in xs:
                out.append(data.size(1))
            g = lambda data: data.size(0)
            return out + [g(xs[0])]

        def g():
            return data.path.join("a", "b")
        """)
    assert ".size(" not in code and 'data.path.join("a", "b")' in code
    import mindspore
    xs = [mindspore.ops.zeros((2, 3)), mindspore.ops.zeros((4, 5))]
    assert run(code)["f"](xs) == [2, 4, 3, 5, 2]


def test_import_bound_receiver_is_still_a_module():
    code = convert("""\
        import torch
        import numpy as np

        def f(a):
            return np.transpose(a, (1, 0)), torch.ones(2)
        """)
    assert "np.transpose(a, (1, 0))" in code


# --- a call torch's Tensor method cannot take ---------------------------------------------
def test_numpy_signature_is_marked_as_probably_not_a_tensor():
    code = convert("""\
        import torch
        import numpy as np

        def f(a):
            return a.transpose(1, 0, 2), torch.ones(1)
        """)
    assert "a.transpose(1, 0, 2)" in code
    assert "probably not a Tensor" in code
    assert run(code)["f"](__import__("numpy").zeros((1, 2, 3)))[0].shape == (2, 1, 3)


# --- helpers written into the file use its imports as modules ---------------------------
def test_emitted_image_grid_helper_keeps_numpy_calls():
    code = convert("""\
        import torch
        from torchvision.utils import make_grid

        def f(x):
            return make_grid(x, nrow=2)
        """)
    assert "np.concatenate([images] * 3, axis=1)" in code
    assert "np.min(image), np.max(image)" in code
    assert "np.clip(image, low, high)" in code


# --- a MindSpore import must not take a name the file uses as a variable -------------------
def test_local_variable_named_like_a_mindspore_import():
    code = convert("""\
        import torch
        import torchvision as tv

        def main(m):
            optim = torch.optim.Adam(m.parameters(), lr=0.1)
            transforms = tv.transforms.Compose([tv.transforms.ToTensor()])
            return optim, transforms
        """)
    assert "mindspore.experimental.optim.Adam(" in code
    assert "mindspore.dataset.transforms.Compose(" in code
    assert "from mindspore.experimental import optim" not in code
    import mindspore
    optimizer, transforms = run(code)["main"](mindspore.nn.Dense(2, 1))
    assert type(optimizer).__name__ == "Adam" and transforms is not None


def test_function_variable_named_ops():
    code = convert("""\
        import torch
        from torch import nn

        def layers():
            nn_layers = [nn.Linear(2, 3)]
            return nn_layers

        def scale(x):
            ops = 2
            return torch.abs(x) * ops
        """)
    assert "ops = 2" in code and "mindspore.ops.abs(x) * ops" in code
    import mindspore
    out = run(code)["scale"](mindspore.Tensor([-1.0, 2.0]))
    assert out.asnumpy().tolist() == [2.0, 4.0]


def test_module_level_dataset_named_ds():
    code = convert("""\
        import torch
        from torch.utils.data import DataLoader

        class Data(torch.utils.data.Dataset):
            def __len__(self):
                return 4

            def __getitem__(self, i):
                return torch.ones(2) * i

        ds = Data()
        loader = DataLoader(ds, batch_size=2)
        """)
    assert "mindspore.dataset.GeneratorDataset(ds," in code
    assert "import mindspore.dataset as ds" not in code
    batches = list(run(code)["loader"].create_tuple_iterator(output_numpy=True))
    assert [b[0].shape for b in batches] == [(2, 2), (2, 2)]


# --- a rewrite of a parenthesised multi-line expression keeps it parsing ------------------
def test_removed_cpu_keeps_the_parentheses_of_a_method_chain():
    code = convert("""\
        import torch

        def zeros_at(masks):
            has_zeros = ((masks[1:] == 0.0)
                .any(dim=-1)
                .nonzero()
                .cpu())
            return has_zeros
        """)
    assert ".cpu()" not in code and "has_zeros = ((masks[1:] == 0.0)" in code


def test_device_choice_over_two_lines_keeps_parentheses():
    code = convert("""\
        import torch

        def pick():
            device = torch.device("cuda" if torch.cuda.is_available()
                                  else "cpu")
            return device
        """)
    assert '("GPU" if' in code
    assert run(code)["pick"]() in ("GPU", "CPU")
