"""Export for inference: torch.jit and torch.onnx -> mindspore.export and nn.GraphCell.

A MindSpore Cell needs no tracing or scripting to run (it is compiled when it is
called under mindspore.jit); what torch's traced module carries that MindSpore
still needs is its example inputs, which mindspore.export takes:

    traced = torch.jit.trace(model, (x, mask))      traced = model
    traced.save("model.pt")                   ->    mindspore.export(traced, x, mask, file_name="model.pt",
                                                                     file_format="MINDIR")
    net = torch.jit.load("model.pt")                net = nn.GraphCell(mindspore.load("model.pt.mindir"))
    torch.onnx.export(model, x, "m.onnx")           mindspore.export(model, x, file_name="m.onnx",
                                                                     file_format="ONNX")

mindspore.export appends `.mindir` to a file name that lacks it and mindspore.load
reads only such names, so a loaded path gets the same suffix. A scripted module
(`torch.jit.script`) has no example inputs: saving it stays marked.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional

import libcst as cst

from ..core.context import Context
from ..core.report import CONVERTED
from ..core.strings import string_value
from ..core.traversal import traverse
from .statement_pass import StatementPass
from .text_search import contains_any

_APPLIES = re.compile(r"jit\.|onnx\.export|compile")
# Decorators that only change how torch compiles a function: without them it computes the same
_COMPILE_DECORATORS = ("torch.jit.script", "torch.jit.script_method", "torch.jit.ignore",
                       "torch.jit.unused", "torch.jit.export", "torch.compile")
_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
# torch.onnx.export options with no MindSpore counterpart: the file is written without them
_ONNX_OPTIONS = ("export_params", "verbose", "training", "input_names", "output_names",
                 "operator_export_type", "opset_version", "do_constant_folding",
                 "dynamic_axes", "keep_initializers_as_inputs", "custom_opsets",
                 "export_modules_as_functions", "dynamo", "external_data", "kwargs")


def applies(source: str) -> bool:
    return contains_any(source, ("jit.", "onnx.export", "compile"))  # _APPLIES


def convert_export(ctx: Context, module: cst.Module) -> cst.Module:
    export = _Export(ctx)
    converted = traverse(module, export)
    export.place_findings()
    return converted


def _argument(call: cst.Call, index: int, keyword: str) -> Optional[cst.BaseExpression]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[index].value if index < len(positional) else None


def _inputs(value: cst.BaseExpression) -> List[cst.BaseExpression]:
    """Example inputs as separate arguments: a tuple literal's elements, else the value."""
    if isinstance(value, (cst.Tuple, cst.List)):
        return [e.value for e in value.elements if isinstance(e, cst.Element)]
    return [value]


def _mindir_path(path: cst.BaseExpression) -> cst.BaseExpression:
    """The name mindspore.export gave the file: `.mindir` appended unless there."""
    if isinstance(path, cst.SimpleString):
        text = string_value(path)
        if isinstance(text, str) and not text.endswith(".mindir"):
            quote = path.quote
            return cst.SimpleString(f"{path.prefix}{quote}{path.raw_value}.mindir{quote}")
        return path
    return cst.BinaryOperation(path, cst.Add(), cst.SimpleString('".mindir"'))


