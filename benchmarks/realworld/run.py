"""Measure ms-migrate on real public PyTorch projects, and train some of them.

    python benchmarks/realworld/run.py [--repos a,b] [--train a,b] [--no-train]
                                       [--no-convert] [--scratch /tmp/realworld]
                                       [--md docs/realworld.md] [--jobs 1]

It fetches nothing. The repositories named in manifest.toml must be on this
machine as git mirrors, as the `fetch` tool brings them: /work/.mirror/owner+name/
repo (or repo/.git), or under $MS_MIGRATE_MIRROR_DIR. See README.md.

For each repository it extracts the pinned commit's files matching the
manifest's globs into <scratch>/src/<name>, converts the folder with
`ms-migrate convert <folder> -o <scratch>/out/<name>`, and measures, from the
AST of the files (never from ms-migrate's own report):

- torch references before and after: the uses of names bound by imports of
  torch, torchvision, torchaudio and torchtext, and of other packages' torch
  modules (`einops.layers.torch`: its layers are torch Modules) (`import torch.nn
  as nn` binds `nn`; `nn.Conv2d` is one reference, named `torch.nn.Conv2d`);
- outputs that do not parse, and outputs still importing torch;
- MindSpore names that do not exist: every attribute chain on a name bound by a
  mindspore import (`ms.ops.foo`, `nn.Dense`, `from mindspore.x import y`) is
  resolved against the installed mindspore package; names `nn`, `ops`, `ms`,
  `mindspore`, `mint` used but never bound in a file are reported too;
- the torch APIs left unconverted (qualified names, counts).

Then, for the manifest's [[train]] entries, it prepares the torch project
(files, drivers from drivers/, text edits), converts that project with
ms-migrate, runs the torch original and the converted program in subprocesses
with a timeout, parses the losses they print and compares them.

Writes docs/realworld.md (the tables) and <scratch>/result.json (everything).
"""
from __future__ import annotations

import argparse
import ast
import datetime as _dt
import fnmatch
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DRIVERS = HERE / "drivers"
TORCH_ROOTS = ("torch", "torchvision", "torchaudio", "torchtext")
# Modules of other packages that are torch code (their classes are torch Modules)
TORCH_MODULES_ELSEWHERE = ("einops.layers.torch",)
MS_LOOSE = ("mindspore", "ms", "nn", "ops", "mint")


# --------------------------------------------------------------------------- mirrors

def mirror_roots() -> List[Path]:
    roots = []
    if os.environ.get("MS_MIGRATE_MIRROR_DIR"):
        roots.append(Path(os.environ["MS_MIGRATE_MIRROR_DIR"]))
    roots.append(Path("/work/.mirror"))
    return roots


def find_mirror(source: str) -> Optional[Path]:
    """The git directory of a fetched mirror of `github:owner/name`, or None."""
    name = source.split(":", 1)[-1].split("@")[0].replace("/", "+")
    for root in mirror_roots():
        for cand in (root / name / "repo" / ".git", root / name / "repo", root / name):
            if (cand / "HEAD").is_file() and (cand / "objects").is_dir():
                return cand
    return None


def git(gitdir: Path, *args: str, binary: bool = False):
    out = subprocess.run(["git", f"--git-dir={gitdir}", *args], capture_output=True, check=True)
    return out.stdout if binary else out.stdout.decode("utf-8", "replace")


def match_globs(path: str, globs: List[str]) -> bool:
    return any(fnmatch.fnmatch(path, g) for g in globs)


def extract(gitdir: Path, commit: str, globs: List[str], exclude: List[str], dest: Path,
            strip: str = "") -> List[str]:
    """Write the commit's files matching globs (and not exclude) under dest."""
    names = [line.split("\t", 1)[1] for line in git(gitdir, "ls-tree", "-r", commit).splitlines()
             if line.split()[1] == "blob"]  # submodules are commits: left out
    chosen = [n for n in names if match_globs(n, globs) and not match_globs(n, exclude)]
    for n in chosen:
        rel = n[len(strip):].lstrip("/") if strip and n.startswith(strip) else n
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.write_bytes(git(gitdir, "show", f"{commit}:{n}", binary=True))
        except subprocess.CalledProcessError:  # snapshots lack files of 4 MiB and more
            print(f"  not in the mirror, left out: {n}", file=sys.stderr)
    return [n for n in chosen if (dest / (n[len(strip):].lstrip("/") if strip and n.startswith(strip) else n)).exists()]


