"""Packed sequences (`torch.nn.utils.rnn`) as padded tensors with their lengths.

MindSpore's nn.LSTM/GRU/RNN take the padded batch with `seq_length` (a tensor of the
lengths): each sequence runs for its own length, the outputs past it are zeros and
the final states are those at its last step (bidirectional included), which is what
torch computes for a PackedSequence. So, in one block of statements:

    packed = pack_padded_sequence(x, lengths)      # goes
    out, h = self.rnn(packed, h)                   # self.rnn(x, h, seq_length=mindspore.tensor(lengths))
    out, _ = pad_packed_sequence(out)              # out = out[:int(max(lengths))]

when the RNN is built in this class (or file) as an LSTM/GRU/RNN with the same
`batch_first` as the packing. The packed data itself (`pack_padded_sequence(...)[0]`,
`.data`, `data, _ = ...`, or `out[0]` of the RNN above) is the valid time steps in
torch's order, time-major: `packed_data(...)`, a helper written into the file.
Anything else done with a packed sequence leaves the calls in place, marked.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

import libcst as cst

from ..core.context import Context
from ..core.names import names_in
from ..core.quick_libcst import parse_expression
from ..core.report import CONVERTED
from ..core.traversal import FastTransformer, FastVisitor, rebuilt, traverse
from .statement_pass import StatementPass, with_helper_class
from .text_search import found

PACK = "torch.nn.utils.rnn.pack_padded_sequence"
UNPACK = "torch.nn.utils.rnn.pad_packed_sequence"
_RNNS = {"torch.nn.LSTM", "torch.nn.GRU", "torch.nn.RNN"}
_APPLIES = re.compile(r"\bpack_padded_sequence\b")
_HELPER_NAME = "packed_data"

_HELPER = '''\
def packed_data(padded, lengths, batch_first=False):
    """The time steps a torch PackedSequence keeps, in its order: step by step, the
    sequences (longest first) still running at that step."""
    if batch_first:
        padded = padded.swapaxes(0, 1)
    steps = ops.arange(padded.shape[0]).view(-1, 1)
    return padded[steps < mindspore.tensor(lengths).view(1, -1)]
'''

# method calls that only read (lengths given as `seq_lengths.data.cpu().numpy()`)
_READS = {"cpu", "numpy", "tolist", "detach", "long", "int", "to", "data", "clone"}


def applies(source: str) -> bool:
    return found(_APPLIES, source, "pack_padded_sequence")


def convert_packed_sequences(ctx: Context, module: cst.Module) -> cst.Module:
    taken = {s.name.value for s in module.body if isinstance(s, (cst.FunctionDef, cst.ClassDef))}
    packed = _Packed(ctx, _declarations(module), helper_free=_HELPER_NAME not in taken)
    converted = traverse(module, packed)
    packed.place_findings()
    if not packed.helper:
        return converted
    ctx.require("import mindspore")
    ctx.require("from mindspore import ops")
    return with_helper_class(converted, _HELPER)


# --- where the RNNs are built ----------------------------------------------------

class _Declarations(FastVisitor):
    """`self.rnn = nn.LSTM(...)` per class, `rnn = nn.LSTM(...)` anywhere else, with the
    function they are in (an RNN class passed as a parameter has its default there)."""

    def __init__(self) -> None:
        super().__init__()
        self.classes: List[str] = []
        self.functions: List[cst.FunctionDef] = []
        self.found: Dict[Tuple[Optional[str], str], List[tuple]] = {}

    def visit_ClassDef(self, node):
        self.classes.append(node.name.value)

    def leave_ClassDef(self, node):
        self.classes.pop()

    def visit_FunctionDef(self, node):
        self.functions.append(node)

    def leave_FunctionDef(self, node):
        self.functions.pop()

    def visit_Assign(self, node):
        if len(node.targets) != 1 or not isinstance(node.value, cst.Call):
            return
        target = node.targets[0].target
        function = self.functions[-1] if self.functions else None
        if (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name)
                and target.value.value == "self" and self.classes):
            key = (self.classes[-1], target.attr.value)
        elif isinstance(target, cst.Name):
            key = (None, target.value)
        else:
            return
        self.found.setdefault(key, []).append((node.value, function))


def _declarations(module: cst.Module):
    found = _Declarations()
    traverse(module, found)
    return found.found


def _batch_first_of(ctx: Context, call: cst.Call, function) -> Optional[bool]:
    """batch_first of an RNN built by `call`, or None when not known to be an RNN's."""
    if not _is_rnn_class(ctx, call.func, function):
        return None
    positional = []
    for arg in call.args:
        if arg.star:
            return None
        if arg.keyword is None:
            positional.append(arg.value)
        elif arg.keyword.value == "batch_first":
            return _bool(arg.value)
    return _bool(positional[4]) if len(positional) > 4 else False


