"""Table-driven API conversion: torch calls, bare references, Tensor methods."""
from __future__ import annotations

import dataclasses
import re
import typing
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from ..core.callrewrite import Unsupported, bind, code, render_template, rewrite, value_lambda
from ..core.context import Context, is_torch_api
from ..core.names import dotted_name, keep_parentheses, parameter_names, root_name
from ..core.positions import Locator
from ..core.report import CONVERTED, INFO, UNSUPPORTED, WARNING
from ..core.rule import Rule
from ..core.traversal import with_fields
from ..transforms import TRANSFORMS
from ..transforms.distribution_helper_code import BASES
from ..transforms.helper_code import HELPERS, request
from ..transforms.vision import reference_helper
from ..transforms.vision_data import AS_VALUE
from ..core import receivers
from ..core.receivers import DISTRIBUTION, MODULE

NO_RULE = "no MindSpore equivalent in the rule tables; convert by hand"
_SPREAD = "spread to "  # a warning that names the rule's `spread` target, not its own
DISABLED = "left as it is: its rule is turned off (--select/--disable)"


def convert_call(ctx: Context, original: cst.Call, updated: cst.Call,
                 locator: Locator) -> cst.BaseExpression:
    qualified = ctx.resolve(original.func)
    if qualified is not None:
        if not is_torch_api(qualified):
            return updated
        return _convert_api_call(ctx, qualified, original, updated, locator)
    if type(original.func) is cst.Attribute:  # isinstance on libcst's ABCs is slow
        receiver = original.func.value
        # `self.norm(x)` and `self.encoder.norm(h)` call layers: only Module methods
        # apply; so do a name bound only to Modules or distributions (core/receivers.py)
        owner = _owner(ctx, receiver, original.func.attr.value)
        rule = ctx.rules.method(original.func.attr.value, owner)
        if rule is None:  # most method calls
            return updated
        # `np.roll(...)`, `mindspore.numpy.roll(...)`: a function of an imported module
        root = root_name(receiver)
        module = (dotted_name(receiver) is not None
                  and ctx.is_module_name(root))  # `F = ...` in a function: a variable there
        if ctx.resolve(receiver) is None and not module:
            return _convert_method_call(ctx, rule, original, updated, locator)
    return updated


def _owner(ctx: Context, receiver: cst.BaseExpression, name: str) -> Optional[str]:
    """The receiver's type where it is known: a Module, a distribution; else None."""
    if _is_module(ctx, receiver):
        return MODULE
    kind = type(receiver)
    if kind is cst.Name:
        owner = receivers.owner(ctx, receiver.value)  # the file is read on the first one
        if owner == receivers.PLAIN:
            return owner  # no table has its methods
        if name in ctx.rules.typed_names:
            return owner if owner != receivers.TENSOR else None
    if kind is cst.Call:  # `torch.distributions.Poisson(rate).sample()`
        qualified = ctx.resolve(receiver.func) or ""
        if qualified.startswith("torch.distributions.") and qualified.count(".") == 2:
            return DISTRIBUTION
    return None


def _is_module(ctx: Context, receiver: cst.BaseExpression) -> bool:
    """`self`, or `self.x` where the class assigned `self.x = SomeClass(...)`."""
    kind = type(receiver)
    if kind is cst.Name:
        return receiver.value == "self"
    return (kind is cst.Attribute and type(receiver.value) is cst.Name
            and receiver.value.value == "self" and receiver.attr.value in ctx.module_attrs)


def _convert_api_call(ctx: Context, qualified: str, original: cst.Call, updated: cst.Call,
                      locator: Locator) -> cst.BaseExpression:
    if not ctx.selection.enabled(qualified):
        return _left_alone(ctx, qualified, locator, original, updated)
    rule = ctx.rules.get(qualified)
    if rule is None:  # `Example.fromlist(...)`: a method of a class written into the file
        member = _written_class_member(ctx, qualified, locator, original.func, updated.func)
        if member is not None:
            return with_fields(updated, func=member)
    if rule is None or rule.unsupported:
        reason = rule.unsupported if rule else NO_RULE
        ctx.finding(locator, qualified, UNSUPPORTED, reason, node=original,
                    rule=rule.source if rule else None, mark=True)
        return updated
    imports = set(ctx.needed_imports)
    try:
        new, warnings = _apply(ctx, rule, updated,
                               ctx.name(rule.target) if rule.target else None)
    except Unsupported as exc:
        ctx.needed_imports.intersection_update(imports)  # the call stays: no new import
        ctx.finding(locator, qualified, UNSUPPORTED, str(exc), node=original, rule=rule.source,
                    mark=True)
        return updated
    ctx.release(original.func)
    rebound = ctx.facts.out_args.pop(id(original), None)  # passes/out_args.py
    if rebound:
        warnings = [*warnings, rebound[1]]
    _record(ctx, rule, qualified, locator, original, warnings)
    return keep_parentheses(updated, new)


