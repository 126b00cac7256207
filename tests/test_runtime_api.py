"""Device and runtime queries and switches: accelerator queries give MindSpore's
answer, device selection follows the accelerator, and switches whose only effect is
speed are removed with a note. Converted scripts run in a fresh process (a device
must be selected before MindSpore's runtime starts) and print what torch prints."""
import subprocess
import sys
import textwrap

import pytest

from ms_migrate import convert_source

pytest.importorskip("torch")
pytest.importorskip("mindspore")

SCRIPT = textwrap.dedent('''\
    import torch
    import torch.backends.cudnn as cudnn
    import torch.nn as nn

    cudnn.benchmark = True
    cudnn.deterministic = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.set_float32_matmul_precision("high")


    def main():
        use_accel = torch.accelerator.is_available()
        if use_accel:
            device = torch.accelerator.current_accelerator()
        else:
            device = torch.device("cpu")
        print("accelerator", use_accel, device.type == "cuda")
        print("counts", torch.cuda.device_count(), torch.accelerator.device_count(),
              torch.cuda.device_count() > 1)
        print("mps", torch.backends.mps.is_available())
        if torch.cuda.is_available():
            torch.cuda.set_device(0)
        ptdtype = "bfloat16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "float32"
        print("dtype", ptdtype)
        torch.manual_seed(0)
        model = nn.Linear(3, 2).to(device)
        x = torch.ones(4, 3)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        print("shape", tuple(model(x).shape))


    main()
''')


