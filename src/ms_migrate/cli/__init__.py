"""The command line: `convert`, `rules` and the subcommands, the project runner and its
reports, settings from pyproject.toml."""
