"""Subcommands beyond `convert` and `rules`, one module each.

Each module decorates its click command(s) with `@main.command` of cli/base.py, and
cli/main.py imports it. Keep module-level imports light (no torch, no mindspore):
`ms-migrate --help` imports every module here.
"""
