"""Devices: MindSpore places tensors and Cells by context; nothing is moved.

- `.to(device)`, `.cuda()` and `.cpu()` on models and tensors are removed, and a
  statement left doing nothing (`model.to(device)`, `x = x.to(device)`) with them.
  `.to(device, dtype)` keeps the cast: `.to(dtype)`, for the Tensor-method table.
- A device chosen as plain strings (`device = "cuda" if torch.cuda.is_available()
  else "cpu"`) gets MindSpore's names ("GPU", "CPU"); `torch.device(...)` itself is
  a table rule. Every `name = <device>` is followed by `mindspore.set_device(name)`.
- `device == "cuda"` and `device.type == "cuda"` compare with MindSpore's names.
- `torch.backends.cudnn.deterministic = v` becomes `mindspore.set_deterministic(v)`;
  the other cuDNN/TF32 switches are removed with a note.

`.to(x)` is a device move only when x is a device: a string like "cuda", a
`torch.device(...)`, a variable assigned one in this file, or a name or attribute
called `device` or `*_device` (a function's `device` parameter); or a device index:
an int, or a name DDP code gives one (`rank`, `local_rank`, `args.gpu`).
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Set

import libcst as cst

from ..core.callrewrite import Unsupported
from ..core.context import Context
from ..core.names import COMPOUND_STATEMENTS, SUITES, LocalNames, dotted_name, keep_parentheses
from ..core.positions import RelevantLines, names_pattern
from ..core.quick_libcst import parse_expression
from ..core.report import CONVERTED, UNSUPPORTED, WARNING, mark_text
from ..core.strings import string_value
from ..core.traversal import traverse
from ..transforms.devices import is_device_string_expr, to_device_target
from .api_words import api_words
from .statement_pass import StatementPass
from .text_search import found

# A cheap test before the pass: a move, a device object, a backend switch or a
# device string. A bare `device=` keyword (factory kwargs) is the API rules' business.
_APPLIES = re.compile(r"\.(to|cuda|cpu)\(|\.is_(cuda|xpu)\b|\bdevice\(|\bbackends\b|[\"'](cuda|cpu|mps|xla)\b"
                      r"|\bcurrent_accelerator\(|\bset_float32_matmul_precision\b|torch\.device\b"
                      r"|\bset_deterministic_debug_mode\b|\bset_device\(")
# the literals each match of _APPLIES starts with (found() tries it only there)
_APPLIES_STARTS = (".to(", ".cuda(", ".cpu(", ".is_", "device(", "backends",
                   *(q + name for name in ("cuda", "cpu", "mps", "xla") for q in "\"'"),
                   "current_accelerator(", "set_float32_matmul_precision", "torch.device",
                   "set_deterministic_debug_mode", "set_device(")
# Within such a file, the statements the pass may change: the above, or any device name
# (as patterns that each start with a literal: searched for far faster than one).
_RELEVANT = (re.compile(r"\.(?:to|cuda|cpu)\("), re.compile(r"device\("),
             re.compile(r"backends\b"),
             # a quote each: a class of characters first would be tried everywhere
             re.compile(r"\"(?:cuda|cpu|mps|xla|xpu|meta)\b"),
             re.compile(r"'(?:cuda|cpu|mps|xla|xpu|meta)\b"),
             re.compile(r"cudnn\."), re.compile(r"current_accelerator\("),
             re.compile(r"set_float32_matmul_precision\b"), re.compile(r"torch\.device\b"),
             re.compile(r"set_deterministic_debug_mode\b"), re.compile(r"set_device\("),
             re.compile(r"\.is_(?:cuda|xpu)\b"))
_BACKSLASH = re.compile(r"\\")
_MOVED = "removed: MindSpore places tensors and Cells by context"
_MOVES = ("to", "cuda", "cpu")  # the methods leave_Call rewrites
# `.to(rank)`, `.to(args.gpu)`: the names DDP code gives a CUDA device index.
_DEVICE_INDEX = re.compile(r"^(rank|local_rank|gpu|gpus?_id|gpu_rank|device_id|dev_id|cuda_id)$")

# torch.backends switches with nothing to set in MindSpore (it picks kernels itself).
_BACKEND_SWITCHES = {
    "torch.backends.cudnn.benchmark": "MindSpore selects kernels itself",
    "torch.backends.cudnn.enabled": "MindSpore selects kernels itself",
    "torch.backends.cudnn.allow_tf32": "MindSpore has no TF32 switch here",
    "torch.backends.cuda.matmul.allow_tf32": "MindSpore has no TF32 switch here",
}
# What torch reads from a switch no statement of the file has set.
_SWITCH_DEFAULTS = {"torch.backends.cudnn.benchmark": "False",
                    "torch.backends.cudnn.enabled": "True",
                    "torch.backends.cudnn.allow_tf32": "True",
                    "torch.backends.cuda.matmul.allow_tf32": "False"}
_SWITCH_NAMES = frozenset(name.rpartition(".")[2] for name in _BACKEND_SWITCHES)
_DETERMINISTIC = "torch.backends.cudnn.deterministic"
# Calls with no effect on values (speed, debugging, a no-op): a statement of one is
# removed with a note.
_SPEED_CALLS = {
    "torch.set_float32_matmul_precision": "MindSpore has no float32 matmul precision switch "
                                          "(it only trades precision for speed)",
    "torch.set_deterministic_debug_mode": "MindSpore does not warn about nondeterministic "
                                          "operations (mindspore.set_deterministic chooses "
                                          "deterministic kernels)",
    "torch.cpu.set_device": "torch does nothing for the CPU device; MindSpore places "
                            "tensors by context",
}
# `x.is_cuda`: a MindSpore tensor lives on the context's device target
_ON_DEVICE = {"is_cuda": '(mindspore.get_context("device_target") == "GPU")',
              "is_xpu": "False"}  # MindSpore has no XPU target
# Calls that give a device (an accelerator's name once converted).
_DEVICE_CALLS = ("torch.device", "torch.accelerator.current_accelerator")


def applies(source: str) -> bool:
    return found(_APPLIES, source, *_APPLIES_STARTS)


def convert_devices(ctx: Context, module: cst.Module) -> cst.Module:
    devices = _Devices(ctx, _device_variables(ctx, module))
    converted = traverse(module, devices)
    devices.place_findings()
    return converted


def _is_device_constructor(ctx: Context, node: cst.BaseExpression) -> bool:
    # (types compared: isinstance against libcst's ABCs is slow)
    return type(node) is cst.Call and ctx.resolve(node.func) in _DEVICE_CALLS


def _device_variables(ctx: Context, module: cst.Module) -> Set[str]:
    """Dotted names (`device`, `self.device`) assigned a device in this file."""
    found: Set[str] = set()
    # statements only (no walk through expressions): a whole-tree visit costs a parse;
    # and only those with a line naming a device call or a device (a string that spells
    # one with escapes has a backslash)
    relevant = RelevantLines(ctx.lines, names_pattern(api_words(ctx, _DEVICE_CALLS)),
                             *_RELEVANT, _BACKSLASH)
    for node in _assignments(module.body, relevant):
        if _is_device_constructor(ctx, node.value) or is_device_string_expr(node.value):
            for target in node.targets:
                name = dotted_name(target.target)
                if name:
                    found.add(name)
    return found


# the fields of a compound statement (or clause) that hold statements
_BLOCK_FIELDS = ("body", "orelse", "handlers", "finalbody", "cases")


def _assignments(body, relevant: RelevantLines) -> List[cst.Assign]:
    """The `a = b` small statements of a block and the blocks in it, but of the
    statements `relevant` skips (clauses, `else:` and `except:`, are entered); a
    statement list, not a generator per block."""
    found: List[cst.Assign] = []
    todo = list(reversed(body))
    while todo:
        stmt = todo.pop()
        kind = type(stmt)  # types compared: isinstance against libcst's ABCs is slow
        if kind is cst.Assign:  # a small statement of a line entered, or of `if x: a = b`
            found.append(stmt)
            continue
        if kind is cst.SimpleStatementLine:
            if not relevant.skips(stmt):
                found.extend(small for small in stmt.body if type(small) is cst.Assign)
            continue
        if kind in COMPOUND_STATEMENTS and relevant.skips(stmt):
            continue
        nested = []
        for field in _BLOCK_FIELDS:
            child = getattr(stmt, field, None)
            if child is None:
                continue
            if type(child) in SUITES:
                nested.extend(child.body)
            elif type(child) is list or type(child) is tuple:
                nested.extend(child)
            elif isinstance(child, cst.CSTNode):  # `else:`, `finally:`, an `elif`
                nested.append(child)
        todo.extend(reversed(nested))
    return found


class _Devices(StatementPass):
    def __init__(self, ctx: Context, devices: Set[str]):
        super().__init__(ctx, *_RELEVANT)
        self.devices = devices
        self.moved = 0                    # device moves removed inside the current statement
        self.functions: List[str] = []    # enclosing function and class names
        self.loops = 0                     # depth of for/while loops
        self.statement: cst.SimpleStatementLine = None  # the original statement being left
        # backend switch -> the literal the file last set it to, in source order (None: an
        # expression); a read of the switch becomes that value, or torch's default
        self.switches: Dict[str, Optional[str]] = {}
        self.targets: Set[int] = set()  # ids of assigned targets: written, not read

    def visit_AssignTarget(self, node):
        self.targets.add(id(node.target))

    # --- which values are devices ------------------------------------------------
    def _is_device(self, node: cst.BaseExpression) -> bool:
        if is_device_string_expr(node) or _is_device_constructor(self.ctx, node):
            return True
        name = dotted_name(node)
        if name is None:
            return False
        last = name.rpartition(".")[2]
        return name in self.devices or last == "device" or last.endswith("_device")

    # --- device == "cuda", device.type == "cuda" ----------------------------------
    def leave_Comparison(self, original, updated):
        """Compare a converted device with MindSpore's names ("GPU"), not torch's."""
        left = updated.left
        if isinstance(left, cst.Attribute) and left.attr.value == "type":
            left = left.value  # torch.device.type: the device is now its type's name
        if not (self._is_device(left) and not is_device_string_expr(left)):
            return updated
        targets = []
        for target in updated.comparisons:
            if (isinstance(target.operator, (cst.Equal, cst.NotEqual))
                    and is_device_string_expr(target.comparator)):
                notes: List[str] = []
                try:
                    target = target.with_changes(
                        comparator=to_device_target(target.comparator, notes))
                except Unsupported:
                    return updated
            targets.append(target)
        if targets == list(updated.comparisons):
            return updated
        self.add(original, "torch device", CONVERTED,
                 "compared with MindSpore's device names")
        return updated.with_changes(left=left, comparisons=targets)

    # --- `device: torch.device` ------------------------------------------------------
    def leave_Annotation(self, original, updated):
        """A device is its MindSpore device target's name: a str."""
        if self.ctx.resolve(original.annotation) != "torch.device":
            return updated
        self.add(original, "torch.device", CONVERTED, "annotation -> str (a device target name)")
        return updated.with_changes(annotation=cst.Name("str"))

    # --- torch.accelerator.current_accelerator().type -------------------------------
    def leave_Attribute(self, original, updated):
        """The accelerator is its device target's name: its `.type` is the name."""
        if updated.attr.value in _SWITCH_NAMES and id(original) not in self.targets:
            switch = self._switch_read(original)
            if switch is not None:
                return switch
        if (updated.attr.value == "type" and isinstance(updated.value, cst.Call)
                and self.ctx.resolve(updated.value.func) == "torch.accelerator.current_accelerator"):
            return updated.value
        if updated.attr.value in _ON_DEVICE and self._tensor_flag(original):
            self.ctx.require("import mindspore")
            self.add(original, f"torch.Tensor.{updated.attr.value}", CONVERTED,
                     "-> whether the context's device target is that device "
                     "(MindSpore places every tensor there)")
            return parse_expression(_ON_DEVICE[updated.attr.value])
        return updated

    def _switch_read(self, node: cst.Attribute) -> Optional[cst.BaseExpression]:
        """`torch.backends.cudnn.benchmark` read: the value the file last set, or torch's
        default (MindSpore has no such switch to read)."""
        qualified = self.ctx.resolve(node)
        if qualified not in _BACKEND_SWITCHES:
            return None
        value = self.switches.get(qualified, _SWITCH_DEFAULTS[qualified])
        if value is None:
            return None  # set to an expression: left, and marked as having no rule
        origin = ("the value this file set above" if qualified in self.switches
                  else "torch's default")
        self.add(node, qualified, WARNING, f"read as {value}, {origin}: "
                 f"{_BACKEND_SWITCHES[qualified]}")
        return cst.Name(value)

    def leave_If(self, original, updated):
        """`if x.is_cuda:` reads without the comparison's parentheses."""
        test = updated.test
        if (isinstance(original.test, cst.Attribute) and original.test.attr.value in _ON_DEVICE
                and isinstance(test, cst.Comparison) and test.lpar):
            return updated.with_changes(test=test.with_changes(lpar=[], rpar=[]))
        return updated

    def _tensor_flag(self, node: cst.Attribute) -> bool:
        """`x.is_cuda` of a value, not `self.is_cuda` nor an attribute the file sets."""
        if self.ctx.resolve(node.value) is not None or (
                isinstance(node.value, cst.Name) and node.value.value in ("self", "cls")):
            return False
        return not re.search(rf"\.{node.attr.value}\s*=(?!=)", self.ctx.source)

    # --- .to(device) / .cuda() / .cpu() --------------------------------------------
    def leave_Call(self, original, updated):
        func = updated.func
        # (the method's name first: most calls are no move, and a torch name is asked
        # for only then; types compared: isinstance against libcst's ABCs is slow)
        if (type(func) is not cst.Attribute or func.attr.value not in _MOVES
                or self.ctx.resolve(original.func) is not None):
            return updated
        method = func.attr.value
        if method in ("cuda", "cpu"):
            return keep_parentheses(updated, self._moved(original, f"Tensor.{method}", func.value))
        if method == "to":
            return keep_parentheses(updated, self._convert_to(original, updated, func.value))
        return updated

    def _convert_to(self, original: cst.Call, call: cst.Call, receiver: cst.BaseExpression):
        positional = [a for a in call.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a for a in call.args if a.keyword is not None}
        device = keywords.get("device") or (positional[0] if positional else None)
        if not positional and set(keywords) == {"memory_format"}:
            # the layout alone: MindSpore keeps its own layout, the values are the same
            self.moved += 1
            self.add(original, "Tensor.to", WARNING,
                     "memory_format removed: MindSpore chooses the memory layout itself "
                     "(the values are the same; only speed may differ)")
            return receiver
        if device is None or not (self._is_device(device.value) or _is_index(device.value)):
            return call
        rest = [a for a in positional if a is not device]
        dtype = keywords.get("dtype") or (rest[0] if rest else None)
        if dtype is None:
            return self._moved(original, "Tensor.to", receiver)
        self.moved += 1
        self.add(original, "Tensor.to", CONVERTED, "device argument removed; the dtype cast stays")
        return call.with_changes(args=[cst.Arg(dtype.value)])

    def _moved(self, original: cst.Call, api: str,
               receiver: cst.BaseExpression) -> cst.BaseExpression:
        self.moved += 1
        self.add(original, api, CONVERTED, _MOVED)
        return receiver

    # --- statements ----------------------------------------------------------------
    def visit_FunctionDef(self, node):
        self.functions.append(node.name.value)
        # a parameter or local named like an import (`nn=None`) is a variable in here
        self.ctx.scopes.append(LocalNames(node, self.ctx.aliases))

    def leave_FunctionDef(self, original, updated):
        self.ctx.scopes.pop()
        self.functions.pop()
        return updated

    def visit_ClassDef(self, node):
        self.functions.append(node.name.value)

    def leave_ClassDef(self, original, updated):
        self.functions.pop()
        return updated

    @property
    def nested(self) -> bool:
        return self.loops > 0

    def visit_For(self, node):
        self.loops += 1

    def leave_For(self, original, updated):
        self.loops -= 1
        return updated

    visit_While, leave_While = visit_For, leave_For

    def visit_SimpleStatementLine(self, node):
        self.moved = 0

    def leave_SimpleStatementLine(self, original, updated):
        if len(updated.body) != 1:
            return updated
        small = updated.body[0]
        if isinstance(small, cst.Assign):
            self.statement = original
            backend = self._backend_switch(small)
            if backend is not None:
                return backend if isinstance(backend, cst.CSTNode) else self.drop(updated, backend)
            device = self._device_assignment(small)
            if device is not None:
                return device(updated)
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            qualified = self.ctx.resolve(small.value.func)
            if qualified in _SPEED_CALLS:
                self.add(original, qualified, CONVERTED, f"removed: {_SPEED_CALLS[qualified]}")
                return self.drop(updated, [mark_text(f"{qualified} removed: "
                                                     f"{_SPEED_CALLS[qualified]}")])
        if self.moved and _does_nothing(small):
            return self.drop(updated, [])
        return updated

    def _backend_switch(self, assign: cst.Assign):
        """A new statement, or the notes of a removed one, or None."""
        if len(assign.targets) != 1:
            return None
        qualified = self.ctx.resolve(assign.targets[0].target)
        if qualified == _DETERMINISTIC:
            self.add(self.statement, qualified, CONVERTED, "-> mindspore.set_deterministic")
            call = cst.Call(self.ctx.name("mindspore.set_deterministic"), [cst.Arg(assign.value)])
            return cst.SimpleStatementLine([cst.Expr(call)])
        if qualified in _BACKEND_SWITCHES:
            value = assign.value
            self.switches[qualified] = (value.value if isinstance(value, cst.Name)
                                        and value.value in ("True", "False") else None)
            reason = _BACKEND_SWITCHES[qualified]
            self.add(self.statement, qualified, CONVERTED, f"removed: {reason}")
            return [mark_text(f"{qualified} removed: {reason}")]
        return None

    def _device_assignment(self, assign: cst.Assign):
        """`device = <device>`: MindSpore names, then `mindspore.set_device(device)`."""
        value = assign.value
        plain = is_device_string_expr(value)
        if not (plain or _is_device_constructor(self.ctx, value)):
            return None
        notes: List[str] = []
        if plain:
            try:
                value = keep_parentheses(value, to_device_target(value, notes))
            except Unsupported as exc:
                self.add(self.statement, "torch device", UNSUPPORTED, str(exc))
                mark = cst.EmptyLine(comment=cst.Comment(mark_text(f"torch device: {exc}")))
                return lambda statement: statement.with_changes(
                    leading_lines=[*statement.leading_lines, mark])
            self.add(self.statement, "torch device", WARNING if notes else CONVERTED,
                     "device names -> MindSpore device targets" + "".join(
                         f"; {n}" for n in notes))
        names = [t.target for t in assign.targets if isinstance(t.target, cst.Name)]
        if self.functions not in ([], ["main"]) or self.nested or _unmapped(value):
            names = []  # select the device where the script does, not in a helper

        def build(statement: cst.SimpleStatementLine):
            marks = [cst.EmptyLine(comment=cst.Comment(mark_text(f"torch device: {n}")))
                     for n in dict.fromkeys(notes)]
            statement = statement.with_changes(body=[assign.with_changes(value=value)],
                                               leading_lines=[*statement.leading_lines, *marks])
            if not names:
                return statement
            set_device = self.ctx.name("mindspore.set_device")
            follow = cst.SimpleStatementLine([cst.Expr(cst.Call(set_device, [cst.Arg(names[0])]))])
            return cst.FlattenSentinel([statement, follow])
        return build


