"""Extract single-API torch programs from PaConvert's per-API unit tests.

PaConvert (https://github.com/PaddlePaddle/PaConvert) tests every torch API it
converts with small programs:

    def test_case_3():
        pytorch_code = textwrap.dedent('''
            import torch
            result = torch.abs(torch.tensor([-1, 2]), out=out)
        ''')
        obj.run(pytorch_code, ["result"], check_value=False)

This script reads those test files with `ast` (it never imports or runs them),
pulls out every program with the names of the results it compares and the flags
of the `obj.run(...)` call and the pytest marks, and writes one JSON object per
case to a JSONL file:

    {"id": "test_abs.py::test_case_3", "api": "torch.abs", "file": "test_abs.py",
     "test": "test_case_3", "code": "...", "results": ["result"],
     "flags": {"check_value": false}, "disabled": false, "skip": null}

The first line is a header: {"_meta": {"source": ..., "commit": ..., "counts": ...}}.

Usage:
    python benchmarks/apibench/extract.py --src /path/to/PaConvert [-o /tmp/apibench/cases.jsonl]
    python benchmarks/apibench/extract.py --mirror /path/to/PaConvert.git

With --mirror (a bare git repository) the tests are read with `git show` at
--rev (default HEAD); with --src from a checked-out folder (its commit is read
with `git rev-parse` when it is a work tree, or given with --commit).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import textwrap
from typing import Dict, Iterator, List, Optional, Tuple

# pytest skip reasons that say torch itself cannot run the program here (as
# opposed to Paddle or PaConvert lacking something): those cases are left out.
TORCH_SKIP = re.compile(
    r"only run on torch with CUDA|in PyTorch has a wrong implementation|"
    r"multiprocessing\.spawn|torch\.cuda|requires CUDA|only implemented on CUDA",
    re.I)

RUN_FLAGS = ("check_value", "check_shape", "check_dtype", "check_stop_gradient",
             "rtol", "atol", "unsupport", "reason")


class Unresolved(Exception):
    """A code argument that is not a plain string literal (f-string, loop variable)."""


def _git(mirror: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", mirror, *args], check=True,
                          capture_output=True, text=True).stdout


def iter_test_files(src: Optional[str], mirror: Optional[str], rev: str
                    ) -> Iterator[Tuple[str, str]]:
    """(file name, text) of every tests/test_*.py file."""
    if mirror:
        names = _git(mirror, "ls-tree", "--name-only", f"{rev}:tests").split("\n")
        for name in sorted(n for n in names if n.startswith("test_") and n.endswith(".py")):
            yield name, _git(mirror, "show", f"{rev}:tests/{name}")
    else:
        tests = os.path.join(src, "tests")
        for name in sorted(os.listdir(tests)):
            if name.startswith("test_") and name.endswith(".py"):
                with open(os.path.join(tests, name), encoding="utf-8") as f:
                    yield name, f.read()


def api_from_filename(name: str) -> str:
    """test_Tensor_abs.py -> torch.Tensor.abs; test_nn_functional_relu.py -> torch.nn.functional.relu
    (a guess: the APIBase("...") argument is preferred when there is one)."""
    stem = name[len("test_"):-len(".py")]
    return "torch." + stem.replace("_", ".") if "__" not in stem else "torch." + stem


class _Evaluator:
    """Static value of a string expression: literals, textwrap.dedent(...), +, names."""

    def __init__(self, module_env: Dict[str, ast.AST]):
        self.module_env = module_env
        self.local_env: Dict[str, ast.AST] = {}

    def value(self, node: ast.AST, depth: int = 0) -> str:
        if depth > 20:
            raise Unresolved("too deep")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Call):
            f = node.func
            fname = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
            if fname == "dedent" and len(node.args) == 1 and not node.keywords:
                return textwrap.dedent(self.value(node.args[0], depth + 1))
            if fname == "strip" and isinstance(f, ast.Attribute) and not node.args:
                return self.value(f.value, depth + 1).strip()
            raise Unresolved(f"call {ast.unparse(node)[:60]}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.value(node.left, depth + 1) + self.value(node.right, depth + 1)
        if isinstance(node, ast.Name):
            target = self.local_env.get(node.id, self.module_env.get(node.id))
            if target is None:
                raise Unresolved(f"name {node.id}")
            return self.value(target, depth + 1)
        raise Unresolved(type(node).__name__)


def _literal(node: ast.AST):
    try:
        return ast.literal_eval(node)
    except Exception:
        return ast.unparse(node)


def _decorator_skip(fn: ast.FunctionDef) -> Optional[dict]:
    """The pytest skip/skipif mark of a test function, as {"kind", "reason", "condition"}."""
    for dec in fn.decorator_list:
        call = dec if isinstance(dec, ast.Call) else None
        target = call.func if call else dec
        text = ast.unparse(target)
        if not (text.endswith("mark.skip") or text.endswith("mark.skipif")):
            continue
        info = {"kind": text.rsplit(".", 1)[1], "reason": None, "condition": None}
        if call:
            for kw in call.keywords:
                if kw.arg in ("reason", "condition"):
                    info[kw.arg] = ast.unparse(kw.value) if kw.arg == "condition" else _literal(kw.value)
            if call.args:
                info["condition" if info["kind"] == "skipif" else "reason"] = ast.unparse(call.args[0])
        return info
    return None


def _statements(body: List[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements in source order, entering if/for/with/try blocks."""
    for st in body:
        yield st
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(st, field, None)
            if isinstance(inner, list) and not isinstance(st, (ast.FunctionDef, ast.ClassDef)):
                yield from _statements(inner)
        for h in getattr(st, "handlers", []) or []:
            yield from _statements(h.body)