def _convert_method_call(ctx: Context, rule: Rule, original: cst.Call, updated: cst.Call,
                         locator: Locator) -> cst.BaseExpression:
    api = rule.id
    if not ctx.selection.enabled(api):
        return _left_alone(ctx, api, locator, original, updated)
    if rule.unsupported:
        ctx.finding(locator, api, UNSUPPORTED, rule.unsupported, node=original, rule=rule.source,
                    mark=True)
        return updated
    if _mindspore_spelling(rule, original):
        return updated  # converted before (a file that keeps torch imports, converted again)
    receiver = updated.func.value
    imports = set(ctx.needed_imports)
    try:
        if rule.target and rule.target.startswith("."):
            func = with_fields(updated.func, attr=cst.Name(rule.target[1:]))
            new, warnings = _apply(ctx, rule, updated, func)
        else:
            func = ctx.name(rule.target) if rule.target else None
            new, warnings = _apply(ctx, rule, updated, func, receiver=receiver)
    except Unsupported as exc:
        ctx.needed_imports.intersection_update(imports)  # the call stays: no new import
        message = str(exc)
        if message.startswith("more positional arguments"):  # `a.transpose(1, 0, 2)`: numpy's
            message += " (the receiver is probably not a Tensor: a numpy array?)"
        ctx.finding(locator, api, UNSUPPORTED, message, node=original, rule=rule.source, mark=True)
        return updated
    rebound = ctx.facts.out_args.pop(id(original), None)  # passes/reshape_inplace.py
    if rebound:
        warnings = [*warnings, rebound[1]]
    _record(ctx, rule, api, locator, original, warnings, assumed=not rule.typed)
    return keep_parentheses(updated, new)


def _left_alone(ctx: Context, api: str, locator, original, updated):
    """A use whose rule the user turned off: as it was, reported, not marked."""
    ctx.finding(locator, api, INFO, DISABLED, node=original)
    return updated


def _mindspore_spelling(rule: Rule, call: cst.Call) -> bool:
    """A method call with a keyword only MindSpore's spelling has (`x.chunk(2, axis=1)`)."""
    theirs = set(rule.rename.values()) - {a.lstrip("*") for a in rule.args}
    return bool(theirs) and any(arg.keyword is not None and arg.keyword.value in theirs
                                for arg in call.args)


def _apply(ctx: Context, rule: Rule, call: cst.Call, func: Optional[cst.BaseExpression],
           receiver: Optional[cst.BaseExpression] = None) -> Tuple[cst.BaseExpression, List[str]]:
    """The new expression for a call, and the warnings the rewrite raised."""
    if rule.simple and not rule.args and receiver is None:
        return with_fields(call, func=func), []
    if receiver is None and any(arg.star for arg in call.args):
        helper = reference_helper(ctx, rule)  # torchvision's signature: `F.crop(img, *box)`
        if helper is not None:
            return with_fields(call, func=helper), []
        if rule.spread and all(arg.keyword is None or (
                arg.keyword.value in rule.args and arg.keyword.value not in rule.drop
                and arg.keyword.value not in rule.warn) for arg in call.args):
            # `nn.Linear(*args, **kwargs)`: a class with torch's parameters takes them as
            # they are (what the `*`/`**` hold is known only at run time)
            refused = sorted({*rule.drop, *rule.warn})
            return with_fields(call, func=ctx.name(rule.spread)), [
                f"{_SPREAD}{rule.spread}: `*`/`**` arguments passed on as they are, to a "
                f"class that takes torch's parameters" + (
                    f" ({', '.join(refused)} would be refused)" if refused else "")]
    _given_twice(rule, call)
    bound = bind(rule, call, receiver)
    _once_each(rule, bound)
    for arg, reason in rule.unsupported_args.items():  # before any transform sees them
        if arg not in bound.values:
            continue
        if code(bound.values[arg]).strip() == rule.accept.get(arg):
            bound.pop(arg)  # given at its harmless value (torch's default): nothing to do
            continue
        raise Unsupported(f"argument {arg!r}: {reason}")
    try:
        if rule.template:
            _bracket_numbers(rule.template, bound)
            if not rule.transform:
                return render_template(rule, bound, ctx.name), bound.warnings
        if rule.transform:  # with a template, the transform renders it (render_template)
            try:
                replacement = TRANSFORMS[rule.transform](ctx, rule, bound, call)
            except (AttributeError, KeyError):  # it used an argument the call lacks
                if all(a.lstrip("*") in bound.values for a in rule.args):
                    raise
                raise Unsupported("needs arguments this call does not give") from None
            if replacement is not None:
                if bound.spread is not None and not _passes_spread(replacement, bound):
                    # a new expression would lose the `**`
                    raise Unsupported("`**` arguments cannot be matched to parameters")
                _writable(replacement, call)
                return replacement, bound.warnings
        missing = next((name for name, value in bound.values.items() if value is None), None)
        if missing is not None:  # a transform found a required argument missing
            raise Unsupported(f"needs the argument {missing!r}")
        return rewrite(rule, bound, func, call, ctx.name), bound.warnings
    except cst.ParserSyntaxError:  # never emit code that does not parse
        raise Unsupported("these arguments give code that does not parse; "
                          "convert by hand") from None


