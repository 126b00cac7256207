"""ms-migrate: convert PyTorch source code into MindSpore source code."""
from .core.report import Finding, Report
from .core.rule import RuleSet, TableError
from .tables.load import load_rules

__version__ = "0.1.0"
__all__ = ["convert_source", "convert_file", "ConversionResult", "ConversionError",
           "Finding", "Report", "RuleSet", "TableError", "load_rules", "__version__"]

# The converter (and libcst) load on first use, so `ms-migrate --help` stays fast.
_ENGINE = {"convert_source", "convert_file", "ConversionResult", "ConversionError"}


def __getattr__(name: str):
    if name in _ENGINE:
        from . import engine
        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