def run(code: str, tmp_path, name: str) -> str:
    path = tmp_path / name
    path.write_text(code)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          timeout=300, env={"GLOG_v": "3", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_converted_script_answers_as_torch_on_cpu(tmp_path):
    result = convert_source(SCRIPT, "script.py")
    code = result.code
    assert "torch" not in code.replace("# ms-migrate: torch", "")
    assert "mindspore.set_deterministic(True)" in code
    # the accelerator is selected where the script selects it, as the CPU is
    assert code.count("mindspore.set_device(device)") == 2
    assert run(code, tmp_path, "converted.py") == run(SCRIPT, tmp_path, "original.py")


def test_speed_switches_are_removed_with_a_note():
    result = convert_source(SCRIPT, "script.py")
    for api in ("torch.backends.cudnn.benchmark", "torch.backends.cuda.matmul.allow_tf32",
                "torch.set_float32_matmul_precision"):
        assert f"# ms-migrate: {api} removed:" in result.code
        assert any(f.api == api for f in result.report.findings)
    assert "benchmark = True" not in result.code
    assert "allow_tf32" not in result.code.replace("# ms-migrate: torch.backends.cuda."
                                                   "matmul.allow_tf32", "")


def test_alias_spellings_of_the_switches():
    source = textwrap.dedent('''\
        from torch.backends import cudnn
        import torch
        cudnn.enabled = False
        cudnn.deterministic = args.deterministic
    ''')
    code = convert_source(source, "s.py").code
    assert "cudnn.enabled" not in code.replace("# ms-migrate: torch.backends.cudnn.enabled", "")
    assert "mindspore.set_deterministic(args.deterministic)" in code


def test_device_selection_and_queries_render_as_expected():
    code = convert_source(textwrap.dedent('''\
        import torch
        torch.cuda.set_device(rank)
        n = torch.cuda.device_count() * 2
        if not torch.accelerator.is_available():
            pass
        torch.cuda.synchronize()
    '''), "s.py").code
    assert 'mindspore.set_device("GPU", rank)' in code
    assert 'n = (mindspore.hal.device_count("GPU") if mindspore.hal.is_available("GPU") else 0) * 2' in code
    assert 'if not (mindspore.hal.is_available("GPU") or mindspore.hal.is_available("Ascend")):' in code
    assert "mindspore.runtime.synchronize()" in code


def test_accelerator_type_is_its_name():
    code = convert_source(textwrap.dedent('''\
        import torch
        device_type = torch.accelerator.current_accelerator().type
        torch.accelerator.set_device_index(rank)
    '''), "s.py").code
    assert ".type" not in code
    assert 'device_type = ("GPU" if mindspore.hal.is_available("GPU") else "Ascend" if' in code
    assert "mindspore.set_device(device_type)" in code
    assert ('mindspore.set_device("GPU" if mindspore.hal.is_available("GPU") else "Ascend", rank)'
            in code)


def test_converting_twice_changes_nothing():
    once = convert_source(SCRIPT, "script.py").code
    assert convert_source(once, "script.py").code == once


GRID_SCRIPT = textwrap.dedent('''\
    import numpy as np
    import torch
    from torchvision.utils import save_image, make_grid
    import torchvision.utils as vutils

    gen = torch.tensor(np.load("x.npy"))
    save_image(gen[:7], "a.png", nrow=3, normalize=True)
    vutils.save_image(vutils.make_grid(gen[:4], nrow=2, normalize=True, scale_each=True), "b.png")
    save_image(gen[:1], "c.png", padding=0)
''')


def reference_grid(images, nrow=8, padding=2, normalize=False, scale_each=False):
    """torchvision.utils.make_grid's documented algorithm, written here with torch."""
    import torch
    images = images.clone()
    if images.shape[1] == 1:
        images = torch.cat((images, images, images), 1)
    if normalize:
        def norm(img):
            low, high = float(img.min()), float(img.max())
            return img.clamp(low, high).sub(low).div(max(high - low, 1e-5))
        images = torch.stack([norm(i) for i in images]) if scale_each else norm(images)
    if images.shape[0] == 1:
        return images[0]
    n = images.shape[0]
    xmaps = min(nrow, n)
    ymaps = -(-n // xmaps)
    h, w = images.shape[2] + padding, images.shape[3] + padding
    grid = images.new_full((3, h * ymaps + padding, w * xmaps + padding), 0.0)
    for k in range(n):
        y, x = divmod(k, xmaps)
        grid.narrow(1, y * h + padding, h - padding).narrow(2, x * w + padding, w - padding).copy_(images[k])
    return grid


def reference_pixels(grid):
    return grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(dtype=__import__("torch").uint8).numpy()


def test_save_image_and_make_grid_write_torchvisions_grid(tmp_path):
    import numpy as np
    import torch
    from PIL import Image
    rng = np.random.default_rng(0)
    x = np.tanh(rng.standard_normal((10, 1, 4, 5))).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    result = convert_source(GRID_SCRIPT, "gan.py")
    assert "torchvision" not in result.code
    assert "def make_grid(" in result.code and "def save_image(" in result.code
    assert convert_source(result.code, "gan.py").code == result.code
    path = tmp_path / "converted.py"
    path.write_text(result.code)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300, env={"GLOG_v": "3", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    t = torch.tensor(x)
    expected = {
        "a.png": reference_pixels(reference_grid(t[:7], nrow=3, normalize=True)),
        "b.png": reference_pixels(reference_grid(
            reference_grid(t[:4], nrow=2, normalize=True, scale_each=True)[None])),
        "c.png": reference_pixels(reference_grid(t[:1], padding=0)),
    }
    for name, pixels in expected.items():
        written = np.asarray(Image.open(tmp_path / name))
        assert written.shape == pixels.shape, name
        assert np.abs(written.astype(int) - pixels.astype(int)).max() <= 1, name


def test_save_image_alone_still_writes_its_make_grid():
    code = convert_source(textwrap.dedent('''\
        import torch
        from torchvision.utils import save_image, make_grid
        save_image(torch.zeros(2, 3, 4, 4), "x.png", nrow=1)
    '''), "s.py").code
    assert "torchvision" not in code and "ms-migrate:" not in code
    assert "def make_grid(" in code and "def save_image(" in code


def test_device_names_chosen_at_run_time():
    source = textwrap.dedent('''\
        import torch

        def main(args, rank, acc):
            device = torch.device(args.device)
            d = torch.device("cuda:" + str(rank))
            e = torch.device("cuda:{:d}".format(rank))
            f = torch.device(f"{acc}:{rank}")
            g = torch.device(f"xpu:{rank}")
            return device, d, e, f, g
    ''')
    result = convert_source(source, "s.py")
    code = result.code
    assert 'device = {"cuda": "GPU", "cpu": "CPU"}.get(args.device.split(":")[0], args.device)' in code
    assert 'd = "GPU"' in code and 'e = "GPU"' in code
    assert 'f = {"cuda": "GPU", "cpu": "CPU"}.get(acc.split(":")[0], acc)' in code
    # an XPU device stays torch, marked, and selects nothing
    assert 'g = torch.device(f"xpu:{rank}")' in code and "set_device(g)" not in code
    assert convert_source(code, "s.py").code == code
    namespace = {}
    exec(compile(code.replace("    mindspore.set_device(", "    print("),
                 "s.py", "exec"), namespace)  # the converted names, computed, not selected
    for name, expected in (("cuda:1", "GPU"), ("cpu", "CPU"), ("GPU", "GPU"), ("Ascend", "Ascend")):
        args = type("Args", (), {"device": name})
        assert namespace["main"](args, 1, name)[0] == expected
        assert namespace["main"](args, 1, name)[3] == expected


def test_device_annotations_are_device_target_names():
    code = convert_source(textwrap.dedent('''\
        import torch

        def evaluate(model, device: torch.device, half: bool = False) -> torch.device:
            here: torch.device = device
            return here
    '''), "s.py").code
    assert "def evaluate(model, device: str, half: bool = False) -> str:" in code
    assert "here: str = device" in code and "torch" not in code


def test_channels_last_is_a_layout_only_change(tmp_path):
    source = textwrap.dedent('''\
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        model = nn.Conv2d(3, 4, 3)
        model = model.to(memory_format=torch.channels_last)
        x = torch.ones(2, 3, 6, 6).to(memory_format=torch.channels_last)
        print(tuple(model(x).shape))
    ''')
    result = convert_source(source, "s.py")
    assert "memory_format" not in result.code and "torch" not in result.code
    assert any(f.api == "Tensor.to" and "memory_format" in f.message for f in result.report.findings)
    assert run(result.code, tmp_path, "converted.py") == run(source, tmp_path, "original.py")


def test_save_image_imported_inside_try_writes_the_same_grid(tmp_path):
    """PyTorch-GAN (cluster_gan) imports inside `try: ... except ImportError`: the
    helper replaces that import too, or it would rebind save_image to torchvision's."""
    import numpy as np
    import torch
    from PIL import Image
    x = np.tanh(np.random.default_rng(1).standard_normal((5, 1, 4, 5))).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    script = textwrap.dedent('''\
        try:
            import numpy as np
            import torch
            from torchvision.utils import save_image
        except ImportError as e:
            raise

        save_image(torch.tensor(np.load("x.npy")), "a.png", nrow=2, normalize=True)
    ''')
    result = convert_source(script, "gan.py")
    assert "torchvision" not in result.code and "def save_image(" in result.code
    path = tmp_path / "converted.py"
    path.write_text(result.code)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300, env={"GLOG_v": "3", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    expected = reference_pixels(reference_grid(torch.tensor(x), nrow=2, normalize=True))
    written = np.asarray(Image.open(tmp_path / "a.png"))
    assert written.shape == expected.shape
    assert np.abs(written.astype(int) - expected.astype(int)).max() <= 1