def extract_file(name: str, text: str, stats: Dict[str, int]) -> List[dict]:
    tree = ast.parse(text, filename=name)
    module_env: Dict[str, ast.AST] = {}
    api = None
    for st in tree.body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
            module_env[st.targets[0].id] = st.value
            v = st.value
            if (st.targets[0].id == "obj" and isinstance(v, ast.Call) and v.args
                    and isinstance(v.args[0], ast.Constant) and isinstance(v.args[0].value, str)):
                api = v.args[0].value
    api = api or api_from_filename(name)

    cases = []
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        funcs += [n for n in cls.body if isinstance(n, ast.FunctionDef)]
    for fn in funcs:
        if not (fn.name.startswith("test") or fn.name.startswith("_test")):
            continue
        skip = _decorator_skip(fn)
        ev = _Evaluator(module_env)
        runs = []
        for st in _statements(fn.body):
            if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
                ev.local_env[st.targets[0].id] = st.value
                continue
            call = st.value if isinstance(st, ast.Expr) else None
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "run" and call.args):
                continue
            stats["run_calls"] += 1
            try:
                code = ev.value(call.args[0])
            except Unresolved as e:
                stats["unresolved_code"] += 1
                stats.setdefault("unresolved_examples", [])
                if len(stats["unresolved_examples"]) < 10:
                    stats["unresolved_examples"].append(f"{name}::{fn.name}: {e}")
                continue
            names_node = call.args[1] if len(call.args) > 1 else None
            flags = {}
            for kw in call.keywords:
                if kw.arg == "compared_tensor_names":
                    names_node = kw.value
                elif kw.arg == "expect_paddle_code":
                    flags["expect_paddle_code"] = True
                elif kw.arg in RUN_FLAGS:
                    # `atol=ATOL`: a name the test's function or module assigns
                    value = kw.value
                    if isinstance(value, ast.Name):
                        value = ev.local_env.get(value.id, module_env.get(value.id, value))
                    flags[kw.arg] = _literal(value)
            for i, extra in enumerate(call.args[2:]):     # positional flags, in APIBase.run order
                key = ("expect_paddle_code",) + RUN_FLAGS
                if i < len(key):
                    flags[key[i]] = True if key[i] == "expect_paddle_code" else _literal(extra)
            results = _literal(names_node) if names_node is not None else []
            if isinstance(results, str) and names_node is not None and not isinstance(names_node, ast.Constant):
                results = None                      # a name we could not resolve
            if results is None or not isinstance(results, (list, tuple)):
                try:
                    results = _literal(module_env.get(getattr(names_node, "id", ""), names_node))
                except Exception:
                    results = None
            if not isinstance(results, (list, tuple)) or not all(isinstance(r, str) for r in results):
                stats["unresolved_results"] += 1
                continue
            runs.append((code, list(results), flags))
        for k, (code, results, flags) in enumerate(runs):
            case_id = f"{name}::{fn.name}" + (f"#{k + 1}" if len(runs) > 1 else "")
            reason = (skip or {}).get("reason") or ""
            excluded = None
            if skip and TORCH_SKIP.search(str(reason) + " " + str(skip.get("condition") or "")):
                if "paddle" not in str(skip.get("condition") or "").lower():
                    excluded = f"torch cannot run it here: {reason}"
            cases.append({
                "id": case_id, "api": api, "file": name, "test": fn.name,
                "code": code.strip("\n") + "\n", "results": results, "flags": flags,
                "disabled": fn.name.startswith("_"), "skip": skip, "excluded": excluded,
            })
    return cases


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--src", help="a PaConvert checkout (folder with tests/)")
    src.add_argument("--mirror", help="a bare git repository of PaConvert")
    ap.add_argument("--rev", default="HEAD", help="revision to read with --mirror")
    ap.add_argument("--commit", help="PaConvert commit to record (default: read from git)")
    ap.add_argument("-o", "--output", default="/tmp/apibench/cases.jsonl")
    args = ap.parse_args(argv)

    commit = args.commit
    if commit is None:
        try:
            if args.mirror:
                commit = _git(args.mirror, "rev-parse", args.rev).strip()
            else:
                commit = subprocess.run(["git", "-C", args.src, "rev-parse", "HEAD"], check=True,
                                        capture_output=True, text=True).stdout.strip()
        except Exception:
            commit = "unknown"
    date = None
    if args.mirror:
        date = _git(args.mirror, "log", "-1", "--format=%cI", args.rev).strip()

    stats: Dict[str, int] = {"files": 0, "run_calls": 0, "unresolved_code": 0,
                             "unresolved_results": 0, "parse_errors": 0}
    cases: List[dict] = []
    for name, text in iter_test_files(args.src, args.mirror, args.rev):
        stats["files"] += 1
        try:
            cases.extend(extract_file(name, text, stats))
        except SyntaxError:
            stats["parse_errors"] += 1
    stats["cases"] = len(cases)
    stats["excluded"] = sum(bool(c["excluded"]) for c in cases)
    stats["apis"] = len({c["api"] for c in cases})
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        meta = {"source": "https://github.com/PaddlePaddle/PaConvert", "commit": commit,
                "commit_date": date, "counts": stats}
        f.write(json.dumps({"_meta": meta}) + "\n")
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    print(json.dumps(stats, indent=1), file=sys.stderr)
    print(f"{len(cases)} cases ({stats['excluded']} excluded) from {stats['files']} files "
          f"-> {args.output} (PaConvert {commit[:12]})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