def _unmapped(value: cst.BaseExpression) -> bool:
    """`torch.device(f"xpu:{i}")`: stays torch, selects nothing ("mps" runs on the CPU)."""
    if not (isinstance(value, cst.Call) and value.args):
        return False
    first = value.args[0].value
    if isinstance(first, cst.FormattedString) and first.parts and isinstance(
            first.parts[0], cst.FormattedStringText):
        text = first.parts[0].value
    elif isinstance(first, cst.SimpleString):
        text = string_value(first)
    else:
        return False
    return text.partition(":")[0] in ("xpu", "meta", "xla")


def _is_index(node: cst.BaseExpression) -> bool:
    """`.to(0)`, `.to(rank)`, `.to(args.gpu)`: a CUDA device index, as DDP code names it."""
    name = dotted_name(node)
    return isinstance(node, cst.Integer) or (
        name is not None and _DEVICE_INDEX.match(name.rpartition(".")[2]) is not None)


def _does_nothing(small: cst.BaseSmallStatement) -> bool:
    """`model` alone, or `x = x`, `a, b = a, b` once the device moves are gone."""
    if isinstance(small, cst.Expr):
        return dotted_name(small.value) is not None
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        module = cst.Module([])
        target = module.code_for_node(small.targets[0].target).replace(" ", "")
        if "(" not in target and _called_with_arguments(small.value):
            return False  # its "(" outlasts the strip: no need to write its code out
        return target == module.code_for_node(small.value).replace(" ", "").strip("()")
    return False


def _called_with_arguments(value: cst.BaseExpression) -> bool:
    """`f(a)`: code with something but parentheses before its "(" and after it (only an
    empty tuple, `()(())`, is parentheses alone)."""
    return type(value) is cst.Call and type(value.func) is not cst.Tuple and any(
        a.keyword is not None or a.star or type(a.value) is not cst.Tuple for a in value.args)
