"""Legacy typed tensor classes chosen at run time, and filled at birth.

Old PyTorch code picks its tensor class once and calls it everywhere:

    Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor
    valid = Variable(Tensor(imgs.size(0), 1).fill_(1.0), requires_grad=False)
    z = Variable(Tensor(np.random.normal(0, 1, (n, latent_dim))))

MindSpore places tensors by context, so both branches are the same float32 tensor.
A name bound once in the module to such a class (or to a choice between classes of
one dtype; every binding of it so, with one dtype) has its calls spelled as the CPU class (`torch.FloatTensor(...)`), which
the rule tables convert (data -> mindspore.Tensor(data, dtype), sizes -> zeros); the
assignment goes when nothing else reads the name. An uninitialised tensor filled at
once becomes the op that makes it filled:

    torch.FloatTensor(n, 1).fill_(1.0)  ->  torch.full((n, 1), 1.0, dtype=torch.float32)
    torch.LongTensor(n).zero_()         ->  torch.zeros((n,), dtype=torch.int64)
    torch.Tensor(n).uniform_()          ->  torch.rand((n,), dtype=torch.float32)
    torch.Tensor(n).normal_()           ->  torch.randn((n,), dtype=torch.float32)

(one argument that is not data written out, a list or a call, is a size: the
values the tensor would hold are overwritten)

a class mapped over rows is called on each (`map(torch.LongTensor, rows)` ->
`map(lambda data: torch.LongTensor(data), rows)`), and a class given to `.type()` is
its dtype: `x.type(torch.cuda.LongTensor)` and
`x.type('torch.LongTensor')` -> `x.type(torch.int64)` (then converted by the table).
"""
from __future__ import annotations

import re
from typing import Callable, Dict, List, Optional, Set

import libcst as cst

from ..core.context import Context
from ..core.names import dotted_name, root_name
from ..core.positions import RelevantLines, names_pattern
from ..core.report import WARNING
from ..core.strings import string_value
from ..core.traversal import FastVisitor, traverse
from .api_words import api_words
from .statement_pass import StatementPass
from .text_search import found

# torch's typed tensor classes -> the dtype their tensors have (torch.X).
DTYPES = {
    "Tensor": "float32", "FloatTensor": "float32", "DoubleTensor": "float64",
    "HalfTensor": "float16", "BFloat16Tensor": "bfloat16", "LongTensor": "int64",
    "IntTensor": "int32", "ShortTensor": "int16", "CharTensor": "int8",
    "ByteTensor": "uint8", "BoolTensor": "bool",
}
# What _class_dtype knows: the typed classes (and Tensor) of torch and torch.cuda
_CLASSES = frozenset({f"torch.{name}" for name in DTYPES}
                     | {f"torch.cuda.{name}" for name in DTYPES if name != "Tensor"})
# A typed class anywhere, or a plain Tensor called or mapped (`torch.Tensor` in a type
# hint or an isinstance test is not legacy: most files have one)
_APPLIES = re.compile(r"(?:Float|Double|Half|Long|Int|Short|Char|Byte|Bool|BFloat16)Tensor\b"
                      r"|\bTensor\s*\(|map\(\s*[\w.]*Tensor\b")
_ASSIGNS_CLASS = re.compile(r"=(?!=)[^=]{0,300}?Tensor\b")
# An in-place initialiser of a new uninitialised tensor -> the torch op that makes it.
_FILLED = {"fill_": "full", "zero_": "zeros", "uniform_": "rand", "normal_": "randn"}


# _APPLIES's first two kinds of match where their `Tensor` is: every typed class
# ends with it, so one search finds them all
_TENSOR_AT = re.compile(r"(?:(?<=Float)|(?<=Double)|(?<=Half)|(?<=Long)|(?<=Int)|(?<=Short)"
                        r"|(?<=Char)|(?<=Byte)|(?<=Bool)|(?<=BFloat16))Tensor\b|\bTensor\s*\(")


def applies(source: str) -> bool:
    """`_APPLIES.search(source)`, tried only where `Tensor` or `map(` is."""
    return found(_TENSOR_AT, source, "Tensor") or found(_APPLIES, source, "map(")


def convert_legacy_tensors(ctx: Context, module: cst.Module) -> cst.Module:
    # a class chosen into a name needs an assignment with a tensor class after its `=`
    classes = _chosen_classes(ctx, module) if _ASSIGNS_CLASS.search(ctx.source) else {}
    reads: Dict[str, int] = {}
    if classes:
        finder = _Reads(classes, RelevantLines(ctx.lines, names_pattern(classes)).skips)
        traverse(module, finder)
        reads = finder.count
    rewrite = _Rewrite(ctx, classes, reads)
    converted = traverse(module, rewrite)
    rewrite.place_findings()
    return converted