# --------------------------------------------------------------------------- AST measures

def _parents(tree: ast.AST) -> Dict[int, ast.AST]:
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    return parents


def _bindings(tree: ast.AST, roots: Tuple[str, ...],
              modules: Tuple[str, ...] = ()) -> Tuple[Dict[str, str], List[Tuple[str, int]]]:
    """Local name -> qualified module path, for imports whose top package is in roots
    (or whose module is one of `modules`); and the imports themselves (qualified, line)."""
    def counted(name: str) -> bool:
        return name.split(".")[0] in roots or any(
            name == m or name.startswith(m + ".") for m in modules)

    binds: Dict[str, str] = {}
    imports: List[Tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if counted(a.name):
                    imports.append((a.name, node.lineno))
                    if a.asname:
                        binds[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        binds[top] = top
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and counted(node.module):
                for a in node.names:
                    imports.append((f"{node.module}.{a.name}", node.lineno))
                    if a.name != "*":
                        binds[a.asname or a.name] = f"{node.module}.{a.name}"
    return binds, imports


def _function_locals(fn: ast.AST) -> set:
    """Names a function (or lambda) binds itself: its arguments and what it assigns,
    not counting nested functions; `global`/`nonlocal` names are not local."""
    names, outer = set(), set()
    a = fn.args  # type: ignore[attr-defined]
    for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
        if arg is not None:
            names.add(arg.arg)
    body = fn.body if isinstance(fn.body, list) else [fn.body]  # type: ignore[attr-defined]
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for al in node.names:
                names.add(al.asname or al.name.split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            outer.update(node.names)
        stack.extend(ast.iter_child_nodes(node))
    return names - outer


def _shadowed(tree: ast.AST, parents: Dict[int, ast.AST]) -> Dict[int, set]:
    """For each Name node id: the names local to its enclosing functions."""
    cache: Dict[int, set] = {}
    out: Dict[int, set] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Name):
            continue
        local: set = set()
        cur = parents.get(id(node))
        while cur is not None:
            if isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                if id(cur) not in cache:
                    cache[id(cur)] = _function_locals(cur)
                local |= cache[id(cur)]
            cur = parents.get(id(cur))
        out[id(node)] = local
    return out


def _uses(tree: ast.AST, binds: Dict[str, str]) -> List[Tuple[str, int]]:
    """(qualified name, line) for every load of a bound name, with its attribute chain;
    a name that an enclosing function binds itself (argument, assignment) is not the import."""
    parents = _parents(tree)
    shadow = _shadowed(tree, parents)
    out = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in binds
                and node.id not in shadow.get(id(node), ())):
            parts = [binds[node.id]]
            cur: ast.AST = node
            while True:
                par = parents.get(id(cur))
                if isinstance(par, ast.Attribute) and par.value is cur:
                    parts.append(par.attr)
                    cur = par
                else:
                    break
            out.append((".".join(parts), node.lineno))
    return out


def _unbound_local_imports(tree: ast.AST, binds: Dict[str, str]) -> List[Tuple[str, int]]:
    """`optim = optim.Adam(...)` inside a function, where `optim` is a module-level
    import: the assignment makes the name local, so its right side raises
    UnboundLocalError."""
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        local = _function_locals(fn)
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign):
                targets = {t.id for t in node.targets if isinstance(t, ast.Name)}
                for n in ast.walk(node.value):
                    if (isinstance(n, ast.Name) and n.id in targets and n.id in binds
                            and n.id in local):
                        found.append((n.id, node.lineno))
    return found


def _bound_names(tree: ast.AST) -> set:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                names.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


_RESOLVED: Dict[str, bool] = {}


def ms_exists(qual: str) -> bool:
    """Does the dotted name exist in the installed mindspore (module or attribute)?"""
    if qual in _RESOLVED:
        return _RESOLVED[qual]
    parts = qual.split(".")
    ok = False
    obj = None
    # longest importable module prefix, then attributes
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except Exception:
            continue
        ok = True
        for attr in parts[i:]:
            if hasattr(obj, attr):
                obj = getattr(obj, attr)
            else:
                try:
                    obj = importlib.import_module(f"{obj.__name__}.{attr}")  # type: ignore[union-attr]
                except Exception:
                    ok = False
                    break
        break
    _RESOLVED[qual] = ok
    return ok


