"""Run the single-API benchmark: torch program -> ms-migrate -> MindSpore program, compared.

For every case of cases.jsonl (written by extract.py):

1. run the torch program and keep the named results (tensors as numpy arrays with
   their dtype and shape, Python scalars, tuples, lists, dicts);
2. convert it with `ms_migrate.convert_source` (in this process);
3. run the converted program with MindSpore (CPU) and keep the same names;
4. compare values, shapes and dtypes, and classify the case:

   pass          every named result matches
   torch_error   the torch program itself fails here (not counted in the rate)
   left_torch    the converted code still uses torch, or carries a `# ms-migrate:` mark
   convert_error ms-migrate raised or reported an error
   ms_error      the MindSpore program raised (exception type and first line kept)
   wrong_type    a result is of another kind (Tensor vs Python number, tuple vs Tensor)
   wrong_shape   a tensor has another shape
   wrong_value   values differ beyond the tolerance
   wrong_dtype   values match but the dtype differs (torch.int64 vs mindspore.int32)
   timeout       the MindSpore program ran past --timeout

Programs run in forked children of two long-lived "servers" per worker (one has
torch imported, one mindspore), so a case costs a fork, not an interpreter start;
each child has its own working folder, a timeout and its own process group.

Usage (from the repository root, with the project's virtual environment):

    python benchmarks/apibench/run.py                       # every case
    python benchmarks/apibench/run.py --api-regex '^torch\\.abs$'
    python benchmarks/apibench/run.py --sample 1500 --seed 0  # stratified by API
    python benchmarks/apibench/run.py --report-only         # redo the docs from results.jsonl

Outputs: /tmp/apibench/results.jsonl, docs/api-benchmark.md, docs/api-benchmark-apis.md.
"""
from __future__ import annotations

import argparse
import collections
import datetime
import io
import json
import os
import pickle
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import tokenize
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRATCH = "/tmp/apibench"
CLASSES = ["pass", "left_torch", "convert_error", "ms_error", "wrong_type", "wrong_shape",
           "wrong_value", "wrong_dtype", "timeout", "torch_error"]
FAIL_CLASSES = [c for c in CLASSES if c not in ("pass", "torch_error")]


# --------------------------------------------------------------------------------------
# Snapshots of results (run inside the forked children)
# --------------------------------------------------------------------------------------

def _snapshot(obj: Any, depth: int = 0) -> dict:
    """A picklable description of a result: only numpy arrays and Python builtins."""
    import numpy as np
    if depth > 6:
        return {"kind": "other", "type": type(obj).__name__, "repr": "<too deep>"}
    mod = type(obj).__module__ or ""
    if mod.startswith("torch"):
        import torch
        if isinstance(obj, torch.Tensor):
            t = obj.detach()
            if t.layout != torch.strided:
                t = t.to_dense()
            if t.is_quantized:
                t = t.dequantize()
            if t.is_conj():
                t = t.resolve_conj()
            if t.is_neg():
                t = t.resolve_neg()
            dtype = str(t.dtype).replace("torch.", "")
            if t.dtype == torch.bfloat16:
                t = t.float()
            elif t.dtype == torch.complex32:
                t = t.to(torch.complex64)
            return {"kind": "tensor", "dtype": dtype, "shape": tuple(t.shape),
                    "value": t.cpu().numpy().copy()}
        if isinstance(obj, torch.dtype):
            return {"kind": "dtype", "name": str(obj).replace("torch.", "")}
        if isinstance(obj, torch.Size):
            return {"kind": "seq", "items": [_snapshot(x, depth + 1) for x in obj]}
    ms = sys.modules.get("mindspore")
    if ms is not None and isinstance(obj, (ms.Tensor, ms.common.dtype.Type)):
        # (mindspore.Parameter's class is made by a metaclass: its __module__ is "abc")
        mindspore = ms
        if isinstance(obj, mindspore.Tensor):
            dtype = str(obj.dtype).lower()
            t = obj
            if dtype == "bfloat16":
                t = t.astype(mindspore.float32)
            value = np.array(t.asnumpy()).copy()
            return {"kind": "tensor", "dtype": dtype, "shape": tuple(obj.shape), "value": value}
        if isinstance(obj, mindspore.common.dtype.Type):
            return {"kind": "dtype", "name": str(obj).lower()}
    if isinstance(obj, np.ndarray):
        return {"kind": "ndarray", "dtype": str(obj.dtype), "shape": tuple(obj.shape),
                "value": obj.copy()}
    if isinstance(obj, np.generic):
        return {"kind": "scalar", "type": type(obj.item()).__name__, "value": obj.item(),
                "np": str(obj.dtype)}
    if isinstance(obj, (bool, int, float, complex, str, type(None))):
        return {"kind": "scalar", "type": type(obj).__name__, "value": obj}
    if isinstance(obj, (list, tuple)):
        return {"kind": "seq", "items": [_snapshot(x, depth + 1) for x in obj]}
    if isinstance(obj, dict):
        return {"kind": "dict", "keys": [_snapshot(k, depth + 1) for k in obj.keys()],
                "values": [_snapshot(v, depth + 1) for v in obj.values()]}
    try:
        r = repr(obj)[:200]
    except Exception:
        r = "<repr failed>"
    return {"kind": "other", "type": f"{mod}.{type(obj).__name__}", "repr": r}


def _first_line(msg: str) -> str:
    for line in str(msg).splitlines():
        line = line.strip()
        if line and not set(line) <= set("-= "):
            return line[:300]
    return ""