def _is_rnn_class(ctx: Context, func, function) -> bool:
    if ctx.resolve(func) in _RNNS:
        return True
    if not (isinstance(func, cst.Name) and function is not None):
        return False
    params = [*function.params.params, *function.params.kwonly_params]
    return any(p.name.value == func.value and p.default is not None
               and ctx.resolve(p.default) in _RNNS for p in params)


def _bool(node) -> Optional[bool]:
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    return None


# --- the calls -------------------------------------------------------------------

def _arguments(call: cst.Call, names: Tuple[str, ...]) -> Optional[Dict[str, cst.BaseExpression]]:
    """The call's arguments by torch's parameter names, or None (`*args`, unknown)."""
    bound = {}
    for i, arg in enumerate(call.args):
        if arg.star:
            return None
        name = arg.keyword.value if arg.keyword is not None else (names[i] if i < len(names) else None)
        if name not in names or name in bound:
            return None
        bound[name] = arg.value
    return bound


_PACK_ARGS = ("input", "lengths", "batch_first", "enforce_sorted")
_UNPACK_ARGS = ("sequence", "batch_first", "padding_value", "total_length")


def _pure(node: cst.BaseExpression) -> bool:
    """Reading it twice changes nothing: names, attributes, `.cpu().numpy()` chains."""
    if isinstance(node, cst.Name):
        return True
    if isinstance(node, cst.Attribute):
        return _pure(node.value)
    if isinstance(node, cst.Call) and not node.args and isinstance(node.func, cst.Attribute):
        return node.func.attr.value in _READS and _pure(node.func.value)
    if isinstance(node, (cst.List, cst.Tuple)):
        return all(_pure(e.value) for e in node.elements)
    return False


def _assigned(statement: cst.CSTNode) -> set:
    """Names a statement binds (assignment targets, loop variables, with ... as)."""
    targets = _Targets()
    traverse(statement, targets)
    return targets.found


class _Targets(FastVisitor):
    def __init__(self):
        super().__init__()
        self.found: set = set()

    def visit_AssignTarget(self, n):
        self.found.update(names_in(n.target))

    def visit_AugAssign(self, n):
        self.found.update(names_in(n.target))

    def visit_AnnAssign(self, n):
        self.found.update(names_in(n.target))

    def visit_For(self, n):
        self.found.update(names_in(n.target))

    def visit_AsName(self, n):
        self.found.update(names_in(n.name))


def _single_assign(statement) -> Optional[cst.Assign]:
    if (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Assign) and len(statement.body[0].targets) == 1):
        return statement.body[0]
    return None


def _pair_target(target) -> Optional[Tuple[cst.BaseExpression, cst.BaseExpression]]:
    if isinstance(target, (cst.Tuple, cst.List)) and len(target.elements) == 2 and not any(
            isinstance(e, cst.StarredElement) for e in target.elements):
        return target.elements[0].value, target.elements[1].value
    return None


