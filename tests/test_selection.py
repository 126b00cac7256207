"""`--select`/`--disable` (and their `[tool.ms-migrate]` keys): which rules and passes run."""
import textwrap

from click.testing import CliRunner

from ms_migrate import convert_source, load_rules
from ms_migrate.cli.main import main
from ms_migrate.core.selection import Selection, split_ids
from ms_migrate.pipeline import known_ids

SOURCE = textwrap.dedent("""\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)
            self.conv = nn.Conv1d(1, 1, 3)

        def forward(self, x):
            return F.relu(self.fc(x))


    model = Net().to("cuda")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in [(torch.randn(3, 4), torch.randn(3, 2))]:
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
""")


def test_a_disabled_rule_leaves_its_calls_and_says_so():
    result = convert_source(SOURCE, "a.py", selection=Selection(disable=("torch.nn.Linear",)))
    # `nn` still names torch.nn, so the converted Conv1d spells MindSpore's module in full
    assert "nn.Linear(4, 2)" in result.code and "mindspore.nn.Conv1d(" in result.code
    assert "Dense" not in result.code
    left = [f for f in result.report.findings if f.api == "torch.nn.Linear"]
    assert [f.action for f in left] == ["info"] and "turned off" in left[0].message
    assert "# ms-migrate: torch.nn.Linear" not in result.code  # reported, not marked


def test_a_disabled_pass_does_not_run():
    full = convert_source(SOURCE, "a.py")
    assert "value_and_grad" in full.code and ".to(" not in full.code
    result = convert_source(SOURCE, "a.py", selection=Selection(disable=("training",)))
    assert "value_and_grad" not in result.code and "loss.backward()" in result.code
    assert ".to(" not in result.code  # the devices pass still ran
    assert not any(f.check == "training" for f in result.report.findings)
    assert any(f.check == "devices" for f in result.report.findings)


def test_select_runs_only_what_it_names_by_dotted_prefix():
    result = convert_source(SOURCE, "a.py", selection=Selection(select=("torch.nn.functional",)))
    assert "ops.relu(" in result.code and "nn.Linear(4, 2)" in result.code
    assert "loss.backward()" in result.code and '.to("cuda")' in result.code


def test_select_everything_is_the_default_output():
    everything = Selection(select=tuple(known_ids(load_rules())))
    assert convert_source(SOURCE, "a.py", selection=everything).code == \
        convert_source(SOURCE, "a.py").code


def test_unknown_ids_are_named_and_prefixes_are_known():
    ids = known_ids(load_rules())
    assert Selection(select=("torch.nn", "training"), disable=("Tensor.view",)).unknown(ids) == ()
    assert Selection(disable=("torch.nn.Linearr", "trainin")).unknown(ids) == (
        "torch.nn.Linearr", "trainin")
    assert split_ids(["a,b", " c ", ""]) == ("a", "b", "c")


def test_cli_flags_config_and_the_id_on_each_finding(tmp_path):
    (tmp_path / "a.py").write_text(SOURCE)
    runner = CliRunner()
    out = runner.invoke(main, ["convert", str(tmp_path / "a.py"), "-v", "--disable",
                               "torch.nn.Linear,training"])
    assert out.exit_code == 0, out.output
    assert "nn.Linear(4, 2)" in out.stdout and "loss.backward()" in out.stdout
    assert "[devices]" in out.stderr  # a pass's finding names its pass

    bad = runner.invoke(main, ["convert", str(tmp_path / "a.py"), "--select", "torch.nn.Lineer"])
    assert bad.exit_code == 2 and "unknown rule or pass id: torch.nn.Lineer" in bad.stderr

    (tmp_path / "pyproject.toml").write_text('[tool.ms-migrate]\ndisable = ["devices"]\n')
    configured = runner.invoke(main, ["convert", str(tmp_path / "a.py")])
    assert configured.exit_code == 0 and '.to("cuda")' in configured.stdout


def test_folder_workers_get_the_selection(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"m{i}.py").write_text(SOURCE)
    out = CliRunner().invoke(main, ["convert", str(src), "-o", str(tmp_path / "out"), "-j", "2",
                                    "--disable", "torch.nn.Linear"])
    assert out.exit_code == 0, out.output
    for i in range(3):
        code = (tmp_path / "out" / f"m{i}.py").read_text()
        assert "nn.Linear(4, 2)" in code and "mindspore.nn.Conv1d(" in code