class _Export(StatementPass):
    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.examples: Dict[str, Optional[List[cst.BaseExpression]]] = {}  # traced name -> inputs
        self.script_values: List[cst.Call] = []  # `torch.jit.script(...)` calls assigned to a name

    def visit_Assign(self, node):
        value = node.value
        if not isinstance(value, cst.Call) or len(node.targets) != 1:
            return
        target = node.targets[0].target
        if not isinstance(target, cst.Name):
            return
        called = self.ctx.resolve(value.func)
        if called == "torch.jit.trace":
            inputs = _argument(value, 1, "example_inputs")
            self.examples[target.value] = None if inputs is None else _inputs(inputs)
        elif called == "torch.jit.script":
            self.examples[target.value] = None
            self.script_values.append(value)

    def leave_FunctionDef(self, original, updated):
        """`@torch.jit.script`, `@torch.compile(...)`: the function runs as it is."""
        kept = [d for d in updated.decorators if self._compile_decorator(d) is None]
        if len(kept) == len(updated.decorators):
            return updated
        for decorator in original.decorators:
            name = self._compile_decorator(decorator)
            if name is not None:
                self.add(decorator, name, CONVERTED, "decorator removed: the function runs "
                         "eagerly (mindspore.jit compiles a Cell's construct)")
        return updated.with_changes(decorators=kept)

    def _compile_decorator(self, decorator: cst.Decorator) -> Optional[str]:
        node = decorator.decorator
        called = self.ctx.resolve(node.func if isinstance(node, cst.Call) else node)
        return called if called in _COMPILE_DECORATORS else None

    def leave_Call(self, original, updated):
        called = self.ctx.resolve(original.func)
        if called == "torch.jit.trace" or (called == "torch.jit.script"
                                           and self._assigned(original)):
            return self._compiled(original, updated, called)
        if called == "torch.compile":
            return self._compiled(original, updated, called)
        if called == "torch.jit.save":
            return self._save(original, updated, _argument(updated, 0, "m"),
                              _argument(updated, 1, "f"))
        if called == "torch.jit.load":
            return self._load(original, updated)
        if called == "torch.onnx.export":
            return self._onnx(original, updated)
        func = original.func
        if (isinstance(func, cst.Attribute) and func.attr.value == "save"
                and isinstance(func.value, cst.Name) and func.value.value in self.examples):
            return self._save(original, updated, updated.func.value,
                              _argument(updated, 0, "f"))
        return updated

    def _assigned(self, call: cst.Call) -> bool:
        """`net = torch.jit.script(model)`: a module whose save needs example inputs."""
        return any(call is value for value in self.script_values)

    def _compiled(self, original, updated, called):
        keyword = {"torch.jit.trace": "func", "torch.jit.script": "obj"}.get(called, "model")
        model = _argument(updated, 0, keyword)
        if model is None:
            return updated
        message = {
            "torch.jit.trace": "a Cell runs as it is; its example inputs go to mindspore.export",
            "torch.jit.script": "a Cell runs as it is; mindspore.export needs example inputs",
            "torch.compile": "kept eager: MindSpore compiles a Cell's construct with "
                             "mindspore.jit (or set_context(mode=GRAPH_MODE))",
        }[called]
        self.add(original, called, CONVERTED, message)
        return model

    def _save(self, original, updated, model, path):
        name = model.value if isinstance(model, cst.Name) else None
        inputs = self.examples.get(name) if name else None
        api = "torch.jit.save"
        if model is None or path is None or not inputs:
            return updated  # marked by the tables: no example inputs known
        self.add(original, api, CONVERTED, "written as MINDIR with the traced example inputs "
                 "(mindspore.export appends .mindir to the file name)")
        return self._export_call(model, inputs, path, "MINDIR")

    def _export_call(self, model, inputs, path, file_format):
        args = [cst.Arg(model, comma=_COMMA)] + [cst.Arg(i, comma=_COMMA) for i in inputs]
        args += [cst.Arg(path, keyword=cst.Name("file_name"), comma=_COMMA,
                         equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))),
                 cst.Arg(cst.SimpleString(f'"{file_format}"'), keyword=cst.Name("file_format"),
                         equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))]
        return cst.Call(self.ctx.name("mindspore.export"), args)

    def _load(self, original, updated):
        path = _argument(updated, 0, "f")
        if path is None or any(a.star for a in updated.args):
            return updated
        self.add(original, "torch.jit.load", CONVERTED,
                 "a MINDIR file runs as nn.GraphCell (mindspore.load reads only .mindir names)")
        graph = cst.Call(self.ctx.name("mindspore.load"), [cst.Arg(_mindir_path(path))])
        # spelled in full: a pre-pass's `nn.` would be read as the user's torch.nn later
        self.ctx.require("import mindspore")
        graph_cell = cst.Attribute(cst.Attribute(cst.Name("mindspore"), cst.Name("nn")),
                                   cst.Name("GraphCell"))
        return cst.Call(graph_cell, [cst.Arg(graph)])

    def _onnx(self, original, updated):
        model = _argument(updated, 0, "model")
        args = _argument(updated, 1, "args")
        path = _argument(updated, 2, "f")
        if model is None or args is None or path is None or any(a.star for a in updated.args):
            return updated
        dropped = [a.keyword.value for a in updated.args
                   if a.keyword is not None and a.keyword.value in _ONNX_OPTIONS]
        unknown = [a.keyword.value for a in updated.args if a.keyword is not None
                   and a.keyword.value not in _ONNX_OPTIONS + ("model", "args", "f")]
        if unknown or len([a for a in updated.args if a.keyword is None]) > 3:
            return updated
        message = "written by mindspore.export"
        if not isinstance(args, (cst.Tuple, cst.List)):
            message += f"; assumed `{self._text(args)}` is one tensor (for a tuple, pass its items)"
        if dropped:
            message += f"; without {', '.join(dropped)} (no MindSpore counterpart)"
        self.add(original, "torch.onnx.export", CONVERTED, message)
        return self._export_call(model, _inputs(args), path, "ONNX")

    @staticmethod
    def _text(node: cst.BaseExpression) -> str:
        return cst.Module([]).code_for_node(node)