def _child(job: dict) -> None:
    """In the forked child: run the program, snapshot the names, pickle, exit."""
    result: Dict[str, Any]
    try:
        os.setpgid(0, 0)
        os.chdir(job["cwd"])
        log = os.open(job["out"] + ".log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        ns: Dict[str, Any] = {"__name__": "__main__"}
        code = compile(job["code"], "<case>", "exec")
        exec(code, ns)
        values = {}
        for name in job["names"]:
            try:
                values[name] = _snapshot(eval(name, ns))
            except NameError as e:
                raise NameError(f"result {name!r} is not defined: {e}") from None
        result = {"ok": True, "values": values}
    except BaseException as e:  # noqa: BLE001 - everything is a result here
        tb = traceback.extract_tb(e.__traceback__)
        case_frames = [f for f in tb if f.filename == "<case>"]
        line = case_frames[-1].lineno if case_frames else None
        src_line = None
        if line:
            lines = job["code"].splitlines()
            src_line = lines[line - 1].strip() if 0 < line <= len(lines) else None
        result = {"ok": False, "etype": type(e).__name__, "msg": _first_line(str(e)),
                  "line": line, "src_line": src_line,
                  "where": [f"{os.path.basename(f.filename)}:{f.lineno}:{f.name}" for f in tb[-3:]]}
    try:
        with open(job["out"] + ".tmp", "wb") as f:
            pickle.dump(result, f)
        os.replace(job["out"] + ".tmp", job["out"])
    except BaseException as e:  # unpicklable: say so
        with open(job["out"], "wb") as f:
            pickle.dump({"ok": False, "etype": "PickleError", "msg": str(e)[:200]}, f)
    os._exit(0)


def serve(framework: str) -> None:
    """A server: import the framework once, then fork one child per job line on stdin."""
    os.environ.setdefault("GLOG_v", "3")
    import numpy  # noqa: F401
    if framework == "torch":
        import torch
        torch.set_num_threads(1)
    else:
        import mindspore  # noqa: F401
        import mindspore.nn  # noqa: F401
        import mindspore.ops  # noqa: F401
    out = sys.stdout
    sys.stdout = sys.stderr
    for line in sys.stdin:
        job = json.loads(line)
        os.makedirs(job["cwd"], exist_ok=True)
        start = time.time()
        pid = os.fork()
        if pid == 0:
            _child(job)
        status = None
        while True:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                break
            if time.time() - start > job["timeout"]:
                for target in (-pid, pid):
                    try:
                        os.kill(target, signal.SIGKILL)
                    except OSError:
                        pass
                os.waitpid(pid, 0)
                break
            time.sleep(0.005)
        reply = {"elapsed": round(time.time() - start, 3)}
        if status is None:
            reply["timeout"] = True
        elif not os.path.exists(job["out"]):
            sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
            tail = ""
            try:
                with open(job["out"] + ".log", errors="replace") as f:
                    tail = _first_line("\n".join(f.read().splitlines()[-5:][::-1]))
            except OSError:
                pass
            reply["crash"] = f"signal {sig}" if sig else f"exit {os.WEXITSTATUS(status)}"
            reply["tail"] = tail
        try:
            os.killpg(pid, signal.SIGKILL)     # leftovers (DataLoader workers...)
        except OSError:
            pass
        shutil.rmtree(job["cwd"], ignore_errors=True)
        out.write(json.dumps(reply) + "\n")
        out.flush()


class Server:
    """A running `run.py --serve FRAMEWORK` process."""

    def __init__(self, framework: str, python: str):
        self.framework, self.python = framework, python
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> None:
        env = dict(os.environ, GLOG_v="3", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   OPENBLAS_NUM_THREADS="1", PYTHONUNBUFFERED="1", PYTHONWARNINGS="ignore")
        self.proc = subprocess.Popen([self.python, os.path.abspath(__file__), "--serve", self.framework],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=env)

    def run(self, code: str, names: List[str], out: str, cwd: str, timeout: float) -> dict:
        for attempt in range(2):
            if self.proc is None or self.proc.poll() is not None:
                self.start()
            try:
                self.proc.stdin.write(json.dumps({"code": code, "names": names, "out": out,
                                                  "cwd": cwd, "timeout": timeout}) + "\n")
                self.proc.stdin.flush()
                line = self.proc.stdout.readline()
                if line:
                    reply = json.loads(line)
                    break
            except (BrokenPipeError, OSError, ValueError):
                pass
            self.proc = None
        else:
            return {"ok": False, "etype": "ServerDied", "msg": f"{self.framework} server died"}
        if reply.get("timeout"):
            return {"ok": False, "timeout": True, "elapsed": reply["elapsed"]}
        if "crash" in reply:
            return {"ok": False, "etype": "Crash", "msg": f"{reply['crash']}: {reply.get('tail', '')}",
                    "elapsed": reply["elapsed"]}
        with open(out, "rb") as f:
            result = pickle.load(f)
        for p in (out, out + ".log"):
            try:
                os.remove(p)
            except OSError:
                pass
        result["elapsed"] = reply["elapsed"]
        return result

    def close(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# --------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------

def _tolerance(dtypes: Tuple[str, ...], flags: dict) -> Tuple[float, float]:
    if any("bfloat16" in d for d in dtypes):
        rtol, atol = 1.6e-2, 1e-2
    elif any(d in ("float16", "half", "complex32") for d in dtypes):
        rtol, atol = 1e-3, 1e-3
    else:
        rtol, atol = 1e-5, 1e-6
    return max(rtol, _number(flags.get("rtol"))), max(atol, _number(flags.get("atol")))


def _number(flag) -> float:
    """A tolerance flag; 0 (the defaults) for none, or for a name an older extraction
    kept unresolved (`atol=ATOL`)."""
    try:
        return float(flag or 0)
    except (TypeError, ValueError):
        return 0.0


def _compare_arrays(name: str, t: dict, m: dict, flags: dict, issues: list) -> None:
    import numpy as np
    a, b = np.asarray(t["value"]), np.asarray(m["value"])
    check_shape = flags.get("check_shape", True) is not False
    if tuple(t["shape"]) != tuple(m["shape"]):
        if check_shape or a.size != b.size:
            issues.append(("wrong_shape", name, f"shape torch {tuple(t['shape'])} vs ms {tuple(m['shape'])}"))
            return
    if not check_shape:
        a, b = a.reshape(-1), b.reshape(-1)
    if flags.get("check_value", True) is not False and a.size:
        if a.dtype.kind in "biu" and b.dtype.kind in "biu":
            ok = np.array_equal(a.astype(np.int64) if a.dtype.kind == "b" else a,
                                b.astype(np.int64) if b.dtype.kind == "b" else b)
            detail = ""
        else:
            rtol, atol = _tolerance((t["dtype"], m["dtype"]), flags)
            try:
                af = a.astype(np.complex128 if a.dtype.kind == "c" or b.dtype.kind == "c" else np.float64)
                bf = b.astype(af.dtype)
                finite = np.abs(af[np.isfinite(af)])
                scale = max(1.0, float(finite.max())) if finite.size else 1.0
                ok = bool(np.allclose(bf, af, rtol=rtol, atol=atol * scale, equal_nan=True))
                diff = np.abs(af - bf)
                fin = np.isfinite(diff)
                if fin.any():
                    rel = float((diff[fin] / np.maximum(np.abs(af[fin]), atol * scale)).max())
                    detail = f" (max abs diff {float(diff[fin].max()):.3g}, max rel diff {rel:.3g})"
                else:
                    detail = " (nan/inf differ)"
                if not np.array_equal(np.isfinite(af), np.isfinite(bf)):
                    detail = " (nan/inf differ)"
            except (TypeError, ValueError) as e:
                ok, detail = False, f" ({e})"
        if not ok:
            sample_t = np.array2string(a.reshape(-1)[:4], precision=4, separator=",")
            sample_m = np.array2string(b.reshape(-1)[:4], precision=4, separator=",")
            issues.append(("wrong_value", name, f"values differ{detail}: torch {sample_t} vs ms {sample_m}"))
    if flags.get("check_dtype", True) is not False and t["dtype"] != m["dtype"]:
        issues.append(("wrong_dtype", name, f"dtype torch {t['dtype']} vs ms {m['dtype']}"))


def compare(name: str, t: dict, m: dict, flags: dict, issues: list) -> None:
    tk, mk = t["kind"], m["kind"]
    if tk == "other":
        return                                   # an object we cannot compare: not checked
    if tk in ("tensor", "ndarray") and mk in ("tensor", "ndarray"):
        if tk != mk:
            issues.append(("wrong_type", name, f"torch {tk} vs ms {mk}"))
            return
        _compare_arrays(name, t, m, flags, issues)
        return
    if tk != mk:
        tt = t.get("type", tk) if tk in ("scalar", "other") else tk
        mt = m.get("type", mk) if mk in ("scalar", "other") else mk
        issues.append(("wrong_type", name, f"torch {tk}:{tt} vs ms {mk}:{mt}"))
        return
    if tk == "seq":
        if len(t["items"]) != len(m["items"]):
            issues.append(("wrong_shape", name, f"sequence length torch {len(t['items'])} vs ms {len(m['items'])}"))
            return
        for i, (a, b) in enumerate(zip(t["items"], m["items"])):
            compare(f"{name}[{i}]", a, b, flags, issues)
        return
    if tk == "dict":
        compare(f"{name}.keys()", {"kind": "seq", "items": t["keys"]}, {"kind": "seq", "items": m["keys"]}, flags, issues)
        compare(f"{name}.values()", {"kind": "seq", "items": t["values"]}, {"kind": "seq", "items": m["values"]}, flags, issues)
        return
    if tk == "dtype":
        if t["name"] != m["name"] and flags.get("check_dtype", True) is not False:
            issues.append(("wrong_value", name, f"dtype object torch {t['name']} vs ms {m['name']}"))
        return
    if tk == "scalar":
        if t["type"] != m["type"] and not {t["type"], m["type"]} <= {"int", "float"}:
            issues.append(("wrong_type", name, f"torch {t['type']} vs ms {m['type']}"))
            return
        if t["type"] != m["type"]:
            issues.append(("wrong_dtype", name, f"Python {t['type']} vs {m['type']}"))
        if flags.get("check_value", True) is not False:
            a, b = t["value"], m["value"]
            if isinstance(a, float) or isinstance(b, float) or isinstance(a, complex):
                import math
                try:
                    ok = (a == b) or (a != a and b != b) or abs(a - b) <= 1e-6 + 1e-5 * abs(a)
                except TypeError:
                    ok = False
                    _ = math
            else:
                ok = a == b
            if not ok:
                issues.append(("wrong_value", name, f"torch {a!r:.60} vs ms {b!r:.60}"))


ISSUE_ORDER = ["wrong_type", "wrong_shape", "wrong_value", "wrong_dtype"]


# --------------------------------------------------------------------------------------
# One case
# --------------------------------------------------------------------------------------

_TORCH_WORD = re.compile(r"\btorch\b")


def torch_left(code: str) -> Optional[str]:
    """The first line of code (comments and strings aside) that still names torch."""
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        toks = []
    for tok in toks:
        if tok.type == tokenize.NAME and tok.string == "torch":
            return tok.line.strip()
    return None


def classify_left(result, code: str) -> Tuple[Optional[str], Optional[str]]:
    """(cause, message) when the converted code is not MindSpore-only, else (None, None).

    A `# ms-migrate:` mark counts when it marks an unsupported use; marks that only
    explain a conversion (a warning: "dropped 'requires_grad'") do not stop the run."""
    unsupported = [f for f in result.report.findings if f.action == "unsupported"]
    left = torch_left(code)
    if unsupported:
        f = unsupported[0]
        return f"{f.api}: {f.message}", f"line {f.line}: {f.api}: {f.message}"
    if left:
        return f"torch left: {left}", f"torch left: {left}"
    return None, None


def run_case(case: dict, servers: Tuple[Server, Server], args, convert_source) -> dict:
    torch_srv, ms_srv = servers
    rec: Dict[str, Any] = {"id": case["id"], "api": case["api"], "flags": case["flags"],
                           "disabled": case.get("disabled", False)}
    wid = threading.current_thread().name.replace(" ", "_")
    work = os.path.join(args.scratch, "work", f"{os.getpid()}-{wid}")
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    tr = torch_srv.run(case["code"], case["results"], os.path.join(work, "torch.pkl"),
                       os.path.join(work, "torch_cwd"), args.timeout)
    rec["torch_s"] = tr.get("elapsed")
    if not tr.get("ok"):
        rec["status"] = "torch_error"
        rec["message"] = "timeout" if tr.get("timeout") else f"{tr.get('etype')}: {tr.get('msg')}"
        return rec
    try:
        conv = convert_source(case["code"], filename=case["id"].split("::")[0])
    except Exception as e:  # noqa: BLE001
        rec.update(status="convert_error", cause=f"{type(e).__name__}: {_first_line(str(e))[:120]}",
                   message=f"{type(e).__name__}: {_first_line(str(e))}")
        return rec
    code = conv.code
    rec["ms_code"] = code
    rec["warnings"] = [f"{f.api}: {f.message}" for f in conv.report.findings if f.action == "warning"][:5]
    if conv.report.error:
        rec.update(status="convert_error", cause=_first_line(conv.report.error)[:120],
                   message=_first_line(conv.report.error))
        return rec
    cause, message = classify_left(conv, code)
    if cause:
        rec.update(status="left_torch", cause=cause, message=message)
        return rec
    mr = ms_srv.run(code, case["results"], os.path.join(work, "ms.pkl"),
                    os.path.join(work, "ms_cwd"), args.timeout)
    rec["ms_s"] = mr.get("elapsed")
    if mr.get("timeout"):
        rec.update(status="timeout", cause="timeout", message=f"MindSpore program ran past {args.timeout}s")
        return rec
    if not mr.get("ok"):
        msg = mr.get("msg") or ""
        rec.update(status="ms_error", etype=mr.get("etype"), message=f"{mr.get('etype')}: {msg}",
                   line=mr.get("line"), src_line=mr.get("src_line"),
                   cause=f"{mr.get('etype')}: {normalize_message(msg)}")
        return rec
    issues: List[Tuple[str, str, str]] = []
    for name in case["results"]:
        compare(name, tr["values"][name], mr["values"][name], case["flags"], issues)
    if not issues:
        rec["status"] = "pass"
    else:
        issues.sort(key=lambda i: ISSUE_ORDER.index(i[0]))
        if issues[0][0] == "wrong_value" and any(i[0] == "wrong_dtype" for i in issues):
            issues[0] = (issues[0][0], issues[0][1], issues[0][2] + " (dtype differs too)")
        kind, name, msg = issues[0]
        rec.update(status=kind, message=f"{name}: {msg}", issues=[list(i) for i in issues[:6]],
                   cause=issue_cause(kind, msg))
    rec["total_s"] = round(time.time() - t0, 3)
    return rec


def normalize_message(msg: str) -> str:
    """A MindSpore error message with the case-specific numbers and shapes taken out."""
    msg = re.sub(r"(has no attribute) '[^']*'", r"\1 <name>", msg)
    msg = re.sub(r"(unexpected keyword argument) '[^']*'", r"\1 <kw>", msg)
    msg = re.sub(r"\[[0-9, ]*\]|\([0-9, ]*\)", "[..]", msg)
    msg = re.sub(r"(?<![A-Za-z_])-?\d+(\.\d+)?(e-?\d+)?", "N", msg)
    return msg[:110]


def issue_cause(kind: str, msg: str) -> str:
    if kind == "wrong_dtype":
        m = re.search(r"dtype torch (\S+) vs ms (\S+)|Python (\S+) vs (\S+)", msg)
        return m.group(0) if m else "dtype differs"
    if kind == "wrong_type":
        return re.sub(r"^.*?: ", "", msg)
    if kind == "wrong_shape":
        return "sequence length differs" if "sequence" in msg else "shape differs"
    if "nan/inf" in msg:
        return "values differ (nan/inf where the other has numbers)"
    m = re.search(r"max rel diff ([0-9.e+-]+)", msg)
    if m and float(m.group(1)) <= 1e-3:
        return "values differ slightly (max rel diff <= 1e-3: kernel precision)"
    if "dtype object" in msg:
        return "torch.dtype value differs"
    if "torch '" in msg or 'torch "' in msg:
        return "string differs"
    return "values differ"


# --------------------------------------------------------------------------------------
# Case selection
# --------------------------------------------------------------------------------------

def load_cases(path: str) -> Tuple[dict, List[dict]]:
    meta, cases = {}, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            obj = json.loads(line)
            if "_meta" in obj:
                meta = obj["_meta"]
            else:
                cases.append(obj)
    return meta, cases


def select(cases: List[dict], args) -> List[dict]:
    out = [c for c in cases if not c.get("excluded")]
    if args.no_disabled:
        out = [c for c in out if not c.get("disabled")]
    if args.api_regex:
        rx = re.compile(args.api_regex)
        out = [c for c in out if rx.search(c["api"])]
    if args.id_regex:
        rx = re.compile(args.id_regex)
        out = [c for c in out if rx.search(c["id"])]
    if args.sample or args.max_minutes:
        # Stratified by API: a shuffled round-robin over the APIs, so every API gets
        # one case before any gets a second. With --max-minutes the cases run in this
        # order, so the ones that ran before the time was up are such a sample too.
        rng = random.Random(args.seed)
        by_api: Dict[str, List[dict]] = collections.defaultdict(list)
        for c in out:
            by_api[c["api"]].append(c)
        apis = sorted(by_api)
        rng.shuffle(apis)
        for a in apis:
            rng.shuffle(by_api[a])
        picked: List[dict] = []
        depth = 0
        want = min(args.sample or len(out), len(out))
        while len(picked) < want:
            for a in apis:
                if depth < len(by_api[a]):
                    picked.append(by_api[a][depth])
                    if len(picked) == want:
                        break
            depth += 1
        out = picked
    if args.limit:
        out = out[:args.limit]
    return out


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------

def _git_head(path: str) -> str:
    try:
        head = subprocess.run(["git", "-C", path, "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        return head
    except Exception:
        return "unknown"


def _md(s: Any, n: int = 160) -> str:
    s = str(s).replace("|", "\\|").replace("\n", " ").replace("`", "'")
    return s if len(s) <= n else s[:n - 1] + "…"


def write_report(results: List[dict], meta: dict, run_meta: dict, doc: str, apis_doc: str,
                 rules=None) -> None:
    counts = collections.Counter(r["status"] for r in results)
    valid = [r for r in results if r["status"] != "torch_error"]
    passed = counts["pass"]
    rate = passed / len(valid) if valid else 0.0
    lines = [
        "# Single-API benchmark (PaConvert's unit-test programs)",
        "",
        "<!-- Generated by benchmarks/apibench/run.py: do not edit by hand. -->",
        "",
        "Each case is one small torch program from the per-API unit tests of",
        "[PaConvert](https://github.com/PaddlePaddle/PaConvert) (the torch→Paddle converter):",
        "a call of one torch API in one argument form, with named results. The torch program",
        "runs, ms-migrate converts it, the MindSpore program runs on CPU, and the named results",
        "are compared: values (float32/float64 `allclose` rtol 1e-5, atol 1e-6 × max(1, max|x|);",
        "float16 1e-3; bfloat16 1.6e-2/1e-2; the test's own rtol/atol when larger; integers and",
        "booleans exactly), shapes exactly, and dtypes by name (`torch.int64` ↔ `mindspore.int64`).",
        "A test's `check_value=False` / `check_dtype=False` / `check_shape=False` are honoured.",
        "How to run it: [benchmarks/apibench/README.md](../benchmarks/apibench/README.md).",
        "",
        f"- Date: {run_meta['date']}",
        f"- ms-migrate commit: `{run_meta['ms_migrate_commit']}`",
        f"- PaConvert commit: `{meta.get('commit', 'unknown')}` ({meta.get('commit_date', '')})",
        f"- Command: `{run_meta['command']}`",
        f"- Cases: {run_meta['selection']}",
        f"- Wall time: {run_meta.get('wall_s', 0) / 60:.1f} min with {run_meta.get('jobs')} workers",
        "",
        f"**Pass rate: {passed} / {len(valid)} = {rate:.1%}** of the valid programs "
        f"({counts['torch_error']} programs that fail in torch 2.13 on CPU are left out).",
        "",
        "| class | cases | share of valid | meaning |",
        "|---|---:|---:|---|",
    ]
    meaning = {
        "pass": "every named result matches",
        "left_torch": "converted code still uses torch or carries a `# ms-migrate:` mark",
        "convert_error": "ms-migrate raised or reported an error",
        "ms_error": "the MindSpore program raised",
        "wrong_type": "a result is of another kind (Tensor vs number, tuple vs Tensor)",
        "wrong_shape": "a result has another shape (or sequence length)",
        "wrong_value": "values differ beyond the tolerance",
        "wrong_dtype": "values match, dtype differs",
        "timeout": f"the MindSpore program ran past {run_meta.get('timeout')} s",
        "torch_error": "the torch program fails here (not counted)",
    }
    for c in CLASSES:
        share = f"{counts[c] / len(valid):.1%}" if c != "torch_error" and valid else ""
        lines.append(f"| {c} | {counts[c]} | {share} | {meaning[c]} |")

    # Failure table grouped by cause.
    groups: Dict[Tuple[str, str], List[dict]] = collections.defaultdict(list)
    for r in results:
        if r["status"] in FAIL_CLASSES:
            groups[(r["status"], cause_key(r))].append(r)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    lines += [
        "",
        "## Failures by cause",
        "",
        "Causes with the most cases first (a left_torch cause is the first unsupported use",
        "reported by ms-migrate, with the API name taken out; an ms_error cause is the exception",
        "type and first line with numbers taken out). Top APIs with their case counts, and one example.",
        "",
        "| # | class | cause | cases | top APIs | example |",
        "|---:|---|---|---:|---|---|",
    ]
    for i, ((cls, cause), rs) in enumerate(ordered[:80], 1):
        top = collections.Counter(r["api"] for r in rs).most_common(6)
        ex = rs[0]
        lines.append(f"| {i} | {cls} | {_md(cause, 110)} | {len(rs)} | "
                     f"{_md(', '.join(f'{a} ({n})' for a, n in top), 200)} | "
                     f"`{_md(ex['id'], 60)}`: {_md(ex.get('message', ''), 140)} |")
    if len(ordered) > 80:
        rest = sum(len(rs) for _, rs in ordered[80:])
        lines.append(f"| | | {len(ordered) - 80} more causes | {rest} | | |")

    # Work queue: defect kinds, with the cases one fix would win.
    kinds: Dict[str, List[dict]] = collections.defaultdict(list)
    for r in results:
        if r["status"] in FAIL_CLASSES:
            kinds[defect_kind(r, rules)].append(r)
    lines += ["", "## Work queue: failures by defect kind", "",
              "The same failures grouped by what one converter change would address, most cases",
              "first. \"Top APIs\" are the torch APIs of the failing programs (for left_torch, the",
              "API ms-migrate refused), with their case counts.", "",
              "| # | defect kind | cases | top APIs |", "|---:|---|---:|---|"]
    for i, (k, rs) in enumerate(sorted(kinds.items(), key=lambda kv: -len(kv[1])), 1):
        top = collections.Counter(_used_api(r) if r["status"] == "left_torch" else r["api"]
                                  for r in rs).most_common(15)
        lines.append(f"| {i} | {_md(k, 140)} | {len(rs)} | {_md(', '.join(f'{a} ({n})' for a, n in top), 600)} |")

    # Failing APIs.
    per_api: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in results:
        per_api[r["api"]][r["status"]] += 1
    lines += ["", "## APIs with the most failing cases", "",
              "| API | valid | pass | failing by class |", "|---|---:|---:|---|"]
    worst = sorted(per_api.items(), key=lambda kv: -(sum(kv[1].values()) - kv[1]["pass"] - kv[1]["torch_error"]))
    for api, cnt in worst[:40]:
        v = sum(cnt.values()) - cnt["torch_error"]
        fails = ", ".join(f"{c} {n}" for c, n in cnt.most_common() if c not in ("pass", "torch_error"))
        if fails:
            lines.append(f"| `{api}` | {v} | {cnt['pass']} | {fails} |")
    lines += ["", f"Every API's figures: [api-benchmark-apis.md]({os.path.basename(apis_doc)}).", ""]
    with open(doc, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))

    al = ["# Single-API benchmark: every API", "",
          "<!-- Generated by benchmarks/apibench/run.py: do not edit by hand. -->", "",
          f"Per torch API: the cases run, how many are valid torch programs here, how many pass. "
          f"Run of {run_meta['date']} ({run_meta['selection']}); see [api-benchmark.md](api-benchmark.md).",
          "", "| API | cases | valid | pass | rate | failing by class |", "|---|---:|---:|---:|---:|---|"]
    for api in sorted(per_api):
        cnt = per_api[api]
        v = sum(cnt.values()) - cnt["torch_error"]
        fails = ", ".join(f"{c} {n}" for c, n in cnt.most_common() if c not in ("pass", "torch_error"))
        r = f"{cnt['pass'] / v:.0%}" if v else "-"
        al.append(f"| `{api}` | {sum(cnt.values())} | {v} | {cnt['pass']} | {r} | {fails} |")
    with open(apis_doc, "w", encoding="utf-8") as f:
        f.write("\n".join(al) + "\n")


def prepare_converter(rev: str, scratch: str) -> Tuple[str, str]:
    """(folder holding src/ and mappings/, description) of the converter to measure."""
    if rev == "worktree":
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "src", "mappings"],
                               capture_output=True, text=True).stdout.strip()
        return ROOT, _git_head(ROOT) + (" + uncommitted changes" if dirty else "")
    sha = subprocess.run(["git", "-C", ROOT, "rev-parse", rev], capture_output=True, text=True,
                         check=True).stdout.strip()
    dest = os.path.join(scratch, f"converter-{sha[:12]}")
    if not os.path.isdir(os.path.join(dest, "src")):
        tmp = dest + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        archive = subprocess.run(["git", "-C", ROOT, "archive", sha, "src", "mappings"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        os.replace(tmp, dest)
    return dest, sha


def _used_api(r: dict) -> str:
    """The torch API a left_torch message names ("line 4: torch.abs: ..." -> torch.abs)."""
    m = re.match(r"line \d+: ([\w.]+): ", r.get("message") or "")
    return m.group(1) if m else r["api"]


def defect_kind(r: dict, rules) -> str:
    """A converter defect kind that one fix addresses (the work queue's rows)."""
    st, msg = r["status"], r.get("message") or ""
    if st == "left_torch":
        used = _used_api(r)
        if used in ("torch.strided", "torch.preserve_format", "torch.contiguous_format",
                    "torch.channels_last", "torch.channels_last_3d", "torch.sparse_coo"):
            return "left_torch: layout= / memory_format= constants (torch.strided, torch.preserve_format ...)"
        if "no MindSpore equivalent in the rule tables" in msg:
            if rules is not None and "__" not in used:
                def converts(name):
                    rule = rules.get(name)
                    return rule is not None and rule.unsupported is None
                last = used.split(".")[-1]
                for pre in ("torch.", "torch.nn.", "torch.nn.functional.", "torch.distributions.",
                            "torch.utils.data.", "torch.optim.", "torch.optim.lr_scheduler.",
                            "torch.linalg.", "torch.fft.", "torch.special."):
                    if pre + last != used and converts(pre + last):
                        return ("left_torch: another path to an API that has a rule "
                                "(torch.nn.modules.<mod>.X, torch.distributions.<mod>.X, torch.random.X ...)")
                if used.endswith("_") and converts(used[:-1]):
                    return "left_torch: in-place function torch.X_ / F.X_ whose torch.X converts"
            return "left_torch: no rule for the API (each API its own fix)"
        if re.search(r"argument 'out'|out= has no", msg):
            return "left_torch: out= argument"
        if re.search(r"'reduce'", msg) and "scatter" in used:
            return "left_torch: scatter / scatter_ with reduce="
        if re.search(r"'(size_average|reduce)'", msg):
            return "left_torch: deprecated size_average / reduce arguments of losses"
        if re.search(r"unknown argument '\w+'", msg):
            return "left_torch: a keyword name missing from the rule's signature"
        if re.search(r"arguments cannot be matched", msg):
            return "left_torch: *args / **kwargs call not matched"
        if "no .grad" in msg or "backward()" in msg:
            return "left_torch: autograd (.grad / backward) outside a training step"
        return "left_torch: the rule refuses this argument form or API (reason in the message)"
    if st == "ms_error":
        m = re.search(r"AttributeError: 'Tensor' object has no attribute '(\w+)'", msg)
        if m:
            a = m.group(1)
            if a.endswith("_") and rules is not None and rules.method(a[:-1]) is not None:
                return "ms_error: in-place Tensor method x.f_() left as is (x.f converts; MindSpore has no f_)"
            return "ms_error: Tensor method without a rule passed through unmarked (MindSpore lacks it)"
        if re.search(r"object has no attribute", msg):
            return "ms_error: other attribute passed through unmarked (Cell / Parameter / distribution)"
        if re.search(r"unregistered|not supported on this device|Kernel select failed|Unsupported data type", msg):
            return "ms_error: the MindSpore kernel does not exist on CPU for this op or dtype"
        if re.search(r"unexpected keyword argument|missing \d+ required|takes \d+ positional", msg):
            return "ms_error: arguments emitted do not fit the MindSpore signature"
        if re.search(r"view and inplace", msg):
            return "ms_error: in-place op on a view (MindSpore refuses)"
        return "ms_error: other (see the cause table)"
    return f"{st}: {issue_cause(st, msg) if st.startswith('wrong_') else st}"


def load_converter_rules(commit: str, scratch: str):
    """The rule tables of the measured converter (None when they cannot be had)."""
    try:
        rev = commit.split()[0] if re.fullmatch(r"[0-9a-f]{7,40}", commit.split()[0]) else "worktree"
        folder, _ = prepare_converter(rev, scratch)
        sys.path.insert(0, os.path.join(folder, "src"))
        from ms_migrate.tables.load import load_rules
        return load_rules()
    except Exception:  # noqa: BLE001 - the report still comes, without the alias analysis
        return None


def cause_key(r: dict) -> str:
    cause = r.get("cause") or r.get("message") or r["status"]
    if r["status"] == "ms_error":
        cause = normalize_message(r.get("message") or "")
    if r["status"] == "left_torch":
        # "torch.abs: argument 'out': ..." -> "argument 'out': ..." (the API goes to "top APIs")
        api = r["api"]
        short = api.split(".")[-1]
        cause = re.sub(r"^[\w.]+: ", "", cause, count=1) if not cause.startswith("torch left") else cause
        cause = cause.replace(api, "<api>").replace(f"'{short}'", "'<api>'")
        cause = re.sub(r"\d+", "N", cause)
    return cause


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--serve", choices=["torch", "mindspore"], help=argparse.SUPPRESS)
    ap.add_argument("--cases", default=os.path.join(SCRATCH, "cases.jsonl"))
    ap.add_argument("--results", help="default: /tmp/apibench/results.jsonl; with --api-regex, "
                    "--id-regex, --limit or --sample: /tmp/apibench/results-subset.jsonl")
    ap.add_argument("--scratch", default=SCRATCH)
    ap.add_argument("--api-regex", help="only APIs matching (re.search), e.g. '^torch\\.abs$'")
    ap.add_argument("--id-regex", help="only case ids matching, e.g. 'test_abs.py::test_case_3$'")
    ap.add_argument("--limit", type=int, help="at most this many cases (after the other filters)")
    ap.add_argument("--sample", type=int, help="a seeded sample of N cases, stratified by API")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-disabled", action="store_true",
                    help="leave out the tests PaConvert disabled (named _test_*)")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="parallel workers (at most 2 here)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per program")
    ap.add_argument("--converter-rev", default="HEAD",
                    help="the ms-migrate commit to measure: src/ and mappings/ of it are exported to "
                         "the scratch folder and imported from there ('worktree': this checkout as it is)")
    ap.add_argument("--max-minutes", type=float,
                    help="stop starting cases after this long; cases run in a stratified order, so "
                         "those that ran are a stratified sample")
    ap.add_argument("--resume", action="store_true", help="keep results already in --results; run the rest")
    ap.add_argument("--doc", help="the report to write ('' for none); default docs/api-benchmark.md, "
                    "but none for a run restricted by --api-regex, --id-regex, --limit or --sample")
    ap.add_argument("--apis-doc", default=os.path.join(ROOT, "docs", "api-benchmark-apis.md"))
    ap.add_argument("--redo", metavar="REGEX",
                    help="run again the cases of --results whose 'class message' matches (e.g. "
                         "'^wrong_|^ms_error') and put the new records in their place")
    ap.add_argument("--report-only", action="store_true", help="only rewrite the docs from --results")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every failing case")
    args = ap.parse_args(argv)

    if args.serve:
        serve(args.serve)
        return 0
    subset = bool(args.api_regex or args.id_regex or args.limit or args.sample)
    if args.results is None:
        args.results = os.path.join(args.scratch, "results-subset.jsonl" if subset else "results.jsonl")
    if args.doc is None:
        args.doc = "" if subset else os.path.join(ROOT, "docs", "api-benchmark.md")

    meta, cases = load_cases(args.cases)
    chosen = select(cases, args)
    selection = describe_selection(args, len(chosen), len(cases))
    run_meta_path = args.results + ".meta.json"
    if args.report_only:
        with open(args.results, encoding="utf-8") as f:
            results = [json.loads(l) for l in f]
        with open(run_meta_path) as f:
            run_meta = json.load(f)
        write_report(results, meta, run_meta, args.doc, args.apis_doc,
                     load_converter_rules(run_meta.get("ms_migrate_commit", "HEAD"), args.scratch))
        print(f"wrote {args.doc}", file=sys.stderr)
        return 0

    converter_dir, converter_desc = prepare_converter(args.converter_rev, args.scratch)
    sys.path.insert(0, os.path.join(converter_dir, "src"))
    from ms_migrate import convert_source

    done: Dict[str, dict] = {}
    if args.resume and os.path.exists(args.results):
        with open(args.results, encoding="utf-8") as f:
            for l in f:
                r = json.loads(l)
                done[r["id"]] = r
    old_results: List[dict] = []
    if args.redo:
        with open(args.results, encoding="utf-8") as f:
            old_results = [json.loads(l) for l in f]
        rx = re.compile(args.redo)
        redo = {r["id"] for r in old_results
                if rx.search(f"{r['status']} {r.get('message', '')}")}
        chosen = [c for c in chosen if c["id"] in redo]
    todo = [c for c in chosen if c["id"] not in done]
    jobs = max(1, min(args.jobs, 2))
    pool: "queue.Queue[Tuple[Server, Server]]" = queue.Queue()
    all_servers = []
    for _ in range(jobs):
        pair = (Server("torch", sys.executable), Server("mindspore", sys.executable))
        for s in pair:
            s.start()
        all_servers.extend(pair)
        pool.put(pair)

    start = time.time()
    lock = threading.Lock()
    mode = "a" if args.resume else "w"
    out = open(args.results + ".redo" if args.redo else args.results, mode, encoding="utf-8")
    results: List[dict] = [done[c["id"]] for c in chosen if c["id"] in done]
    counter = collections.Counter(r["status"] for r in results)

    deadline = start + args.max_minutes * 60 if args.max_minutes else None

    def work(case: dict) -> None:
        if deadline and time.time() > deadline:
            return
        pair = pool.get()
        try:
            rec = run_case(case, pair, args, convert_source)
        except Exception as e:  # noqa: BLE001 - a runner bug must not stop the run
            rec = {"id": case["id"], "api": case["api"], "status": "convert_error",
                   "cause": f"runner: {type(e).__name__}", "message": f"runner: {type(e).__name__}: {e}"}
        finally:
            pool.put(pair)
        with lock:
            results.append(rec)
            counter[rec["status"]] += 1
            out.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
            out.flush()
            n = len(results)
            if args.verbose and rec["status"] not in ("pass", "torch_error"):
                print(f"{rec['status']:13} {rec['id']}: {rec.get('message', '')[:150]}", file=sys.stderr)
            if n % 50 == 0 or n == len(chosen):
                el = time.time() - start
                ran = n - len(done)
                eta = el / ran * (len(chosen) - n) if ran else 0
                valid = n - counter["torch_error"]
                print(f"[{n}/{len(chosen)}] {el:.0f}s, eta {eta:.0f}s; pass {counter['pass']}/{valid} "
                      f"({counter['pass'] / max(valid, 1):.1%}) " +
                      " ".join(f"{k}={v}" for k, v in counter.most_common() if k != "pass"),
                      file=sys.stderr, flush=True)

    try:
        with ThreadPoolExecutor(max_workers=jobs) as ex:
            list(ex.map(work, todo))
    except KeyboardInterrupt:
        print("interrupted: partial results kept", file=sys.stderr)
    finally:
        out.close()
        for s in all_servers:
            s.close()
    wall = time.time() - start
    if len(results) < len(chosen) and args.max_minutes:
        selection = (f"{len(results)} cases: the first of {len(chosen)} in a stratified-by-API order "
                     f"(seed {args.seed}) that ran before the {args.max_minutes:g}-minute limit; "
                     f"{len(cases)} cases extracted")
    command = "python benchmarks/apibench/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    prior = {}
    if (args.resume or args.redo) and os.path.exists(run_meta_path):
        with open(run_meta_path) as f:
            prior = json.load(f)
    run_meta = {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "ms_migrate_commit": converter_desc,
        "command": command, "selection": selection, "jobs": jobs, "timeout": args.timeout,
        "wall_s": wall + (prior.get("wall_s", 0) if args.resume or args.redo else 0),
    }
    if args.redo:
        # Put the new records in place of the old ones; the rest of the run stays as it was.
        new_by_id = {r["id"]: r for r in results}
        print(f"redid {len(new_by_id)} cases: " + ", ".join(
            f"{k} {v}" for k, v in collections.Counter(r["status"] for r in results).most_common()),
            file=sys.stderr)
        results = [new_by_id.get(r["id"], r) for r in old_results]
        with open(args.results, "w", encoding="utf-8") as f:
            for r in results:
                f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
        run_meta["selection"] = prior.get("selection", selection)
        run_meta["command"] = f"{prior.get('command', '?')}; then {command}"
    with open(run_meta_path, "w") as f:
        json.dump(run_meta, f)
    counts = collections.Counter(r["status"] for r in results)
    valid = len(results) - counts["torch_error"]
    print(f"{len(results)} cases in {wall:.0f}s: pass {counts['pass']}/{valid} "
          f"({counts['pass'] / max(valid, 1):.1%}); " + ", ".join(f"{k} {v}" for k, v in counts.most_common()),
          file=sys.stderr)
    if args.doc:
        from ms_migrate.tables.load import load_rules
        write_report(results, meta, run_meta, args.doc, args.apis_doc, load_rules())
        print(f"wrote {args.doc} and {args.apis_doc}", file=sys.stderr)
    return 0


def describe_selection(args, n: int, total: int) -> str:
    parts = []
    if args.api_regex:
        parts.append(f"APIs matching `{args.api_regex}`")
    if args.id_regex:
        parts.append(f"ids matching `{args.id_regex}`")
    if args.sample:
        parts.append(f"a sample of {args.sample} stratified by API (seed {args.seed})")
    if args.limit:
        parts.append(f"the first {args.limit}")
    if args.no_disabled:
        parts.append("without PaConvert's disabled tests")
    what = ", ".join(parts) if parts else "all"
    return f"{n} of {total} extracted cases ({what})"


if __name__ == "__main__":
    sys.exit(main())