def _passes_spread(replacement: cst.BaseExpression, bound) -> bool:
    """A transform's call that passes the `**` dict on itself (`rewrite` to a helper)."""
    return isinstance(replacement, cst.Call) and any(
        arg.star == "**" and arg.value is bound.spread for arg in replacement.args)


def _writable(node: cst.CSTNode, call: cst.Call) -> None:
    """A transform that used an argument the call lacks (`torch.where()`) left a hole:
    a None where a node must be, which writing the code trips on. Most replacements
    are seen to be whole without writing their code; the others are written."""
    if _looks_whole(node, _whole_parts(call)):
        return
    try:
        code(node)
    except AttributeError:
        raise Unsupported("needs arguments this call does not give") from None


def _whole_parts(call: cst.Call) -> Set[int]:
    """ids of the parts of the call a replacement keeps as they are (its arguments, its
    receiver): converted already, never entered again."""
    parts = {id(call), id(call.func)}
    if type(call.func) is cst.Attribute:
        parts.add(id(call.func.value))
    for arg in call.args:
        parts.add(id(arg.value))
    return parts


_NODE, _NODES, _TEXT, _NONE, _OTHER = range(5)
_VALUE_KINDS: Dict[type, int] = {list: _NODES, tuple: _NODES, str: _TEXT, bool: _TEXT,
                                 type(None): _NONE}
# node type -> (field, whether it may be None) for each of its fields
_FIELDS: Dict[type, Tuple[Tuple[str, bool], ...]] = {}


def _looks_whole(node: cst.CSTNode, whole: Set[int]) -> bool:
    """Every field of every node holds what it may: a node, nodes, text, a sentinel, or
    None where its type allows it. Nodes whose ids are in `whole` are not entered."""
    todo = [node]
    while todo:
        item = todo.pop()
        if id(item) in whole:
            continue
        fields = _FIELDS.get(type(item))
        if fields is None:
            fields = _FIELDS[type(item)] = _optional_fields(type(item))
        for name, optional in fields:
            value = getattr(item, name)
            kind = _value_kind(value)
            if kind == _NODE:
                todo.append(value)
            elif kind == _NODES:
                for element in value:
                    if _value_kind(element) != _NODE:
                        return False
                    todo.append(element)
            elif kind == _OTHER or (kind == _NONE and not optional):
                return False
    return True


def _value_kind(value) -> int:
    kind = _VALUE_KINDS.get(type(value))
    if kind is None:  # isinstance on libcst's abstract classes is slow: once per type
        kind = _VALUE_KINDS[type(value)] = (
            _NODE if isinstance(value, cst.CSTNode)
            else _TEXT if isinstance(value, cst.MaybeSentinel) else _OTHER)
    return kind


def _optional_fields(kind: type) -> Tuple[Tuple[str, bool], ...]:
    try:
        hints = typing.get_type_hints(kind)
    except Exception:  # unreadable: no field may be None
        hints = {}
    return tuple((field.name, type(None) in typing.get_args(hints.get(field.name)))
                 for field in dataclasses.fields(kind))