def _class_words(ctx: Context) -> Set[str]:
    """Words one of which a statement that names a typed tensor class spells."""
    return api_words(ctx, _CLASSES)


def _class_dtype(ctx: Context, node: cst.BaseExpression) -> Optional[str]:
    """The dtype of a torch typed tensor class `node` names (`torch.cuda.LongTensor`)."""
    name = ctx.resolve(node)
    if name is None:
        return None
    head, _, cls = name.rpartition(".")
    if head == "torch" or (head == "torch.cuda" and cls != "Tensor"):
        return DTYPES.get(cls)
    return None


def _choice_dtype(ctx: Context, node: cst.BaseExpression) -> Optional[str]:
    """The one dtype of a class, or of a conditional choice between classes."""
    if isinstance(node, cst.IfExp):
        body, orelse = _choice_dtype(ctx, node.body), _choice_dtype(ctx, node.orelse)
        return body if body is not None and body == orelse else None
    return _class_dtype(ctx, node)


def _cpu_class(ctx: Context, node: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """The branch of a choice that is not a CUDA class (any branch when all are)."""
    if isinstance(node, cst.IfExp):
        branches = [_cpu_class(ctx, node.body), _cpu_class(ctx, node.orelse)]
        cpu = [b for b in branches if not (ctx.resolve(b) or "").startswith("torch.cuda.")]
        return (cpu or branches)[0]
    return node


class _Bindings(FastVisitor):
    """How often each name is bound anywhere in the module, and its module-level
    assignments to a class value."""

    def __init__(self, skips: Callable[[cst.CSTNode], bool]):
        """`skips(statement)`: statements that bind none of the names asked about."""
        self.count: Dict[str, int] = {}
        self.assigned: Dict[str, List[cst.BaseExpression]] = {}
        self.skips = skips

    def _bind(self, target) -> None:
        if isinstance(target, cst.Name):
            self.count[target.value] = self.count.get(target.value, 0) + 1
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind(element.value)
        elif isinstance(target, cst.StarredElement):
            self._bind(target.value)

    def visit_Assign(self, node):
        for target in node.targets:
            self._bind(target.target)
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.assigned.setdefault(node.targets[0].target.value, []).append(node.value)

    def visit_AnnAssign(self, node):
        self._bind(node.target)

    def visit_AugAssign(self, node):
        self._bind(node.target)

    def visit_For(self, node):
        self._bind(node.target)

    def visit_CompFor(self, node):
        self._bind(node.target)

    def visit_NamedExpr(self, node):
        self._bind(node.target)

    def visit_WithItem(self, node):
        if node.asname is not None:
            self._bind(node.asname.name)

    def visit_ExceptHandler(self, node):
        if node.name is not None:
            self._bind(node.name.name)

    def visit_Param(self, node):
        self._bind(node.name)

    def visit_FunctionDef(self, node):
        self._bind(node.name)

    def visit_ClassDef(self, node):
        self._bind(node.name)

    def visit_Global(self, node):
        for item in node.names:  # a function that rebinds it is not followed
            self._bind(item.name)

    def visit_Nonlocal(self, node):
        for item in node.names:
            self._bind(item.name)

    def visit_Import(self, node):
        for alias in node.names:
            self._bind(alias.asname.name if alias.asname else cst.Name(
                dotted_name(alias.name).partition(".")[0]))

    def visit_ImportFrom(self, node):
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            self._bind(alias.asname.name if alias.asname else alias.name)


def _chosen_classes(ctx: Context, module: cst.Module) -> Dict[str, cst.BaseExpression]:
    """Names bound only to typed classes or choices of one dtype, the same in every
    binding (once in the module, or once in each function that picks its own) ->
    the class their calls are spelled as."""
    # first the names assigned a class somewhere (its statement spells the class's name,
    # or a name imported as one), then all the bindings of those names (each statement
    # binding one names it)
    classes = _Bindings(RelevantLines(ctx.lines, names_pattern(_class_words(ctx))).skips)
    traverse(module, classes)
    candidates = {name for name, values in classes.assigned.items()
                  if any(_choice_dtype(ctx, v) is not None for v in values)}
    if not candidates:
        return {}
    bindings = _Bindings(RelevantLines(ctx.lines, names_pattern(candidates)).skips)
    traverse(module, bindings)
    chosen = {}
    for name, values in bindings.assigned.items():
        if (name not in candidates or bindings.count.get(name) != len(values)
                or name in ctx.aliases):
            continue
        if None not in {_choice_dtype(ctx, v) for v in values} and len(
                {_choice_dtype(ctx, v) for v in values}) == 1:
            cls = _cpu_class(ctx, values[0])
            if _torch_root(ctx, cls) is not None:  # spelled through `torch`
                chosen[name] = cls
    return chosen


def _torch_root(ctx: Context, node: cst.BaseExpression) -> Optional[str]:
    """The module's name for `torch` when `node` is spelled through it."""
    root = root_name(node)
    return root if root is not None and ctx.aliases.get(root) == "torch" else None


def _keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(value, keyword=cst.Name(name), equal=cst.AssignEqual(
        cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))


_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


class _Reads(FastVisitor):
    """Uses of the chosen names other than calls of them and their binding."""

    def __init__(self, classes: Dict[str, cst.BaseExpression], skips):
        self.count: Dict[str, int] = {name: 0 for name in classes}
        self.skip: Set[int] = set()
        self.skips = skips  # statements that name none of the classes

    def visit_Call(self, node):
        self.skip.add(id(node.func))
        if isinstance(node.func, cst.Name) and node.func.value == "map" and node.args:
            self.skip.add(id(node.args[0].value))  # map(Tensor, rows): made a call
        if _type_argument(node) is not None:  # x.type(Tensor): converted to its dtype
            self.skip.add(id(_type_argument(node)))

    def visit_AssignTarget(self, node):
        self.skip.add(id(node.target))

    def visit_Attribute(self, node):
        self.skip.add(id(node.attr))

    def visit_Arg(self, node):
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def visit_Name(self, node):
        if node.value in self.count and id(node) not in self.skip:
            self.count[node.value] += 1


class _Rewrite(StatementPass):
    def __init__(self, ctx: Context, classes: Dict[str, cst.BaseExpression],
                 reads: Dict[str, int]):
        # it rewrites what names a typed class or a chosen one, and `x.type(...)` (whose
        # string may spell its class with escapes)
        super().__init__(ctx, names_pattern({*_class_words(ctx), *classes, "type"}))
        self.classes = classes
        self.reads = reads
        self.made: Set[int] = set()  # ids of the isinstance tests written here

    # --- the chosen names ---------------------------------------------------------
    def leave_Call(self, original, updated):
        func = updated.func
        if isinstance(func, cst.Name) and func.value in self.classes:
            updated = updated.with_changes(func=self.classes[func.value].deep_clone())
        return (self._filled(updated) or self._typed(updated) or self._mapped(updated)
                or self._isinstance(original, updated) or self._fresh_out(updated)
                or updated)

    # --- torch.arange(0, n, out=torch.cuda.LongTensor(n)) -> torch.arange(0, n, dtype=...)
    def _fresh_out(self, call: cst.Call) -> Optional[cst.Call]:
        """A new tensor of a typed class given as out= only chooses the result's dtype
        (and device, which MindSpore takes from its context)."""
        out = next((a for a in call.args if a.keyword and a.keyword.value == "out"), None)
        if out is None or not isinstance(out.value, cst.Call):
            return None
        dtype, torch = _class_dtype(self.ctx, out.value.func), _torch_root(self.ctx,
                                                                           out.value.func)
        rule = self.ctx.rules.get(self.ctx.resolve(call.func) or "")
        if (dtype is None or torch is None or rule is None or "dtype" not in rule.args
                or any(a.keyword and a.keyword.value == "dtype" for a in call.args)):
            return None
        new = _keyword("dtype", cst.Attribute(cst.Name(torch), cst.Name(dtype)))
        return call.with_changes(args=[new.with_changes(comma=out.comma) if a is out else a
                                       for a in call.args])

    # --- isinstance(x, torch.LongTensor) -> isinstance(x, torch.Tensor) and x.dtype == ...
    def _isinstance(self, original: cst.Call, call: cst.Call) -> Optional[cst.BaseExpression]:
        if not (isinstance(call.func, cst.Name) and call.func.value == "isinstance"
                and len(call.args) == 2 and not any(a.keyword or a.star for a in call.args)):
            return None
        value, cls = call.args[0].value, call.args[1].value
        dtype, torch = _class_dtype(self.ctx, cls), _torch_root(self.ctx, cls)
        qualified = self.ctx.resolve(cls) or ""
        if (dtype is None or torch is None or qualified.endswith(".Tensor")
                or not isinstance(value, (cst.Name, cst.Attribute))):
            return None
        if qualified.startswith("torch.cuda."):
            self.add(original, qualified, WARNING, "isinstance of a CUDA tensor class: "
                     "only the dtype is tested (MindSpore places tensors by context)")
        test = cst.BooleanOperation(
            call.with_changes(args=[call.args[0], call.args[1].with_changes(
                value=cst.Attribute(cst.Name(torch), cst.Name("Tensor")))]),
            cst.And(),
            cst.Comparison(cst.Attribute(value.deep_clone(), cst.Name("dtype")), [
                cst.ComparisonTarget(cst.Equal(), cst.Attribute(cst.Name(torch),
                                                                cst.Name(dtype)))]),
            lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        self.made.add(id(test))
        return test

    def leave_If(self, original, updated):
        if id(updated.test) in self.made:  # `if (a and b):` needs no parentheses
            return updated.with_changes(test=updated.test.with_changes(lpar=[], rpar=[]))
        return updated

    # --- map(torch.LongTensor, rows) -> map(lambda data: torch.LongTensor(data), rows) --
    def _mapped(self, call: cst.Call) -> Optional[cst.Call]:
        if not (isinstance(call.func, cst.Name) and call.func.value == "map" and call.args
                and not call.args[0].keyword and not call.args[0].star):
            return None
        cls = call.args[0].value
        if isinstance(cls, cst.Name) and cls.value in self.classes:
            cls = self.classes[cls.value].deep_clone()
        if _class_dtype(self.ctx, cls) is None or _torch_root(self.ctx, cls) is None:
            return None
        made = cst.Lambda(cst.Parameters([cst.Param(cst.Name("data"))]),
                          cst.Call(cls, [cst.Arg(cst.Name("data"))]))
        return call.with_changes(args=[call.args[0].with_changes(value=made), *call.args[1:]])

    def leave_SimpleStatementLine(self, original, updated):
        body = updated.body
        if (len(body) == 1 and isinstance(body[0], cst.Assign) and len(body[0].targets) == 1
                and isinstance(body[0].targets[0].target, cst.Name)):
            name = body[0].targets[0].target.value
            if name in self.classes and self.reads[name] <= 0:
                return self.drop(updated, [])
        return updated

    # --- Class(sizes).fill_(v) -> torch.full(sizes, v, dtype) ------------------------
    def _filled(self, call: cst.Call) -> Optional[cst.Call]:
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in _FILLED
                and isinstance(func.value, cst.Call)):
            return None
        made = func.value
        dtype = _class_dtype(self.ctx, made.func)
        torch = _torch_root(self.ctx, made.func)
        args = list(made.args)
        if (dtype is None or torch is None or not args
                or any(a.keyword or a.star == "**" for a in args)):
            return None
        if len(args) == 1 and (args[0].star or isinstance(
                args[0].value, (cst.List, cst.Tuple, cst.ListComp, cst.Call))):
            return None  # Class(data).fill_(v) has data's shape: left to the tables
        # One other argument is a size: the values it would give are overwritten.
        op = func.attr.value
        fill = list(call.args)
        if op == "fill_":
            if len(fill) != 1 or fill[0].keyword or fill[0].star:
                return None
        elif fill:
            return None  # uniform_(a, b), normal_(mean, std): not the plain op
        elements = [cst.StarredElement(a.value) if a.star else cst.Element(a.value)
                    for a in args]
        last = [elements[-1].with_changes(comma=cst.Comma())] if len(args) == 1 else elements[-1:]
        size = cst.Tuple([e.with_changes(comma=_COMMA) for e in elements[:-1]] + last)
        new_args = [cst.Arg(size, comma=_COMMA)]
        if op == "fill_":
            new_args.append(cst.Arg(fill[0].value, comma=_COMMA))
        new_args.append(_keyword("dtype", cst.Attribute(cst.Name(torch), cst.Name(dtype))))
        return cst.Call(cst.Attribute(cst.Name(torch), cst.Name(_FILLED[op])), new_args)

    # --- x.type(torch.FloatTensor) -> x.type(torch.float32) --------------------------
    def _typed(self, call: cst.Call) -> Optional[cst.Call]:
        value = _type_argument(call)
        if value is None:
            return None
        if isinstance(value, cst.Name) and value.value in self.classes:
            value = self.classes[value.value]
        dtype, torch = _class_dtype(self.ctx, value), _torch_root(self.ctx, value)
        if isinstance(value, cst.SimpleString):
            text = string_value(value)
            head, _, cls = text.rpartition(".") if isinstance(text, str) else ("", "", "")
            if head in ("torch", "torch.cuda") and cls in DTYPES and cls != "Tensor":
                dtype = DTYPES[cls]
                torch = next((n for n, q in self.ctx.aliases.items()
                              if q == "torch" and not self.ctx.is_shadowed(n)), None)
        if dtype is None or torch is None:
            return None
        new = cst.Attribute(cst.Name(torch), cst.Name(dtype))
        return call.with_changes(args=[call.args[0].with_changes(value=new)])


def _type_argument(call: cst.Call) -> Optional[cst.BaseExpression]:
    """What `x.type(what)` converts to."""
    func = call.func
    if (isinstance(func, cst.Attribute) and func.attr.value == "type" and len(call.args) == 1
            and not call.args[0].star
            and (call.args[0].keyword is None or call.args[0].keyword.value == "dtype")):
        return call.args[0].value
    return None

