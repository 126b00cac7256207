"""Subcommands beyond `convert` and `rules`, one module each.

Each module defines its click command(s) and registers them with
`cli.main.add_command`. Keep module-level imports light (no torch, no
mindspore): `ms-migrate --help` imports every module here.
"""
