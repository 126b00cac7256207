"""The torch/MindSpore side: weight files and conversion, `verify`, and the equivalence
checks every rule example runs. Needs torch, mindspore and numpy (the `verify` extra)."""