def _given_twice(rule: Rule, call: cst.Call) -> None:
    """`x.softmax(d, dim=-1)`: Python refuses a parameter given by place and by name;
    binding would keep one of the two silently."""
    places = 0
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            places += 1
    filled = rule.args[:places]
    if any(a.startswith("*") for a in filled):
        return
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in filled:
            raise Unsupported(f"argument {arg.keyword.value!r} is given twice")


def _once_each(rule: Rule, bound) -> None:
    """Two spellings of one parameter (`src=` and its alias `value=`, which torch
    refuses together) would become one keyword given twice: code that does not compile."""
    seen = set()
    for name in bound.values:
        new = rule.rename.get(name, name)
        if new in seen:
            raise Unsupported(f"argument {new!r} would be given twice "
                              f"(two spellings of one parameter)")
        seen.add(new)


def _bracket_numbers(template: str, bound) -> None:
    """A number a template calls a method on is bracketed: `(3).reshape(-1)`, as
    `3.reshape` does not parse."""
    for name, value in bound.values.items():
        if (isinstance(value, (cst.Integer, cst.Float, cst.Imaginary)) and not value.lpar
                and re.search(r"\{%s(?:=[^{}]*)?\}\." % re.escape(name), template)):
            bound.values[name] = value.with_changes(lpar=[cst.LeftParen()],
                                                    rpar=[cst.RightParen()])


def _record(ctx: Context, rule: Rule, api: str, locator: Locator, original,
            warnings: List[str], assumed: bool = False) -> None:
    if rule.fields:  # `.values` / `.indices` on this call's result become [0] / [1]
        ctx.tuple_fields[id(original)] = rule.fields
    target = rule.target or (rule.template and "a composition of MindSpore ops") or rule.transform
    if rule.transform == "written_function":
        target = f"{rule.torch_name.rpartition('.')[2]}(...), written into the file"
    message = f"-> {target}"
    if rule.notes:
        message += f" ({rule.notes})"
    spread = bool(warnings) and warnings[0].startswith(_SPREAD)
    if spread:  # the call went to rule.spread: a warning
        message = "-> " + warnings[0][len(_SPREAD):]
        warnings = warnings[1:]
    if assumed:
        message += "; assumed the receiver is a Tensor"
    action = CONVERTED
    if warnings:
        action = WARNING
        message += "; " + "; ".join(warnings)
    if spread:
        action = WARNING
    ctx.finding(locator, api, action, message, node=original, target=rule.target,
                rule=rule.source, mark=bool(warnings) or spread)


def convert_reference(ctx: Context, original: cst.BaseExpression, updated: cst.BaseExpression,
                      locator: Optional[Locator]) -> cst.BaseExpression:
    """A torch name used without a call: `torch.float32`, `nn.Module` as a base class."""
    qualified = ctx.resolve(original)
    if not is_torch_api(qualified):
        return updated
    if not ctx.selection.enabled(qualified):
        return _left_alone(ctx, qualified, locator, original, updated)
    rule = ctx.rules.get(qualified)
    if rule is None:
        dtype_attribute = _dtype_attribute(ctx, qualified)  # `torch.float32.itemsize`
        if dtype_attribute is not None:
            ctx.release(original)
            ctx.finding(locator, qualified, CONVERTED, f"-> {code(dtype_attribute)}",
                        node=original)
            return dtype_attribute
        member = _written_class_member(ctx, qualified, locator, original, updated)
        if member is not None:
            return member
    if rule is None or rule.unsupported:
        ctx.finding(locator, qualified, UNSUPPORTED, rule.unsupported if rule else NO_RULE,
                    node=original, rule=rule.source if rule else None, mark=True)
        return updated
    if (rule.kind == "attribute" and rule.template and not rule.args
            and "{self}" not in rule.template and not qualified.startswith("torch.Tensor.")):
        # a value to read (a Tensor attribute's is read on a tensor: passes/tensor_attributes.py)
        ctx.release(original)
        _record(ctx, rule, qualified, locator, original, [])
        return render_template(rule, bind(rule, cst.Call(original)), ctx.name)
    if id(original) in ctx.class_bases and qualified in BASES:
        ctx.release(original)
        ctx.finding(locator, qualified, CONVERTED, "a class of this name with torch's "
                    "interface is written into the file, for this class to build on",
                    node=original, rule=rule.source)
        return request(ctx, BASES[qualified])
    if rule.transform in ("written_class", "written_function"):  # written into the file
        ctx.release(original)
        ctx.finding(locator, qualified, CONVERTED, "-> the class of this name written into "
                    "the file", node=original, rule=rule.source)
        return request(ctx, qualified.rpartition(".")[2])
    if not rule.target or rule.target.startswith(".") or not (rule.reference or rule.simple):
        if rule.value:
            made = _value_lambda(ctx, rule, qualified, locator, original)
            if made is not None:
                return made
        helper = reference_helper(ctx, rule)
        if helper is not None:
            ctx.release(original)
            _record(ctx, rule, qualified, locator, original, [])
            return helper
        ctx.finding(locator, qualified, UNSUPPORTED, AS_VALUE if rule.transform ==
                    "dataset_helper" else "used as a value: only calls of it convert "
                    "(arguments differ)", node=original, rule=rule.source, mark=True)
        return updated
    ctx.release(original)
    ctx.finding(locator, qualified, CONVERTED, f"-> {rule.target}", node=original,
                target=rule.target, rule=rule.source)
    return ctx.name(rule.target)


