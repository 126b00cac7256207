"""ms-migrate: convert PyTorch source code into MindSpore source code."""
from .engine import ConversionError, ConversionResult, convert_file, convert_source
from .report import Finding, Report
from .rules import RuleSet, TableError, load_rules

__version__ = "0.1.0"
__all__ = ["convert_source", "convert_file", "ConversionResult", "ConversionError",
           "Finding", "Report", "RuleSet", "TableError", "load_rules", "__version__"]
