"""`torchvision.set_image_backend(...)` as a statement goes (accimage only decodes
faster): the converted program reads images with PIL, as torchvision does by
default, and gives the same pixels."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")
Image = pytest.importorskip("PIL.Image")

from ms_migrate import convert_source  # noqa: E402

SOURCE = textwrap.dedent("""\
    import numpy as np
    import torchvision
    from PIL import Image


    def load(path, accimage=False):
        if accimage:
            torchvision.set_image_backend('accimage')
        with open(path, 'rb') as f:
            image = Image.open(f).convert('RGB')
        return torchvision.get_image_backend(), np.asarray(image, dtype=np.float32) / 255
    """)


def test_image_backend_statement_goes_and_pixels_match(tmp_path):
    result = convert_source(SOURCE, "prog.py")
    code = result.code
    lines = [line for line in code.splitlines() if not line.lstrip().startswith("#")]
    assert "torchvision" not in "\n".join(lines), code
    assert convert_source(code, "prog.py").code == code  # idempotent
    (removed,) = [f for f in result.report.findings if f.api == "torchvision.set_image_backend"]
    assert removed.action == "warning"
    pixels = (np.arange(4 * 5 * 3) * 7 % 256).astype(np.uint8).reshape(4, 5, 3)
    path = tmp_path / "img.png"
    Image.fromarray(pixels).save(path)
    m = {"__name__": "prog_ms"}
    exec(compile(code, "<ms>", "exec"), m)
    ours = m["load"](str(path))
    assert ours[0] == "PIL"
    np.testing.assert_array_equal(ours[1], pixels.astype(np.float32) / 255)
    assert m["load"](str(path), accimage=True)[0] == "PIL"  # torch needs accimage installed
    try:
        import torchvision  # noqa: F401
    except ImportError:
        return  # torch's side needs torchvision
    t = {"__name__": "prog"}
    exec(compile(SOURCE, "<torch>", "exec"), t)
    theirs = t["load"](str(path))
    assert theirs[0] == "PIL"
    np.testing.assert_array_equal(ours[1], theirs[1])