def _is_name(node, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


class _Uses(FastVisitor):
    """Where a name is read in a statement: the nodes that read it."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.reads: List[cst.Name] = []
        self.parents: List[cst.CSTNode] = []

    def on_visit(self, node):
        if _is_name(node, self.name):
            self.reads.append((node, self.parents[-1] if self.parents else None))
        self.parents.append(node)
        return not isinstance(node, cst.AssignTarget)  # a target is written, not read

    def on_leave(self, original_node):
        self.parents.pop()


def _reads(statement, name: str):
    uses = _Uses(name)
    traverse(statement, uses)
    return uses.reads


class _Replace(FastTransformer):
    def __init__(self, replacements: Dict[int, cst.BaseExpression]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node, updated_node):
        new = self.replacements.get(id(original_node))
        return updated_node if new is None else new


class _Packed(StatementPass):
    def __init__(self, ctx: Context, declared, helper_free: bool) -> None:
        super().__init__(ctx)
        self.declared = declared
        self.helper_free = helper_free  # no function of the user's has the helper's name
        self.classes: List[str] = []
        self.helper = False

    def visit_ClassDef(self, node):
        self.classes.append(node.name.value)

    def leave_ClassDef(self, original, updated):
        self.classes.pop()
        return updated

    # --- the packed data, wherever it is read ------------------------------------
    def leave_Subscript(self, original, updated):
        if _is_index_zero(original) and self._pack_call(original.value) is not None:
            return self._data(original.value, updated.value) or updated
        return updated

    def leave_Attribute(self, original, updated):
        if original.attr.value == "data" and self._pack_call(original.value) is not None:
            return self._data(original.value, updated.value) or updated
        return updated

    def _pack_call(self, node):
        if isinstance(node, cst.Call) and self.ctx.resolve(node.func) == PACK:
            return node
        return None

    def _data(self, original: cst.Call, updated: cst.Call) -> Optional[cst.BaseExpression]:
        """`pack_padded_sequence(x, lengths, batch_first)` read for its data."""
        bound = _arguments(updated, _PACK_ARGS)
        if (not self.helper_free or bound is None or "input" not in bound
                or "lengths" not in bound or not _sorted(bound)):
            return None  # (a call without its data is left to the API pass to report)
        self.add(original, PACK, CONVERTED, "the packed data -> packed_data(): the valid time "
                 "steps in torch's order, a helper written into this file")
        return self._helper_call(bound["input"], bound["lengths"], bound.get("batch_first"))

    def _helper_call(self, padded, lengths, batch_first) -> cst.Call:
        self.helper = True
        args = [cst.Arg(padded), cst.Arg(lengths)]
        if batch_first is not None and not (_bool(batch_first) is False):
            args.append(cst.Arg(batch_first, keyword=cst.Name("batch_first"),
                                equal=cst.AssignEqual(cst.SimpleWhitespace(""),
                                                      cst.SimpleWhitespace(""))))
        return cst.Call(cst.Name(_HELPER_NAME), args)

    # --- blocks: pack -> RNN -> unpack ------------------------------------------
    def leave_IndentedBlock(self, original, updated):
        updated = self._chains(original, updated)
        return super().leave_IndentedBlock(original, updated)

    def leave_Module(self, original, updated):
        updated = self._chains(original, updated)
        return super().leave_Module(original, updated)

    def _chains(self, original, updated):
        body = list(updated.body)
        if len(body) != len(original.body):
            return updated
        changed = False
        for i, statement in enumerate(body):
            assign = _single_assign(statement)
            if assign is None:
                continue
            call = self._pack_call(assign.value)
            pair = _pair_target(assign.targets[0].target)
            if call is not None and pair is not None and _is_name(pair[1], "_"):
                new = self._unpacked_data(original.body[i], statement, pair[0])
                if new is not None:
                    body[i] = new
                    changed = True
                continue
            if call is not None and isinstance(assign.targets[0].target, cst.Name):
                edited = self._chain(original.body, body, i)
                if edited is not None:
                    body = edited
                    changed = True
        return updated.with_changes(body=body) if changed else updated

    def _unpacked_data(self, original_statement, statement, target):
        """`scores, _ = pack_padded_sequence(scores, lengths, batch_first=True)`."""
        line = _single_assign(statement)
        data = self._data(_single_assign(original_statement).value, line.value)
        if data is None:
            return None
        return rebuilt(original_statement, statement.with_changes(body=[line.with_changes(
            targets=[cst.AssignTarget(target)], value=data)]))

    def _chain(self, originals, body, at) -> Optional[list]:
        """`packed = pack(x, lengths)`, then `out, h = rnn(packed, ...)`, then the output
        unpacked or read for its data. The new body, or None when any use of the packed
        values is another."""
        assign = _single_assign(body[at])
        call = assign.value
        packed = assign.targets[0].target.value
        bound = _arguments(call, _PACK_ARGS)
        if (bound is None or "input" not in bound or "lengths" not in bound
                or not _pure(bound["lengths"])):
            return None
        padded, lengths = bound["input"], bound["lengths"]
        batch_first = _bool(bound["batch_first"]) if "batch_first" in bound else False
        if batch_first is None:
            return None
        watched = names_in(lengths) | (names_in(padded) if isinstance(padded, cst.Name) else set())
        watched.discard(packed)
        # the RNN call that reads `packed`
        rnn_at, rnn_call, output = None, None, None
        for j in range(at + 1, len(body)):
            reads = _reads(body[j], packed)
            if not reads:
                if _assigned(body[j]) & (watched | {packed}):
                    return None
                continue
            step = _single_assign(body[j])
            if step is None or len(reads) != 1 or not isinstance(step.value, cst.Call):
                return None
            rnn = step.value
            if not (rnn.args and _is_name(rnn.args[0].value, packed) and rnn.args[0].keyword is None):
                return None
            if self._rnn_batch_first(rnn.func) is not batch_first:
                return None
            pair = _pair_target(step.targets[0].target)
            if pair is None or not isinstance(pair[0], cst.Name):
                return None
            rnn_at, rnn_call, output = j, rnn, pair[0].value
            break
        if rnn_at is None:
            return None
        if packed not in _assigned(body[rnn_at]) and any(_reads(s, packed) for s in body[rnn_at + 1:]):
            return None  # the packed sequence is read again
        # what reads the RNN's output: pad_packed_sequence, or [0] / .data for the data
        edits = {}
        for j in range(rnn_at + 1, len(body)):
            for name, parent in _reads(body[j], output):
                edit = self._output_read(body[j], name, parent)
                if edit is None:
                    return None
                edits.setdefault(j, []).append(edit)
            bound = _assigned(body[j])
            if output in bound:
                break  # unpacked into its own name, or another value from here on
            if bound & watched:
                if any(_reads(s, output) for s in body[j + 1:]):
                    return None  # the lengths changed before the output is read
                break
        # all recognised: write it
        new = list(body)
        for j, matched in edits.items():
            new[j] = rebuilt(originals[j], self._apply(originals[j], new[j], matched, lengths,
                                                       batch_first))
        keyword = cst.Arg(self._lengths_tensor(lengths), keyword=cst.Name("seq_length"),
                          equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
        args = list(rnn_call.args)
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        first = padded if isinstance(padded, cst.Name) else cst.Name(packed)
        args[0] = args[0].with_changes(value=first)
        step = _single_assign(new[rnn_at])
        new[rnn_at] = rebuilt(originals[rnn_at], new[rnn_at].with_changes(body=[step.with_changes(
            value=rnn_call.with_changes(args=[*args, keyword]))]))
        self.add(originals[rnn_at], PACK, CONVERTED, "the RNN takes the padded batch and "
                 "seq_length=the lengths: outputs past each length are zeros, the final "
                 "states are those at each sequence's last step, as for a packed sequence")
        if isinstance(padded, cst.Name):
            self.add(originals[at], PACK, CONVERTED, "removed: the RNN below takes the padded "
                     "batch with seq_length")
            self.drop(originals[at], [])
            new[at] = originals[at]
        else:
            self.add(originals[at], PACK, CONVERTED, "-> the padded batch itself; the RNN "
                     "below takes seq_length")
            new[at] = rebuilt(originals[at], new[at].with_changes(
                body=[assign.with_changes(value=padded)]))
        return new

    def _rnn_batch_first(self, func) -> Optional[bool]:
        if (isinstance(func, cst.Attribute) and _is_name(func.value, "self") and self.classes):
            key = (self.classes[-1], func.attr.value)
        elif isinstance(func, cst.Name):
            key = (None, func.value)
        else:
            return None
        found = self.declared.get(key, [])
        values = {_batch_first_of(self.ctx, c, f) for c, f in found}
        return values.pop() if len(values) == 1 else None

    def _unpack_call(self, node, output) -> Optional[Dict[str, cst.BaseExpression]]:
        if not (isinstance(node, cst.Call) and self.ctx.resolve(node.func) == UNPACK):
            return None
        bound = _arguments(node, _UNPACK_ARGS)
        if bound is None or not _is_name(bound.get("sequence"), output):
            return None
        if "padding_value" in bound or "total_length" in bound:
            return None
        if "batch_first" in bound and _bool(bound["batch_first"]) is None:
            return None
        return bound

    def _output_read(self, statement, name, parent):
        """One read of the RNN's output: ('unpack', statement) or ('data', node)."""
        if not self.helper_free:
            parent = None  # [0] / .data need the helper
        if isinstance(parent, cst.Subscript) and parent.value is name and _is_index_zero(parent):
            return ("data", parent)
        if isinstance(parent, cst.Attribute) and parent.value is name and parent.attr.value == "data":
            return ("data", parent)
        assign = _single_assign(statement)
        if assign is None or self._unpack_call(assign.value, name.value) is None:
            return None
        pair = _pair_target(assign.targets[0].target)
        if pair is None or not isinstance(pair[1], cst.Name):
            return None
        return ("unpack", assign)

    def _apply(self, original, statement, edits, lengths, batch_first):
        replacements = {}
        for kind, node in edits:
            if kind == "data":
                replacements[id(node)] = self._helper_call(
                    node.value, lengths, cst.Name("True") if batch_first else None)
                self.add(original, PACK, CONVERTED, "the packed output's data -> packed_data():"
                         " the valid time steps in torch's order, a helper written into this file")
            else:
                return self._unpacked(original, statement, node, lengths, batch_first)
        return traverse(statement, _Replace(replacements))

    def _unpacked(self, original, statement, assign, lengths, batch_first):
        """`out, _ = pad_packed_sequence(out)` -> `out = out[:int(max(lengths))]`: torch's
        padded result stops at the longest sequence."""
        call = assign.value
        bound = _arguments(call, _UNPACK_ARGS)
        output = bound["sequence"]
        wanted = _bool(bound["batch_first"]) if "batch_first" in bound else False
        longest = f"int(max({cst.Module([]).code_for_node(lengths)}))"
        value = cst.Module([]).code_for_node(output)
        if wanted != batch_first:
            value = f"{value}.swapaxes(0, 1)"
        cut = f"{value}[:, :{longest}]" if wanted else f"{value}[:{longest}]"
        target, second = _pair_target(assign.targets[0].target)
        self.add(original, UNPACK, CONVERTED, "the RNN's output is already padded (zeros past "
                 "each length): cut to the longest length as torch's is")
        if _is_name(second, "_"):
            new = assign.with_changes(targets=[cst.AssignTarget(target)],
                                      value=parse_expression(cut))
        else:
            lengths_code = cst.Module([]).code_for_node(self._lengths_tensor(lengths))
            new = assign.with_changes(value=parse_expression(f"{cut}, {lengths_code}"))
        return statement.with_changes(body=[new])

    def _lengths_tensor(self, lengths) -> cst.Call:
        return cst.Call(self.ctx.name("mindspore.tensor"), [cst.Arg(lengths)])


def _is_index_zero(node) -> bool:
    return (isinstance(node, cst.Subscript) and len(node.slice) == 1
            and isinstance(node.slice[0].slice, cst.Index)
            and isinstance(node.slice[0].slice.value, cst.Integer)
            and node.slice[0].slice.value.value == "0")


def _sorted(bound) -> bool:
    """torch packs in the batch's order only when it need not sort it."""
    return "enforce_sorted" not in bound or _bool(bound["enforce_sorted"]) is True