# what a MindSpore dtype answers as torch's dtype does
_DTYPE_ATTRIBUTES = frozenset({"itemsize"})


def _dtype_attribute(ctx: Context, qualified: str) -> Optional[cst.BaseExpression]:
    """`torch.float32.itemsize` -> `mindspore.float32.itemsize`: an attribute MindSpore's
    dtypes share, read on a dtype whose rule names a MindSpore dtype."""
    base, _, attribute = qualified.rpartition(".")
    rule = ctx.rules.get(base)
    if (attribute not in _DTYPE_ATTRIBUTES or rule is None or rule.kind != "attribute"
            or not (rule.target or "").startswith("mindspore.") or rule.target.count(".") != 1):
        return None
    return cst.Attribute(ctx.name(rule.target), cst.Name(attribute))


def _value_lambda(ctx: Context, rule: Rule, qualified: str, locator: Optional[Locator],
                  original: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """`map(torch.tensor, rows)` -> `map(lambda data: mindspore.tensor(data), rows)`: the
    rule's `value` lambda, its call converted as any call of the API is."""
    lam, _problem = value_lambda(rule.value, qualified)
    imports = set(ctx.needed_imports)
    ctx.parameters.append(parameter_names(lam.params))
    try:
        body, warnings = _apply(ctx, rule, lam.body,
                                ctx.name(rule.target) if rule.target else None)
    except Unsupported:
        ctx.needed_imports.intersection_update(imports)
        return None
    finally:
        ctx.parameters.pop()
    ctx.release(original)
    made = lam.with_changes(body=body, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    ctx.value_lambdas.add(id(made))
    _record(ctx, rule, qualified, locator, original, warnings)
    return made


def _written_class_member(ctx: Context, qualified: str, locator: Optional[Locator],
                          original, updated) -> Optional[cst.BaseExpression]:
    """`SDPBackend.MATH.value`, where a class of torch's name and members is written into
    the file (a `written_class` rule): the attributes stay, read from that class."""
    parts = qualified.split(".")
    for size in range(len(parts) - 1, 1, -1):
        rule = ctx.rules.get(".".join(parts[:size]))
        if rule is None or rule.transform != "written_class":
            continue
        attrs, node = [], updated
        for _ in range(len(parts) - size):
            if not isinstance(node, cst.Attribute):
                return None
            attrs.append(node.attr)
            node = node.value
        helper = HELPERS.get(parts[size - 1], "")
        if not re.search(r"\b(def )?%s\b\s*[=(]" % re.escape(parts[size]), helper):
            return None  # the written class does not have it: marked as before
        ctx.release(original)
        ctx.finding(locator, rule.torch_name, CONVERTED, "-> the class of this name written "
                    "into the file", node=original, rule=rule.source)
        new: cst.BaseExpression = request(ctx, parts[size - 1])
        for attr in reversed(attrs):
            new = cst.Attribute(value=new, attr=attr)
        return new
    return None


def convert_tuple_field(ctx: Context, original: cst.Attribute,
                        updated: cst.Attribute) -> cst.BaseExpression:
    """`x.max(dim=1).values` -> `x.max(axis=1)[0]`: MindSpore returns plain tuples."""
    fields = ctx.tuple_fields.get(id(original.value))
    if not fields or original.attr.value not in fields:
        return updated
    index = cst.Integer(str(fields.index(original.attr.value)))
    return cst.Subscript(updated.value, [cst.SubscriptElement(cst.Index(index))])