def measure_source(code: str) -> dict:
    """Torch references, torch imports and (for MindSpore code) missing names."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError) as e:
        return {"parses": False, "error": f"{type(e).__name__}: {e}"}
    tbinds, timports = _bindings(tree, TORCH_ROOTS, TORCH_MODULES_ELSEWHERE)
    tuses = _uses(tree, tbinds)
    mbinds, mimports = _bindings(tree, ("mindspore",))
    missing = []
    for qual, line in mimports:
        if not qual.endswith(".*") and not ms_exists(qual):
            missing.append((qual, line))
    for qual, line in _uses(tree, mbinds):
        if not ms_exists(qual):
            missing.append((qual, line))
    bound = _bound_names(tree)
    star = any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)
               for n in ast.walk(tree))  # a star import may bind anything
    unbound = []
    for node in ast.walk(tree):
        if (not star and isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
                and node.id in MS_LOOSE and node.id not in bound):
            unbound.append((node.id, node.lineno))
    for name, line in _unbound_local_imports(tree, mbinds):
        unbound.append((f"{name} (assigned in the function that reads it as the import: UnboundLocalError)", line))
    return {"parses": True, "torch_refs": tuses, "torch_imports": timports,
            "ms_missing": missing, "ms_unbound": unbound}


# --------------------------------------------------------------------------- conversion

def run_convert(src: Path, out: Path, report: Path, jobs: int) -> dict:
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "ms_migrate", "convert", str(src), "-o", str(out),
           "--report", str(report), "-q", "-j", str(jobs)]
    t0 = time.time()
    env = _env()
    env["PYTHONPATH"] = str(ROOT / "src")  # this checkout's ms-migrate, whatever is installed
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return {"rc": p.returncode, "seconds": round(time.time() - t0, 2),
            "stderr_tail": p.stderr.strip().splitlines()[-5:]}


def _env() -> dict:
    env = dict(os.environ)
    env.setdefault("GLOG_v", "3")
    env["CUDA_VISIBLE_DEVICES"] = ""
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTHONPATH", None)
    return env


def measure_repo(entry: dict, scratch: Path, jobs: int, do_convert: bool) -> dict:
    name = entry["name"]
    res: dict = {"name": name, "source": entry["source"], "commit": entry["commit"],
                 "kind": entry.get("kind", "")}
    gitdir = find_mirror(entry["source"])
    if gitdir is None:
        res["error"] = f"no mirror: run the fetch tool on {entry['source']}"
        return res
    try:
        git(gitdir, "cat-file", "-e", f"{entry['commit']}^{{commit}}")
    except subprocess.CalledProcessError:
        res["error"] = f"commit {entry['commit']} is not in the mirror {gitdir}"
        return res
    src = scratch / "src" / name
    out = scratch / "out" / name
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    chosen = extract(gitdir, entry["commit"], entry["files"], entry.get("exclude", []), src)
    if do_convert or not out.exists():
        res["convert"] = run_convert(src, out, scratch / "out" / f"{name}.report.json", jobs)
    files = []
    for rel in sorted(p for p in chosen if p.endswith(".py")):
        before = measure_source((src / rel).read_text("utf-8", "replace"))
        outp = out / rel
        after = (measure_source(outp.read_text("utf-8", "replace")) if outp.exists()
                 else {"parses": False, "error": "no output file"})
        f = {"file": rel, "before_parses": before["parses"]}
        if not before["parses"]:
            f["skipped"] = "the original does not parse: " + before["error"]
            files.append(f)
            continue
        f["torch_before"] = len(before["torch_refs"])
        f["imports_torch_before"] = bool(before["torch_imports"])
        f["parses"] = after["parses"]
        if after["parses"]:
            left = after["torch_refs"]
            f["torch_after"] = len(left)
            f["left"] = dict(Counter(q for q, _ in left).most_common())
            f["left_lines"] = [[q, ln] for q, ln in left]
            f["torch_imports_after"] = sorted({q for q, _ in after["torch_imports"]})
            f["ms_missing"] = [[q, ln] for q, ln in after["ms_missing"]]
            f["ms_unbound"] = [[q, ln] for q, ln in after["ms_unbound"]]
        else:
            f["parse_error"] = after["error"]
            f["torch_after"] = f["torch_before"]  # counted as not converted
            f["left"] = {}
        files.append(f)
    measured = [f for f in files if "skipped" not in f]
    torch_files = [f for f in measured if f["imports_torch_before"]]
    res.update({
        "files": len(measured), "torch_files": len(torch_files),
        "skipped": [[f["file"], f["skipped"]] for f in files if "skipped" in f],
        "torch_before": sum(f["torch_before"] for f in measured),
        "torch_after": sum(f["torch_after"] for f in measured),
        "parse_failures": [[f["file"], f["parse_error"]] for f in measured if not f["parses"]],
        "still_importing": [f["file"] for f in measured if f.get("torch_imports_after")],
        "ms_missing": [[f["file"], q, ln] for f in measured for q, ln in f.get("ms_missing", [])],
        "ms_unbound": [[f["file"], q, ln] for f in measured for q, ln in f.get("ms_unbound", [])],
        "per_file": files,
    })
    return res


# --------------------------------------------------------------------------- training

LAST_ERROR = re.compile(r"^\s*([A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)|RuntimeError|TypeError)\b.*")


def last_error_line(text: str) -> str:
    lines = [l for l in text.splitlines() if l.strip()]
    for l in reversed(lines):
        if LAST_ERROR.match(l):
            return l.strip()[:400]
    return lines[-1].strip()[:400] if lines else ""


def apply_edits(root: Path, edits: List[dict]) -> List[str]:
    problems = []
    for e in edits:
        path = root / e["file"]
        text = path.read_text("utf-8")
        if "re" in e:
            new, n = re.subn(e["re"], e["sub"], text, flags=re.S | re.M)
        else:
            n = text.count(e["old"])
            new = text.replace(e["old"], e["new"])
        if n == 0:
            problems.append(f"edit did not apply in {e['file']}: {e.get('re') or e.get('old')!r}")
        path.write_text(new, "utf-8")
    return problems


def run_program(cmd: List[str], cwd: Path, timeout: int, regex: str) -> dict:
    argv = [sys.executable if a == "python" else a for a in cmd]
    t0 = time.time()
    try:
        p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                           env=_env(), stdin=subprocess.DEVNULL)
        rc, out, err, timed_out = p.returncode, p.stdout, p.stderr, False
    except subprocess.TimeoutExpired as e:
        rc, timed_out = None, True
        out = (e.stdout or b"").decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = (e.stderr or b"").decode("utf-8", "replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
    (cwd / "_stdout.txt").write_text(out)
    (cwd / "_stderr.txt").write_text(err)
    losses = [float(m) for m in re.findall(regex, out)]
    if not losses:  # some scripts log to stderr
        losses = [float(m) for m in re.findall(regex, err)]
    res = {"rc": rc, "timed_out": timed_out, "seconds": round(time.time() - t0, 1),
           "losses": len(losses), "first": losses[0] if losses else None,
           "last": losses[-1] if losses else None}
    ran = rc == 0 and losses
    res["status"] = "ran" if ran else ("timeout" if timed_out else "crashed")
    if not ran:
        res["error"] = ("timed out after %ds" % timeout if timed_out and not err.strip()
                        else last_error_line(err) or (rc == 0 and "no loss printed") or "")
        if rc == 0 and not losses:
            res["error"] = "no loss printed (regex %r)" % regex
    return res


def train_project(t: dict, repos: Dict[str, dict], scratch: Path, jobs: int) -> dict:
    name = t["name"]
    res: dict = {"name": name, "repo": t["repo"], "command": " ".join(t["cmd"])}
    repo = repos[t["repo"]]
    gitdir = find_mirror(repo["source"])
    if gitdir is None:
        res["error"] = f"no mirror: run the fetch tool on {repo['source']}"
        return res
    base = scratch / "train" / name
    if base.exists():
        shutil.rmtree(base)
    tdir, mdir = base / "torch", base / "mindspore"
    tdir.mkdir(parents=True)
    root = t.get("root", "").strip("/")
    globs = t.get("files") or [f"{root}/*" if root else "*"]
    extract(gitdir, repo["commit"], globs, t.get("exclude", []), tdir, strip=root)
    for d in t.get("drivers", []):
        shutil.copyfile(DRIVERS / d, tdir / Path(d).name)
    problems = apply_edits(tdir, t.get("edits", []))
    if problems:
        res["error"] = "; ".join(problems)
        return res
    conv = run_convert(tdir, mdir, base / "report.json", jobs)
    res["convert_rc"] = conv["rc"]
    if not mdir.exists():
        res["error"] = "conversion wrote nothing: " + " | ".join(conv["stderr_tail"])
        return res
    timeout = int(t.get("timeout", 240))
    for side, d in (("torch", tdir), ("mindspore", mdir)):
        if t.get("setup"):
            argv = [sys.executable if a == "python" else a for a in t["setup"]]
            argv = [a.replace("{drivers}", str(DRIVERS)) for a in argv]
            subprocess.run(argv, cwd=d, check=True, capture_output=True, env=_env())
        res[side] = run_program(t["cmd"], d, timeout, t["loss_regex"])
    tr, mr = res["torch"], res["mindspore"]
    if tr["status"] == "ran" and mr["status"] == "ran":
        res["falls"] = mr["last"] < mr["first"]
        res["within"] = mr["last"] <= 1.25 * tr["last"] + 0.1
        res["ok"] = res["falls"] and res["within"]
    else:
        res["ok"] = False
    res["reproduce"] = (f"cd {mdir} && GLOG_v=3 {sys.executable} " + " ".join(t["cmd"][1:])
                        if t["cmd"][0] == "python" else f"cd {mdir} && " + " ".join(t["cmd"]))
    return res


# --------------------------------------------------------------------------- report

def pct(before: int, after: int) -> str:
    return f"{100.0 * (before - after) / before:.1f}%" if before else "-"


def top_api(f: dict) -> str:
    left = f.get("left") or {}
    return max(left, key=left.get) if left else ""


def write_markdown(result: dict, path: Path) -> None:
    L = []
    w = L.append
    w("# ms-migrate on real-world PyTorch projects\n")
    w(f"Generated by `{result['command']}` on {result['date']}, ms-migrate commit "
      f"`{result['ms_migrate_commit']}`, mindspore {result['mindspore']}, torch {result['torch']}. "
      "Do not edit by hand: see [benchmarks/realworld/README.md](../benchmarks/realworld/README.md).\n")
    if result.get("repos_measured"):
        m = result["repos_measured"]
        w(f"The repository measures come from `{m['command']}` on {m['date']}, ms-migrate commit "
          f"`{m['ms_migrate_commit']}`.\n")
    if result.get("train_measured"):
        m = result["train_measured"]
        w(f"The training runs come from `{m['command']}` on {m['date']}, ms-migrate commit "
          f"`{m['ms_migrate_commit']}`.\n")
    w("Torch references are counted from the AST (uses of names bound by torch, torchvision, "
      "torchaudio and torchtext imports, and of `einops.layers.torch`, whose layers are torch "
      "Modules), before and after conversion. A file whose output "
      "does not parse counts as not converted. \"Missing MS names\" are attribute chains on "
      "mindspore imports that do not exist in the installed mindspore.\n")
    t = result["totals"]
    w("## Totals\n")
    w("| repositories | files | torch files | torch refs before | left after | gone | outputs not parsing | files still importing torch | missing MS names |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    w(f"| {t['repos']} | {t['files']} | {t['torch_files']} | {t['torch_before']} | {t['torch_after']} | "
      f"{pct(t['torch_before'], t['torch_after'])} | {t['parse_failures']} | {t['still_importing']} | {t['ms_missing']} |\n")
    w("## Per repository\n")
    w("| repository | kind | commit | files | torch refs before | left | gone | not parsing | still importing torch | missing MS names | top unconverted |")
    w("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in result["repos"]:
        if "error" in r:
            w(f"| {r['name']} | {r['kind']} | `{r['commit'][:10]}` | - | - | - | - | - | - | - | {r['error']} |")
            continue
        c = Counter()
        for f in r["per_file"]:
            c.update(f.get("left") or {})
        top = ", ".join(f"`{q}` {n}" for q, n in c.most_common(3))
        w(f"| [{r['name']}](https://github.com/{r['source'].split(':', 1)[1]}) | {r['kind']} | `{r['commit'][:10]}` | "
          f"{r['files']} | {r['torch_before']} | {r['torch_after']} | {pct(r['torch_before'], r['torch_after'])} | "
          f"{len(r['parse_failures'])} | {len(r['still_importing'])} | {len(r['ms_missing'])} | {top} |")
    w("")
    w("## Top 30 unconverted torch APIs\n")
    w("| torch API | uses left | files |")
    w("|---|---:|---:|")
    for q, n, nf in result["top_unconverted"]:
        w(f"| `{q}` | {n} | {nf} |")
    w("")
    w("## Outputs that do not parse\n")
    pf = [(r["name"], f, e) for r in result["repos"] if "error" not in r for f, e in r["parse_failures"]]
    w("None.\n" if not pf else "\n".join(f"- `{n}/{f}`: {e}" for n, f, e in pf) + "\n")
    w("## MindSpore names that do not exist\n")
    miss = Counter()
    where: Dict[str, str] = {}
    for r in result["repos"]:
        for f, q, ln in r.get("ms_missing", []):
            miss[q] += 1
            where.setdefault(q, f"{r['name']}/{f}:{ln}")
        for f, q, ln in r.get("ms_unbound", []):
            key = q if "UnboundLocalError" in q else f"{q} (used, never imported)"
            miss[key] += 1
            where.setdefault(key, f"{r['name']}/{f}:{ln}")
    if not miss:
        w("None.\n")
    else:
        w("| name | uses | first place |")
        w("|---|---:|---|")
        for q, n in miss.most_common():
            w(f"| `{q}` | {n} | `{where[q]}` |")
        w("")
    w("## Files still importing torch\n")
    w("| file | torch refs left | top unconverted API |")
    w("|---|---:|---|")
    for r in result["repos"]:
        for f in r.get("per_file", []):
            if f.get("torch_imports_after"):
                w(f"| `{r['name']}/{f['file']}` | {f['torch_after']} | `{top_api(f)}` |")
    w("")
    if result.get("train"):
        w("## Training runs\n")
        w("The torch original and the converted program run the same edited project (edits and "
          "drivers in manifest.toml) on CPU. ok: the converted program ran, its loss fell, and "
          "its last loss is at most 1.25 x torch's last loss + 0.1.\n")
        w("| project | torch | torch loss first → last | converted | converted loss first → last | ok | converted error |")
        w("|---|---|---|---|---|---|---|")
        for t in result["train"]:
            if "error" in t:
                w(f"| {t['name']} | - | - | - | - | no | {t['error']} |")
                continue
            tr, mr = t["torch"], t["mindspore"]

            def fl(x):
                return "-" if x["first"] is None else f"{x['first']:.4g} → {x['last']:.4g}"
            err = (mr.get("error") or "").replace("|", "\\|")
            terr = (" (torch: " + tr.get("error", "").replace("|", "\\|") + ")") if tr["status"] != "ran" else ""
            w(f"| {t['name']} | {tr['status']} | {fl(tr)} | {mr['status']} | {fl(mr)} | "
              f"{'yes' if t.get('ok') else 'no'} | `{err}`{terr} |")
        w("")
    path.write_text("\n".join(L) + "\n", "utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", default=str(HERE / "manifest.toml"))
    ap.add_argument("--scratch", default=os.environ.get("MS_MIGRATE_REALWORLD_DIR", "/tmp/realworld"))
    ap.add_argument("--md", default=str(ROOT / "docs" / "realworld.md"))
    ap.add_argument("--repos", default="", help="comma-separated repository names (default: all)")
    ap.add_argument("--train", default="", help="comma-separated training projects (default: all)")
    ap.add_argument("--no-train", action="store_true")
    ap.add_argument("--no-repos", action="store_true", help="only the training runs")
    ap.add_argument("--repos-from", default="",
                    help="take the repository measures from this earlier result.json (only the training runs run)")
    ap.add_argument("--train-from", default="",
                    help="take the training runs from this earlier result.json (none run)")
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args(argv)

    manifest = tomllib.loads(Path(args.manifest).read_text("utf-8"))
    scratch = Path(args.scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    repos = {r["name"]: r for r in manifest["repo"]}
    wanted = [s for s in args.repos.split(",") if s] or list(repos)
    import mindspore  # the measuring process resolves names against the installed package
    try:
        import torch
        torch_version = torch.__version__
    except Exception:
        torch_version = "not installed"
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "src", "mappings"],
                               capture_output=True, text=True).stdout.strip()
        if dirty:
            commit += " (+ uncommitted changes in src/ or mappings/)"
    except Exception:
        commit = "unknown"
    result: dict = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "ms_migrate_commit": commit, "mindspore": mindspore.__version__, "torch": torch_version,
        "command": "python benchmarks/realworld/run.py" + "".join(f" {a}" for a in (argv or sys.argv[1:])),
        "repos": [], "train": [],
    }
    if args.repos_from:
        earlier = json.loads(Path(args.repos_from).read_text("utf-8"))
        result["repos"] = [r for r in earlier["repos"] if r["name"] in wanted]
        result["repos_measured"] = {k: earlier[k] for k in ("date", "ms_migrate_commit", "command")}
    elif not args.no_repos:
        for name in wanted:
            print(f"[realworld] {name} ...", file=sys.stderr, flush=True)
            r = measure_repo(repos[name], scratch, args.jobs, True)
            result["repos"].append(r)
            if "error" in r:
                print(f"  {r['error']}", file=sys.stderr)
            else:
                print(f"  {r['files']} files, torch refs {r['torch_before']} -> {r['torch_after']}, "
                      f"{len(r['still_importing'])} still import torch, "
                      f"{len(r['parse_failures'])} do not parse, {len(r['ms_missing'])} missing MS names",
                      file=sys.stderr)
    ok = [r for r in result["repos"] if "error" not in r]
    left = Counter()
    left_files = Counter()
    for r in ok:
        for f in r["per_file"]:
            left.update(f.get("left") or {})
            left_files.update((f.get("left") or {}).keys())
    result["top_unconverted"] = [[q, n, left_files[q]] for q, n in left.most_common(30)]
    result["totals"] = {
        "repos": len(ok), "files": sum(r["files"] for r in ok),
        "torch_files": sum(r["torch_files"] for r in ok),
        "torch_before": sum(r["torch_before"] for r in ok),
        "torch_after": sum(r["torch_after"] for r in ok),
        "parse_failures": sum(len(r["parse_failures"]) for r in ok),
        "still_importing": sum(len(r["still_importing"]) for r in ok),
        "ms_missing": sum(len(r["ms_missing"]) for r in ok),
        "ms_unbound": sum(len(r["ms_unbound"]) for r in ok),
        "unavailable": [[r["name"], r["error"]] for r in result["repos"] if "error" in r],
    }
    if args.train_from:
        earlier = json.loads(Path(args.train_from).read_text("utf-8"))
        result["train"] = earlier["train"]
        result["train_measured"] = {k: earlier[k] for k in ("date", "ms_migrate_commit", "command")}
    elif not args.no_train:
        twanted = [s for s in args.train.split(",") if s]
        for t in manifest.get("train", []):
            if twanted and t["name"] not in twanted:
                continue
            print(f"[realworld] train {t['name']} ...", file=sys.stderr, flush=True)
            r = train_project(t, repos, scratch, args.jobs)
            result["train"].append(r)
            if "error" in r:
                print(f"  {r['error']}", file=sys.stderr)
            else:
                for side in ("torch", "mindspore"):
                    s = r[side]
                    print(f"  {side}: {s['status']} {s['first']} -> {s['last']} {s.get('error', '')}",
                          file=sys.stderr)
                print(f"  ok: {r['ok']}", file=sys.stderr)
    (scratch / "result.json").write_text(json.dumps(result, indent=1), "utf-8")
    if args.md:
        write_markdown(result, Path(args.md))
    t = result["totals"]
    print(f"[realworld] {t['repos']} repositories, {t['files']} files, torch refs "
          f"{t['torch_before']} -> {t['torch_after']} ({pct(t['torch_before'], t['torch_after'])} gone); "
          f"{scratch / 'result.json'}, {args.md}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
