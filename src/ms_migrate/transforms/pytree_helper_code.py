"""Functions a converted file gets for torch.utils._pytree, which MindSpore has no
public counterpart of (its private mindspore.utils._pytree orders dict leaves by key,
torch by insertion).

A tree is nested tuples, lists, dicts and named tuples; anything else, None included,
is a leaf, as in torch. tree_flatten's spec is what tree_unflatten reads back (not
torch's TreeSpec object).
"""
from __future__ import annotations

HELPERS = {
    "tree_flatten": '''\
def tree_flatten(tree, is_leaf=None):
    """torch.utils._pytree.tree_flatten: the leaves of nested tuples, lists, dicts and
    named tuples in torch's order (dicts by insertion), and the spec tree_unflatten
    rebuilds the tree from."""
    if (is_leaf is not None and is_leaf(tree)) or not isinstance(tree, (tuple, list, dict)):
        return [tree], None
    keys = list(tree.keys()) if isinstance(tree, dict) else None
    leaves, children = [], []
    for child in (tree.values() if keys is not None else tree):
        child_leaves, child_spec = tree_flatten(child, is_leaf)
        leaves.extend(child_leaves)
        children.append((child_spec, len(child_leaves)))
    return leaves, (type(tree), keys, children)
''',
    "tree_unflatten": '''\
def tree_unflatten(leaves, treespec):
    """torch.utils._pytree.tree_unflatten: leaves put back into the structure
    tree_flatten gave."""
    leaves = list(leaves)
    if treespec is None:
        return leaves[0]
    kind, keys, children = treespec
    values, start = [], 0
    for child_spec, count in children:
        values.append(tree_unflatten(leaves[start:start + count], child_spec))
        start += count
    if keys is not None:
        return kind(zip(keys, values))
    return kind(*values) if hasattr(kind, "_fields") else kind(values)
''',
    "tree_leaves": '''\
def tree_leaves(tree, is_leaf=None):
    """torch.utils._pytree.tree_leaves: tree_flatten's leaves."""
    return tree_flatten(tree, is_leaf)[0]
''',
    "tree_map": '''\
def tree_map(func, tree, *rests, is_leaf=None):
    """torch.utils._pytree.tree_map: func applied to each leaf (and the leaves of rests
    at the same places), in a tree of the same structure."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [tree_flatten(rest, is_leaf)[0] for rest in rests]
    return tree_unflatten(map(func, leaves, *others), spec)
''',
}
NEEDS = {"tree_leaves": ("tree_flatten",),
                "tree_map": ("tree_flatten", "tree_unflatten")}
