"""Training steps: PyTorch's imperative autograd step -> MindSpore's functional one.

    optimizer.zero_grad()                 def forward_fn(x, y):
    out = model(x)                            out = model(x)
    loss = criterion(out, y)       ->         loss = criterion(out, y)
    loss.backward()                           return loss, out
    optimizer.step()                      grad_fn = mindspore.value_and_grad(
                                              forward_fn, None, optimizer.parameters, has_aux=True)
                                          ...
                                          (loss, out), grads = grad_fn(x, y)
                                          optimizer(grads)

For each `loss.backward()` the pass captures, from the statements before it in
its block, those that compute the loss from parameters (graph.py says which
only move data: those stay outside and are passed in). The forward function and
grad_fn are defined once, before the outermost loop around the step where the
optimizer exists; values the loop reads afterwards come back as aux outputs.
When backward() and step() do not pair one to one in one block (gradient
accumulation), the gradients are summed in a tuple that zero_grad() resets.
What cannot be rewritten safely is left in place, marked and reported.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

import libcst as cst

from ...core.callrewrite import args_by_name, code
from ...core.context import Context
from ...core.names import dotted_name
from ...core.positions import RelevantLines
from ...core.quick_libcst import parse_expression
from ...core.report import CONVERTED, GRAPH_MODE, UNSUPPORTED, WARNING, mark_text
from ...core.traversal import FastTransformer, FastVisitor, traverse
from . import emit, leaf_grads
from .edits import Edits, apply_edits, with_note
from .grad_mode import GRAD_MODES
from .graph import DataFlow
from .names import Flows, attribute_targets
from .sites import (
    CLIP_NORM,
    Scope,
    Site,
    Stmt,
    Unsupported,
    bound_names,
    find_sites,
    is_loop,
    is_scaler,
    manual_update,
    optimizer_and_scaler_names,
    scopes,
)

BACKWARD = "Tensor.backward"
STEP = "torch.optim.Optimizer.step"
ZERO_GRAD = "torch.optim.Optimizer.zero_grad"
MODULE_ZERO_GRAD = "torch.nn.Module.zero_grad"
GRAD_READ = "Tensor.grad"
SCALER = "torch.amp.GradScaler"
# Gradient hooks value_and_grad does not run. A Module's backward hooks are
# Cell.register_backward_hook / register_backward_pre_hook, which it runs.
HOOKS = frozenset({"register_hook"})
# The methods of the sites a scope without a backward() reports or drops (clipping
# and update loops count only next to a backward()). No `\b` before: a search that
# starts with a letter of them is far faster, and more lines only cost a little.
_SITE_WORDS = re.compile(r"(?:backward|step|zero_grad|unscale_|update)\b")
# the lines a `.grad` read or a hook stands on (the attribute's name is a word there;
# the line scan finds a pattern led by `\b` by its words first: positions.find_all)
_GRAD_WORDS = re.compile(r"\b(?:%s)\b" % "|".join(["grad", *sorted(HOOKS)]))


@dataclass
class Plan:
    """One backward()/step() pair and what its rewrite needs."""
    backward: Site
    step: Site
    optimizer: str
    loss: cst.BaseExpression
    captured: List[Stmt]
    recomputed: List[Stmt]
    moved: List[Stmt]
    clips: List[Site] = field(default_factory=list)
    hoist: Optional[Stmt] = None            # the loop the definitions go before
    params: List[str] = field(default_factory=list)
    aux: List[str] = field(default_factory=list)
    accumulate: bool = False
    names: Dict[str, str] = field(default_factory=dict)
    branch: Optional[Stmt] = None           # `if training:` around backward(), loss before it
    scaler: Optional[str] = None            # AMP: `scaler.scale(loss).backward()`
    unscale: Optional[Site] = None          # `scaler.unscale_(optimizer)` before the step
    update: Optional[Site] = None           # `scaler.update()` after it
    alternatives: List[Site] = field(default_factory=list)  # updates in the other branches
    weights: str = ""                       # what grad_fn differentiates (source text)


def applies(source: str) -> bool:
    return ".backward(" in source


def convert_training(ctx: Context, module: cst.Module) -> cst.Module:
    pass_ = TrainingPass(ctx, module)
    pass_.check_grad_reads = any(word in ctx.source for word in (".grad", "hook"))
    pass_.run()
    return apply_edits(module, pass_.edits, ctx.lines)


class TrainingPass:
    def __init__(self, ctx: Context, module: cst.Module):
        self.ctx = ctx
        self.module = module
        self.edits = Edits()
        self.check_grad_reads = True
        self.optimizers, self.scalers = optimizer_and_scaler_names(ctx, module)
        self.taken: Set[str] = set()
        self.flows = Flows()  # reads/writes of the statements, worked out once each
        self.weights: Dict[str, str] = {}  # optimizer (or model) -> its parameters' text
        self.manual_loops: Set[int] = set()  # ids of converted update loops
        self.grads_read: Set[int] = set()  # ids of statements whose .grad reads converted
        self.grad_lines = RelevantLines(ctx.lines, _GRAD_WORDS)

    # --- findings ------------------------------------------------------------------
    def report(self, stmt: Stmt, api: str, action: str, message: str, mark: bool = False):
        # Lines come from this pass's own positions: the Converter's numbering of
        # calls (the traversal's Locators) no longer matches once statements move.
        line = self.ctx.lines.line(stmt.node)
        self.ctx.finding(line, api, action, message)
        if mark:
            self.edits.note(stmt, mark_text(f"{api}: {message}"))

    # --- the whole file ---------------------------------------------------------------
    def run(self) -> None:
        # A function whose lines name no site's method (nor .grad, when that is looked
        # for) holds nothing this pass converts or reports: its statements are not listed.
        relevant = RelevantLines(self.ctx.lines, _SITE_WORDS,
                                 *([_GRAD_WORDS] if self.check_grad_reads else []))
        all_scopes = list(scopes(self.module, skips=relevant.skips))
        converted: Dict[str, bool] = {}          # optimizer -> accumulates
        for scope in all_scopes:
            find_sites(self.ctx, scope, self.optimizers, self.scalers)
            for plan in self.convert_scope(scope):
                converted[plan.optimizer] = converted.get(plan.optimizer) or plan.accumulate
            self.mark_grad_reads(scope)
        for scope in all_scopes:  # functions that only zero gradients or only step
            if any(site.kind == "backward" for site in scope.sites):
                continue
            self.mark_unpaired_steps(scope, [])
            for site in scope.sites:
                if site.kind == "zero_grad" and converted.get(site.receiver) is False:
                    self.drop_zero_grad(site, scope)

    def mark_unpaired_steps(self, scope: Scope, plans: List[Plan]) -> None:
        paired = {id(s) for p in plans for s in (p.step, *p.alternatives)}
        for site in scope.sites:
            if site.kind == "step" and id(site) not in paired:
                reason = ("optimizer.step(closure) has no MindSpore equivalent"
                          if site.call.args and site.scaler is None
                          else "no convertible backward() before this step(): MindSpore "
                          "optimizers take the gradients as an argument")
                api = f"{SCALER}.step" if site.scaler else STEP
                self.report(site.stmt, api, UNSUPPORTED, reason, mark=True)
        used = {id(s) for p in plans for s in (p.unscale, p.update) if s is not None}
        for site in scope.sites:
            if site.kind in ("unscale", "update") and id(site) not in used:
                self.report(site.stmt, f"{SCALER}.{site.call.func.attr.value}", UNSUPPORTED,
                            "part of a mixed-precision step that did not convert", mark=True)

    def mark_grad_reads(self, scope: Scope) -> None:
        if not self.check_grad_reads:
            return
        for stmt in scope.stmts:
            if any(id(a) in self.manual_loops for a in stmt.ancestors):
                continue  # `p.grad` of a converted update loop: the grads grad_fn returns
            if id(stmt.node) in self.grads_read:
                continue  # `x.grad` after a backward() without a step: the grads it names
            if isinstance(stmt.node, cst.SimpleStatementLine) \
                    and not self.grad_lines.skips(stmt.node):
                attrs = _attributes(stmt.node)
                if "grad" in attrs:
                    self.report(stmt, GRAD_READ, UNSUPPORTED, "MindSpore parameters have no "
                                ".grad: gradients are the values grad_fn returns", mark=True)
                for hook in HOOKS & attrs:
                    self.report(stmt, f"Tensor.{hook}", UNSUPPORTED, "gradient hooks do not "
                                "carry over to mindspore.value_and_grad", mark=True)

    # --- one scope -------------------------------------------------------------------------
    def convert_scope(self, scope: Scope) -> List[Plan]:
        if not any(s.kind == "backward" for s in scope.sites):
            return []
        flow = DataFlow(self.ctx, [p for p in scope.params if p != "self"],
                        self.flows.writes)
        for stmt in scope.stmts:
            flow.visit(stmt.node)
        plans: List[Plan] = []
        failed: Set[int] = set()  # steps after a backward() that cannot convert
        taken = set(scope.params) | set(self.flows.reads(scope.block)) \
            | self.flows.writes(scope.block)
        for site in scope.sites:
            if site.kind != "backward":
                continue
            if _next_step(scope, site) is None:  # the gradients are read from .grad
                try:
                    leaf_grads.rewrite(self, scope, leaf_grads.plan(self, scope, site), taken)
                except Unsupported as exc:
                    self.report(site.stmt, BACKWARD, UNSUPPORTED, str(exc), mark=True)
                continue
            try:
                plans.append(self.plan(scope, flow, site))
            except Unsupported as exc:
                self.report(site.stmt, BACKWARD, UNSUPPORTED, str(exc), mark=True)
                step = _next_step(scope, site)
                if step is not None and not _reset_between(scope, site, step) \
                        and not _exclusive(site.stmt, step.stmt):
                    failed.add(id(step))
        for plan in [p for p in plans if id(p.step) in failed]:
            plans.remove(plan)  # its gradients mix with ones that cannot be computed
            self.report(plan.backward.stmt, BACKWARD, UNSUPPORTED, "another backward() before "
                        "the same step() cannot convert", mark=True)
        self.mark_unpaired_steps(scope, plans)
        if not plans:
            return []
        self.decide_accumulation(scope, plans)
        self.name(scope, plans)
        for plan in plans:
            self.arguments(scope, plan, plans)
        for plan in plans:
            self.rewrite(scope, plan, plans)
        self.rewrite_zero_grads(scope, plans)
        return plans

    # --- planning -------------------------------------------------------------------------
    def plan(self, scope: Scope, flow: DataFlow, site: Site) -> Plan:
        call = site.call
        for arg in call.args:
            name = arg.keyword.value if arg.keyword else "gradient"
            raise Unsupported(_BACKWARD_ARGS.get(name, f"backward() with {name}="))
        step = _next_step(scope, site)
        if step is None:
            raise Unsupported("no optimizer.step() follows this backward(): only complete "
                              "training steps convert")
        if step.call.args and step.scaler is None and step.kind == "step":
            raise Unsupported("optimizer.step(closure) has no MindSpore equivalent")
        alternatives = _alternatives(scope, site, step)
        manual = [u for u in (step, *alternatives) if u.kind == "manual"]
        if manual and (step.scaler is not None or any(a.scaler for a in alternatives)):
            raise Unsupported("a mixed-precision step next to parameters updated by hand "
                              "does not convert")
        if len({u.receiver for u in manual}) > 1:
            raise Unsupported("the parameters of different models are updated by hand")
        between = [s for s in scope.stmts if site.stmt.order < s.order < step.stmt.order
                   and isinstance(s.node, cst.SimpleStatementLine)]  # nested ones are listed too
        if any("grad" in _attributes(s.node) for s in between):
            raise Unsupported(".grad is read or changed between backward() and step(): "
                              "apply that change to the grads grad_fn returns")
        loss, scaler = _scaled(call.func.value, self.scalers)
        if scaler != step.scaler:
            raise Unsupported("the loss is scaled but the step is not, or the other way round: "
                              "scaler.scale(loss).backward() pairs with scaler.step(optimizer)")
        captured, recomputed, branch = self.capture(scope, flow, site, loss)
        plan = Plan(site, step, step.receiver, loss, captured, recomputed, [], branch=branch,
                    scaler=scaler, alternatives=alternatives)
        # by hand: grad_fn differentiates the model's parameters (an optimizer in another
        # branch is assumed to hold the same ones, in the same order)
        plan.weights = (f"{manual[0].receiver}.trainable_params()" if manual
                        else f"{step.receiver}.parameters")
        if scaler is not None:
            plan.unscale, plan.update = _scaler_sites(scope, plan)
        plan.moved = self.moved_after(scope, plan)
        plan.clips = [s for s in scope.sites if s.kind == "clip"
                      and site.stmt.order < s.stmt.order < step.stmt.order]
        for clip in plan.clips:
            norm_type = _clip_args(clip).get("norm_type")
            if clip.qualified in CLIP_NORM and norm_type is not None and (
                    code(norm_type).strip() not in ("2", "2.0")):
                raise Unsupported("clip_grad_norm_ with norm_type other than 2: MindSpore's "
                                  "ops.clip_by_norm computes another total norm")
        loop = self.hoist_point(site, step.receiver)
        plan.hoist = scope.stmt_of(loop) if loop is not None else None
        return plan

    def capture(self, scope: Scope, flow: DataFlow, site: Site, loss: cst.BaseExpression):
        """The statements that compute the loss, in order; and the `if` that holds
        backward() when the loss is computed before it (`if phase == "train":`)."""
        stmt = site.stmt
        needed = set(self.flows.reads(loss)) | ({_held(loss)} - {None})
        captured, needed = self.capture_before(scope, flow, stmt, needed)
        branch = self.training_branch(scope, flow, stmt, needed)
        if branch is not None:
            if captured:
                raise Unsupported("the loss is computed partly inside the `if` that calls "
                                  "backward(); compute it before the `if` or inside it")
            captured, needed = self.capture_before(scope, flow, branch, needed)
        self.check_outer_blocks(scope, flow, branch or stmt, needed)
        if not captured and not _has_call(loss):
            raise Unsupported("the loss is not computed in this function before backward(): "
                              "MindSpore needs the computation inside the forward function")
        barrier = max((index for s in scope.sites if s.kind in ("backward", "step")
                       for index in [_index_in(scope, s.stmt, stmt.block)]
                       if index is not None and index < stmt.index), default=-1)
        recomputed = [s for s in captured if s.block is stmt.block and s.index < barrier]
        return captured, recomputed, branch

    def capture_before(self, scope: Scope, flow: DataFlow, at: Stmt, needed: Set[str]):
        """Statements before `at` in its block that compute `needed`; what is still needed.
        Data that reads what a captured statement computes (`torch.ones(out.size(0))`
        after `out = model(x)`) cannot be made outside: it is captured too."""
        forced: Set[int] = set()
        while True:
            captured, rest, data = self._capture_before(scope, flow, at, needed, forced)
            late = {id(node) for index, node in data
                    if set(self.flows.reads(node)) & set().union(
                        *(self.flows.writes(s.node) for s in captured if s.index < index))}
            if not late:
                return captured, rest
            forced |= late

    def _capture_before(self, scope: Scope, flow: DataFlow, at: Stmt, needed: Set[str],
                        forced: Set[int]):
        block = at.block.body
        captured: List[Stmt] = []
        data = []
        for index in range(at.index - 1, -1, -1):
            node = block[index]
            bound = self.flows.writes(node) | attribute_targets(node)
            if not bound & needed:
                continue
            if flow.is_data.get(id(node)) and id(node) not in forced:
                needed = needed - bound  # data made outside the forward function: an argument
                data.append((index, node))
                continue
            if _contains_site(scope, node):
                raise Unsupported("the loss is computed in a block that also runs a "
                                  "backward() or step()")
            captured.append(scope.stmt_of(node))
            needed = (needed - bound) | set(self.flows.reads(node))
        captured.reverse()
        return captured, needed, data

    def training_branch(self, scope: Scope, flow: DataFlow, stmt: Stmt,
                        needed: Set[str]) -> Optional[Stmt]:
        """The `if` whose body calls backward() on a loss computed just before the `if`.
        It may hold backward() in an `if` of its own (`if train:` / `if use_amp:` ...
        `else:`) when every branch of that inner `if` calls a backward()."""
        inner: List[Stmt] = []
        at = stmt
        while at.ancestors and isinstance(at.ancestors[-1], cst.If):
            branch = scope.stmt_of(at.ancestors[-1])
            orelse = branch.node.orelse
            if isinstance(orelse, cst.If):
                return None
            if at.block is not branch.node.body and not (
                    isinstance(orelse, cst.Else) and at.block is orelse.body):
                return None
            before = branch.block.body[:branch.index]
            if any(self.flows.writes(n) & needed and not flow.is_data.get(id(n))
                   for n in before):
                if not all(_backward_in_every_branch(scope, level) for level in inner):
                    return None
                return branch
            inner.append(branch)
            at = branch
        return None

    def check_outer_blocks(self, scope: Scope, flow: DataFlow, stmt: Stmt, needed: Set[str]):
        """The loss must not depend on graph values computed around backward()'s block."""
        inner = [a for a in stmt.ancestors]
        loops = [i for i, a in enumerate(inner) if is_loop(a)]
        same_iteration = inner[loops[-1] + 1:] if loops else inner
        for ancestor in same_iteration:
            outer = scope.stmt_of(ancestor)
            for node in outer.block.body[:outer.index]:
                if self.flows.writes(node) & needed and not flow.is_data.get(id(node)):
                    raise Unsupported(
                        "the loss is computed outside the block that calls backward(); "
                        "move backward() and step() next to the loss")

    def moved_after(self, scope: Scope, plan: Plan) -> List[Stmt]:
        """Statements between the captured ones that read their results: after grad_fn."""
        taken = [s for s in plan.captured if s not in plan.recomputed]
        if not taken:
            return []
        produced = set().union(*(self.flows.writes(s.node) for s in taken))
        anchor = plan.branch or plan.backward.stmt
        block = anchor.block.body
        moved = []
        for index in range(taken[0].index + 1, anchor.index):
            stmt = scope.stmt_of(block[index])
            if stmt in taken or _contains_site(scope, stmt.node):
                continue
            if set(self.flows.reads(stmt.node)) & produced:
                moved.append(stmt)
                produced |= self.flows.writes(stmt.node)
        return moved

    def hoist_point(self, site: Site, optimizer: str) -> Optional[Stmt]:
        """Outermost loop around the step that the optimizer exists before; None: no loop."""
        root = optimizer.split(".", 1)[0]
        for ancestor in site.stmt.ancestors:
            if is_loop(ancestor) and root not in bound_names(ancestor, self.flows.writes):
                return ancestor
        return None

    def decide_accumulation(self, scope: Scope, plans: List[Plan]) -> None:
        """One backward per step in one block, zeroed every iteration: plain. Else summed."""
        per_step = Counter(id(p.step) for p in plans)
        for plan in plans:
            b, s = plan.backward.stmt, plan.step.stmt
            paired = (b.block is s.block or _always_updates(scope, plan)) \
                and per_step[id(plan.step)] == 1
            plan.accumulate = not paired or not self.zeroed_each_time(scope, plan)

    def zeroed_each_time(self, scope: Scope, plan: Plan) -> bool:
        zeros = [s for s in scope.sites if s.kind == "zero_grad"
                 and (s.receiver == plan.optimizer or not _is_known(s.receiver, scope))]
        loops = [a for a in plan.backward.stmt.ancestors if is_loop(a)]
        if not loops:
            if not zeros:
                self.report(plan.backward.stmt, BACKWARD, WARNING, "no zero_grad() here: torch "
                            "would add these gradients to earlier ones; grad_fn returns this "
                            "step's only", mark=True)
            return True
        inner = loops[-1]
        return any(any(a is inner for a in z.stmt.ancestors) for z in zeros)

    def name(self, scope: Scope, plans: List[Plan]) -> None:
        # Names this scope uses are taken (a new local only hides what the scope reads).
        self.taken = set(scope.params) | set(self.flows.reads(scope.block)) | self.flows.writes(scope.block)
        used: Set[str] = set()
        optimizers = list(dict.fromkeys(p.optimizer for p in plans))
        per_optimizer = Counter(p.optimizer for p in plans)
        seen: Counter = Counter()
        for plan in plans:
            suffix = ""
            if len(optimizers) > 1:
                suffix = "_" + _tag(plan.optimizer, optimizers.index(plan.optimizer))
            seen[plan.optimizer] += 1
            if per_optimizer[plan.optimizer] > 1:
                suffix += f"_{seen[plan.optimizer]}"
            fresh = lambda base: self.fresh(base, used)  # noqa: E731
            plan.names = {"forward": fresh("forward_fn" + suffix),
                          "grad_fn": fresh("grad_fn" + suffix), "grads": "grads",
                          "loss": _name_of(plan.loss) or _held(plan.loss)
                          or self.fresh("loss", used)}
            if "grads" in self.taken:
                plan.names["grads"] = fresh("grads")
            if plan.scaler is not None:
                plan.names["finite"] = fresh("is_finite")
            if self.ctx.facts.data_parallel:
                plan.names["reducer"] = fresh("grad_reducer" + suffix)
            if self.ctx.jit:
                plan.names["step"] = fresh("train_step" + suffix)
        accumulators: Dict[str, str] = {}
        for plan in plans:
            if plan.accumulate:
                if plan.optimizer not in accumulators:
                    tag = "_" + _tag(plan.optimizer, 0) if len(optimizers) > 1 else ""
                    accumulators[plan.optimizer] = self.fresh("accum_grads" + tag, used)
                plan.names["accum"] = accumulators[plan.optimizer]

    def unwrapped(self, nodes: List[cst.CSTNode]) -> List[cst.CSTNode]:
        """`with torch.set_grad_enabled(train):` around the loss: the grad-mode pass
        removes it from the forward function, so `train` is no argument of it."""
        out: List[cst.CSTNode] = []
        for node in nodes:
            if isinstance(node, cst.With) and all(
                    isinstance(item.item, cst.Call) and item.asname is None
                    and self.ctx.resolve(item.item.func) in GRAD_MODES for item in node.items):
                out.extend(node.body.body)
            else:
                out.append(node)
        return out

    def fresh(self, base: str, used: Set[str]) -> str:
        name, n = base, 1
        while name in self.taken or name in used:
            n += 1
            name = f"{base}{n}"
        used.add(name)
        return name

    def arguments(self, scope: Scope, plan: Plan, plans: List[Plan]) -> None:
        """Forward parameters (per-step values) and aux outputs (read after the step)."""
        body = [s.node for s in plan.captured]
        free = self.flows.free_reads([*self.unwrapped(body), plan.loss])
        produced = set().union(*(self.flows.writes(n) for n in body)) if body else set()
        if plan.hoist is not None:
            varying = bound_names(plan.hoist.node, self.flows.writes)
        else:  # defined right before the call: names of the function that are values
            varying = (set(scope.params) | self.flows.writes(scope.block)) & self.flows.plain_uses(
                cst.Module(body=[*body, statement_of(plan.loss)]))
            varying.discard("self")
        plan.params = [n for n in free if n in varying or n in produced]
        region = plan.hoist.node if plan.hoist is not None else scope.block
        outside = Counter(self.flows.reads(region))
        if plan.hoist is not None:  # read after the loop: `return out`, `print(i)`
            outside.update(n for node in _after(scope, plan.hoist)
                           for n in self.flows.reads(node))
        for node in [*(s.node for p in plans for s in p.captured if s not in p.recomputed),
                     plan.backward.stmt.node]:
            outside.subtract(self.flows.reads(node))
        later = [n for p in plans if p is not plan
                 for n in self.flows.free_reads([s.node for s in p.captured])]
        loss = plan.names["loss"]
        carried = set(plan.params) & produced  # rebound inside: the next step reads it
        plan.aux = [n for n in dict.fromkeys(w for node in body for w in self.flows.ordered_writes(node))
                    if n != loss and (outside[n] > 0 or n in later or n in carried)]

    # --- rewriting ------------------------------------------------------------------------------
    def rewrite(self, scope: Scope, plan: Plan, plans: List[Plan]) -> None:
        n, edits, b = plan.names, self.edits, plan.backward.stmt
        returns = [code(plan.loss).strip() if _name_of(plan.loss) is None else n["loss"]]
        if plan.scaler is not None:  # differentiate the scaled loss, as scaler.scale() did
            returns[0] = f"{plan.scaler}.scale({returns[0]})"
        recomputed = mark_text(f"{BACKWARD}: computed again here ({RECOMPUTED})")
        body = [with_note(s.node, recomputed) if s in plan.recomputed else s.node
                for s in plan.captured]
        forward = emit.forward_def(n["forward"], plan.params, body, [*returns, *plan.aux])
        self.weights.setdefault(plan.optimizer, plan.weights)
        definitions: List[cst.BaseStatement] = [
            forward, emit.grad_fn_def(self.ctx, n["grad_fn"], n["forward"], plan.weights,
                                      bool(plan.aux))]
        if "reducer" in n:  # the model was wrapped in DistributedDataParallel
            definitions.append(emit.statement(
                emit.grad_reducer_def(self.ctx, n["reducer"], plan.weights)))
        if plan.accumulate and self.needs_initial_sum(scope, plan, plans):
            definitions.append(emit.statement(
                emit.zeros_like_params(self.ctx, n["accum"], plan.weights)))
        for stmt in plan.captured:
            if stmt not in plan.recomputed:
                edits.take.add(id(stmt.node))
        for stmt in plan.moved:
            edits.take.add(id(stmt.node))
        call = emit.grad_call(b.node, n["loss"], plan.aux, n["grads"], n["grad_fn"], plan.params)
        after = [call]
        if "reducer" in n:  # as DDP's backward(): averaged before clipping or unscaling
            after.append(emit.statement(f"{n['grads']} = {n['reducer']}({n['grads']})"))
        if plan.scaler is not None and _name_of(plan.loss) is not None:
            after.append(emit.statement(f"{n['loss']} = {plan.scaler}.unscale({n['loss']})"))
        if plan.accumulate:
            after.append(emit.statement(emit.accumulate(n["accum"], n["grads"])))
        if plan.branch is None:
            after.extend(s.node for s in plan.moved)
        else:  # the other branch still computes the loss, without gradients
            other = [emit.statement(emit.forward_call(n["loss"], plan.aux, n["forward"],
                                                      plan.params))]
            top, held = plan.branch.node, _branch_of(plan.branch.node, b)
            if any(p.branch is not None and p.branch.node is top
                   and _branch_of(top, p.backward.stmt) is not held for p in plans):
                pass  # `if fp16: ...backward() else: loss.backward()`: it has its own grad_fn
            elif held is top.body:
                edits.orelse[id(top)] = other
            else:  # backward() in the `else`: the `if` branch starts with the loss
                edits.before.setdefault(id(top.body.body[0]), []).extend(other)
            edits.after[id(plan.branch.node)] = [s.node for s in plan.moved]
        if self.ctx.jit and self.compiled_step(scope, plan, plans, definitions, after):
            return
        # before the loop; else before the `if` whose other branch computes the loss too
        edits.insert_before(plan.hoist or plan.branch or b, definitions)
        edits.replace[id(b.node)] = after
        grads = n.get("accum", n["grads"]) if plan.accumulate else n["grads"]
        self.rewrite_clips(plan, grads)
        if plan.scaler is not None:
            self.rewrite_scaled_step(plan, grads)
        for update in (plan.step, *plan.alternatives):
            if update.kind == "manual":
                edits.replace[id(update.stmt.node)] = [
                    manual_update_with(self.ctx, update.stmt.node, grads)]
                self.manual_loops.add(id(update.stmt.node))
                self.manual_loops.update(id(n) for n in update.stmt.node.body.body)
                self.report(update.stmt, GRAD_READ, CONVERTED,
                            f"-> the gradients in {grads}, in the order of {plan.weights}")
            elif update.scaler is None:
                edits.replace[id(update.stmt.node)] = [
                    emit.replace_line(update.stmt.node, f"{update.receiver}({grads})")]
                if plan.weights != f"{update.receiver}.parameters":
                    self.report(update.stmt, STEP, WARNING,
                                f"-> {update.receiver}({grads}); assumed {update.receiver} "
                                f"holds {plan.weights}, in that order")
        how = "summed over backward() calls (gradient accumulation)" if plan.accumulate else ""
        self.report(b, BACKWARD, CONVERTED,
                    f"-> mindspore.value_and_grad: {n['forward']} + {n['grad_fn']}"
                    + (f"; {how}" if how else ""))
        if plan.step.kind == "step":
            self.report(plan.step.stmt, STEP, CONVERTED, f"-> {plan.optimizer}({grads})")
        for stmt in plan.recomputed:
            self.report(stmt, BACKWARD, WARNING, f"computed again in {n['forward']} "
                        f"({RECOMPUTED})")

    def compiled_step(self, scope: Scope, plan: Plan, plans: List[Plan],
                      definitions: List[cst.BaseStatement],
                      after: List[cst.BaseStatement]) -> bool:
        """`--jit`: grad_fn, clipping and optimizer(grads) in a `@mindspore.jit` function
        defined once before the loop; False (and why, reported) where it cannot be."""
        reason = self.not_compiled(scope, plan, plans)
        b, n = plan.backward.stmt, plan.names
        if reason is not None:
            self.report(b, GRAPH_MODE, WARNING, f"training step not compiled: {reason}")
            return False
        body = [code(after[0]).strip()]  # `(loss, out), grads = grad_fn(x, y)`
        results = [n["loss"], *plan.aux]
        for clip in plan.clips:
            args = _clip_args(clip)
            if clip.qualified in CLIP_NORM:
                result = code(clip.result).strip() if clip.result is not None else None
                body.extend(emit.clip_norm(self.ctx, n["grads"],
                                           code(args["max_norm"]).strip(), result))
                results.extend([result] if result is not None else [])
            else:
                body.append(emit.clip_value(self.ctx, n["grads"], args["clip_value"]))
            self.edits.remove.add(id(clip.stmt.node))
            self.report(clip.stmt, clip.qualified, CONVERTED,
                        f"-> clipped {n['grads']} in {n['step']}; assumed the clipped "
                        f"parameters are {plan.optimizer}'s")
        body.append(f"{plan.optimizer}({n['grads']})")
        jit = emit.ms_name(self.ctx, "mindspore.jit")
        definitions.append(emit.train_step_def(jit, n["step"], plan.params, body, results))
        self.edits.insert_before(plan.hoist, definitions)
        call = emit.replace_line(b.node, emit.forward_call(results[0], results[1:], n["step"],
                                                           plan.params))
        self.edits.replace[id(b.node)] = [call, *after[1:]]
        self.edits.remove.add(id(plan.step.stmt.node))
        self.report(b, BACKWARD, CONVERTED, f"-> mindspore.value_and_grad: {n['forward']} + "
                    f"{n['grad_fn']}, compiled with optimizer({n['grads']}) in "
                    f"{n['step']} (@mindspore.jit)")
        self.report(plan.step.stmt, STEP, CONVERTED,
                    f"-> {plan.optimizer}({n['grads']}) in {n['step']}")
        return True

    def not_compiled(self, scope: Scope, plan: Plan, plans: List[Plan]) -> Optional[str]:
        """Why this step cannot be one `@mindspore.jit` function; None: it can."""
        if plan.hoist is None:
            root = scope.root
            where = f"`{root.name.value}`" if isinstance(root, cst.FunctionDef) else "the module"
            return (f"no loop around it in {where}: a step compiled there would be compiled "
                    "again at every call (--jit compiles the model's construct where the model "
                    "is defined; to compile the whole step, define grad_fn and a "
                    "@mindspore.jit step once, where the model and optimizer are built)")
        if _held(plan.loss) is not None:
            return f"the loss is kept in an attribute ({_held(plan.loss)})"
        if plan.step.kind != "step":
            return "the parameters are updated by hand (a loop over them), not by an optimizer"
        if plan.alternatives:
            return "another branch steps another optimizer with these gradients"
        if plan.accumulate:
            return "gradients are accumulated over several backward() calls"
        if plan.scaler is not None:
            return "mixed-precision loss scaling decides in Python whether to step"
        if plan.branch is not None:
            return "backward() runs only in one branch of an `if`"
        if len({p.optimizer for p in plans}) > 1:
            return ("several optimizers step here (several models, as in a GAN): one "
                    "compiled step needs every parameter name in it to be unique, and models "
                    "with the same layer names share them (measured: \"its name "
                    "'main.0.weight' already exists\"); each model's construct is compiled")
        if "reducer" in plan.names:
            return "the gradients are averaged across processes (data parallel)"
        b, s = plan.backward.stmt.order, plan.step.stmt.order
        clips = {id(c.stmt.node) for c in plan.clips}
        between = [x for x in scope.stmts if b < x.order < s and id(x.node) not in clips]
        if between:
            return ("statements run between backward() and step() "
                    f"(line {self.ctx.lines.line(between[0].node)})")
        return None

    def rewrite_scaled_step(self, plan: Plan, grads: str) -> None:
        """unscale_ -> unscale + finiteness check; step only when finite; update -> adjust."""
        scaler, finite = plan.scaler, plan.names["finite"]
        check = emit.unscale(self.ctx, scaler, grads, finite)
        if plan.unscale is not None:  # where torch unscales: clipping comes after it
            self.replace(plan.unscale.stmt, check)
            self.report(plan.unscale.stmt, f"{SCALER}.unscale_", CONVERTED,
                        f"-> {grads} = {scaler}.unscale({grads})")
            check = []
        self.replace(plan.step.stmt, [*check, f"if {finite}:\n    {plan.optimizer}({grads})"])
        self.report(plan.step.stmt, f"{SCALER}.step", CONVERTED,
                    f"-> {plan.optimizer}({grads}) when amp.all_finite({grads})")
        if plan.update is not None:
            self.replace(plan.update.stmt, [f"{scaler}.adjust({finite})"])
            self.report(plan.update.stmt, f"{SCALER}.update", CONVERTED,
                        f"-> {scaler}.adjust({finite})")

    def replace(self, stmt: Stmt, texts: List[str]) -> None:
        """A statement replaced by new ones; its comments go with the first."""
        new = [emit.statement(t) for t in texts]
        new[0] = new[0].with_changes(leading_lines=stmt.node.leading_lines)
        comment = stmt.node.trailing_whitespace  # `scaler.step(opt)  # note` keeps its note
        if isinstance(new[-1], cst.If):  # on `if is_finite:`
            new[-1] = new[-1].with_changes(body=new[-1].body.with_changes(header=comment))
        else:
            new[0] = new[0].with_changes(trailing_whitespace=comment)
        self.edits.replace[id(stmt.node)] = new

    def needs_initial_sum(self, scope: Scope, plan: Plan, plans: List[Plan]) -> bool:
        """Start the sum with the definitions, unless a zero_grad() surely runs first."""
        first = next(p for p in plans if p.optimizer == plan.optimizer)
        if first is not plan:
            return False  # one sum per optimizer
        b = plan.backward.stmt
        enclosing = [b.block] + [scope.stmt_of(a).block for a in b.ancestors]
        return not any(s.kind == "zero_grad" and s.stmt.order < b.order
                       and any(s.stmt.block is block for block in enclosing)
                       and (s.receiver == plan.optimizer or not _is_known(s.receiver, scope))
                       for s in scope.sites)

    def rewrite_clips(self, plan: Plan, grads: str) -> None:
        for clip in plan.clips:
            args = _clip_args(clip)
            if clip.qualified in CLIP_NORM:
                result = code(clip.result).strip() if clip.result is not None else None
                texts = emit.clip_norm(self.ctx, grads, code(args["max_norm"]).strip(), result)
            else:
                texts = [emit.clip_value(self.ctx, grads, args["clip_value"])]
            first = emit.replace_line(clip.stmt.node, texts[0])
            self.edits.replace[id(clip.stmt.node)] = [first] + [emit.statement(t)
                                                             for t in texts[1:]]
            self.report(clip.stmt, clip.qualified, CONVERTED,
                        f"-> clipped {grads}; assumed the clipped parameters are "
                        f"{plan.optimizer}'s")

    def rewrite_zero_grads(self, scope: Scope, plans: List[Plan]) -> None:
        summed = {p.optimizer: p.names["accum"] for p in plans if p.accumulate}
        converted = {u.receiver for p in plans for u in (p.step, *p.alternatives)}
        for site in scope.sites:
            if site.kind != "zero_grad":
                continue
            if site.receiver in summed:
                targets = [site.receiver]
            elif not _is_known(site.receiver, scope) and site.receiver not in self.optimizers:
                targets = list(summed)  # model.zero_grad() resets every sum
            else:
                targets = []
            if targets:
                self.edits.replace[id(site.stmt.node)] = [
                    emit.replace_line(site.stmt.node, emit.zeros_like_params(
                        self.ctx, summed[targets[0]], self.weights[targets[0]]))] + [
                    emit.statement(emit.zeros_like_params(self.ctx, summed[t], self.weights[t]))
                    for t in targets[1:]]
                self.report(site.stmt, self.zero_grad_api(site, scope), CONVERTED,
                            "-> the gradient sum restarts")
            elif site.receiver in converted or not (
                    _is_known(site.receiver, scope) or site.receiver in self.optimizers):
                self.drop_zero_grad(site, scope)  # the optimizer's, or a model's zero_grad()

    def zero_grad_api(self, site: Site, scope: Scope) -> str:
        known = site.receiver in self.optimizers or any(
            s.kind == "step" and s.receiver == site.receiver for s in scope.sites)
        return ZERO_GRAD if known else MODULE_ZERO_GRAD

    def drop_zero_grad(self, site: Site, scope: Scope) -> None:
        self.edits.remove.add(id(site.stmt.node))
        self.report(site.stmt, self.zero_grad_api(site, scope), CONVERTED,
                    "removed: grad_fn returns fresh gradients at every step")


_BACKWARD_ARGS = {
    "gradient": "backward() of a non-scalar (with gradient=) has no value_and_grad form here",
    "retain_graph": "retain_graph=True: MindSpore reruns the forward function in each "
                    "grad_fn call; restructure so each loss is differentiated once",
    "create_graph": "create_graph=True (higher-order gradients) does not convert",
    "inputs": "backward(inputs=...) does not convert",
}


RECOMPUTED = "only what runs inside grad_fn is differentiated; dropout and batch norm run once more"


# --- small helpers -----------------------------------------------------------------------
def statement_of(expr: cst.BaseExpression) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(body=[cst.Expr(expr)])


def _name_of(expr: cst.BaseExpression) -> Optional[str]:
    return expr.value if isinstance(expr, cst.Name) else None


def _held(expr: cst.BaseExpression) -> Optional[str]:
    """`self.loss`: a loss kept in an attribute (assigned by the step, read after it)."""
    return dotted_name(expr) if isinstance(expr, cst.Attribute) else None


def _after(scope: Scope, stmt: Stmt) -> List[cst.CSTNode]:
    """The statements of the scope's body after the one that is or holds `stmt`."""
    top = scope.stmt_of(stmt.ancestors[0]) if stmt.ancestors else stmt
    return list(scope.block.body[top.index + 1:])


def _next_step(scope: Scope, site: Site) -> Optional[Site]:
    """The first update after a backward(): optimizer.step() or a loop updating by hand."""
    return next((s for s in scope.sites if s.kind in ("step", "manual")
                 and s.stmt.order > site.stmt.order), None)


def _index_in(scope: Scope, stmt: Stmt, block: cst.CSTNode) -> Optional[int]:
    """Index in `block` of the statement that is or holds `stmt`; None: not in it."""
    if stmt.block is block:
        return stmt.index
    outer = next((scope.stmt_of(a) for a in stmt.ancestors
                  if scope.stmt_of(a).block is block), None)
    return outer.index if outer is not None else None


def _exclusive(a: Stmt, b: Stmt) -> bool:
    """`a` and `b` in different branches of one `if`: never both run."""
    for node in a.ancestors:
        if isinstance(node, cst.If) and any(x is node for x in b.ancestors) \
                and _branch_of(node, a) is not _branch_of(node, b):
            return True
    return False


def _branch_of(top: cst.If, stmt: Stmt):
    """The block of `top` (its body or an else/elif body) that holds `stmt`."""
    node = top
    while node is not None:
        block = node.body
        if block is stmt.block or any(_holds(block, a) for a in stmt.ancestors):
            return block
        node = node.orelse if isinstance(node, cst.If) else None
    return None


def _backward_in_every_branch(scope: Scope, branch: Stmt) -> bool:
    """`if use_amp: scaler.scale(loss).backward() ... else: loss.backward() ...`: each
    branch of the `if` (an else included) calls a backward()."""
    node = branch.node
    if not isinstance(node.orelse, cst.Else):
        return False
    held = {id(_branch_of(node, s.stmt)) for s in scope.sites if s.kind == "backward"
            and any(a is node for a in s.stmt.ancestors)}
    return {id(node.body), id(node.orelse.body)} <= held


def _holds(block: cst.CSTNode, node: cst.CSTNode) -> bool:
    return any(s is node for s in getattr(block, "body", ()))


def _reset_between(scope: Scope, backward: Site, step: Site) -> bool:
    """A zero_grad() of the step's optimizer (or a model's) that always runs between
    `backward` and `step`: the gradients `backward` left never reach that step."""
    enclosing = [step.stmt.block] + [scope.stmt_of(a).block for a in step.stmt.ancestors]
    return any(s.kind == "zero_grad" and backward.stmt.order < s.stmt.order < step.stmt.order
               and any(s.stmt.block is block for block in enclosing)
               and (s.receiver == step.receiver or not _is_known(s.receiver, scope))
               for s in scope.sites)


def _alternatives(scope: Scope, backward: Site, step: Site) -> List[Site]:
    """Updates in the other branches of the `if` whose branch holds `step`
    (`if use_optimizer: optimizer.step()` / `else: for p in model.parameters(): ...`)."""
    found: List[Site] = []
    branches = _branches(step.stmt)
    if branches is None:
        return found
    for s in scope.sites:
        if s is step or s.kind not in ("step", "manual") or s.stmt.order < backward.stmt.order:
            continue
        if _branches(s.stmt) is not None and _branches(s.stmt)[0] is branches[0] \
                and _branches(s.stmt)[1] is not branches[1]:
            found.append(s)
    return found


def _branches(stmt: Stmt):
    """(the `if` whose branch directly holds `stmt`, that branch's block), or None."""
    if not stmt.ancestors or not isinstance(stmt.ancestors[-1], cst.If):
        return None
    top = stmt.ancestors[-1]
    # an `elif` chain is nested If nodes: the outermost one in the same statement
    for ancestor in reversed(stmt.ancestors[:-1]):
        if isinstance(ancestor, cst.If) and isinstance(ancestor.orelse, cst.If) and \
                _in_chain(ancestor, top):
            top = ancestor
        else:
            break
    return top, stmt.block


def _in_chain(first: cst.If, node: cst.If) -> bool:
    while isinstance(first, cst.If):
        if first is node:
            return True
        first = first.orelse
    return False


def _always_updates(scope: Scope, plan: Plan) -> bool:
    """Every branch of the `if` right after backward()'s block updates the parameters."""
    branches = _branches(plan.step.stmt)
    if branches is None or not plan.alternatives:
        return False
    top = branches[0]
    if top.orelse is None or scope.stmt_of(top).block is not plan.backward.stmt.block:
        return False
    blocks = {id(plan.step.stmt.block)} | {id(a.stmt.block) for a in plan.alternatives}
    node = top
    while isinstance(node, cst.If):
        if id(node.body) not in blocks:
            return False
        node = node.orelse
    return node is None or (isinstance(node, cst.Else) and id(node.body) in blocks)


_AUGMENTED = {cst.SubtractAssign: "-", cst.AddAssign: "+", cst.MultiplyAssign: "*",
              cst.DivideAssign: "/"}


def manual_update_with(ctx: Context, node: cst.CSTNode, grads: str) -> cst.CSTNode:
    """`for p in m.parameters(): ... p.grad ...` -> `for p, grad in zip(m.parameters(),
    grads): ... grad ...` (inside its `with` when it has one). `p -= x` rebinds the
    loop variable in MindSpore: it becomes `ops.assign(p, p - x)`."""
    loop, call = manual_update(node)
    variable = loop.target.value
    flows = Flows()
    used = set(flows.reads(loop)) | flows.writes(loop)
    name = next(n for n in ("grad", "g", "grad_", "p_grad") if n not in used)
    target = cst.Tuple([cst.Element(loop.target), cst.Element(cst.Name(name))], lpar=[], rpar=[])
    zipped = cst.Call(cst.Name("zip"), [cst.Arg(call, comma=cst.Comma(
        whitespace_after=cst.SimpleWhitespace(" "))), cst.Arg(cst.Name(grads))])
    new_loop = loop.with_changes(target=target, iter=zipped,
                                 body=loop.body.visit(_Grad(ctx, variable, name)))
    if node is loop:
        return new_loop
    return node.with_changes(body=node.body.with_changes(body=[new_loop]))


class _Grad(FastTransformer):
    """`<variable>.grad` -> `name`; `<variable> -= x` -> `ops.assign(...)`."""

    def __init__(self, ctx: Context, variable: str, name: str):
        super().__init__()
        self.ctx = ctx
        self.variable = variable
        self.name = name

    def leave_Attribute(self, original, updated):
        if (original.attr.value == "grad" and isinstance(original.value, cst.Name)
                and original.value.value == self.variable):
            return cst.Name(self.name)
        return updated

    def leave_AugAssign(self, original, updated):
        variable = self.variable
        target = updated.target
        if isinstance(target, cst.Attribute) and target.attr.value == "data":
            target = target.value
        op = _AUGMENTED.get(type(updated.operator))
        if not (isinstance(target, cst.Name) and target.value == variable) or op is None:
            return updated
        value = updated.value
        text = code(value).strip()
        if not isinstance(value, (cst.Name, cst.Attribute, cst.Call, cst.Subscript,
                                  cst.Integer, cst.Float)) and not (
                op in "+-" and isinstance(value, cst.BinaryOperation)
                and isinstance(value.operator, (cst.Multiply, cst.Divide))):
            text = f"({text})"
        assign = emit.ms_name(self.ctx, "mindspore.ops.assign")
        return cst.Expr(parse_expression(f"{assign}({variable}, {variable} {op} {text})"))


def _scaled(loss: cst.BaseExpression, scalers: Set[str]):
    """`scaler.scale(loss)` -> (loss, "scaler"); anything else -> (it, None)."""
    if (isinstance(loss, cst.Call) and isinstance(loss.func, cst.Attribute)
            and loss.func.attr.value == "scale" and len(loss.args) == 1
            and loss.args[0].keyword is None):
        scaler = dotted_name(loss.func.value)
        if is_scaler(scaler, scalers):
            return loss.args[0].value, scaler
    return loss, None


def _scaler_sites(scope: Scope, plan: Plan):
    """This step's `scaler.unscale_(optimizer)` (between backward and step) and the
    `scaler.update()` after it."""
    b, s = plan.backward.stmt.order, plan.step.stmt.order
    unscale = next((x for x in scope.sites if x.kind == "unscale" and x.scaler == plan.scaler
                    and x.receiver == plan.optimizer and b < x.stmt.order < s), None)
    update = next((x for x in scope.sites if x.kind == "update" and x.scaler == plan.scaler
                   and x.stmt.order > s), None)
    return unscale, update


def _contains_site(scope: Scope, node: cst.CSTNode) -> bool:
    return any(s.stmt.node is node or any(a is node for a in s.stmt.ancestors)
               for s in scope.sites if s.kind in ("backward", "step"))


def _is_known(receiver: Optional[str], scope: Scope) -> bool:
    """Is `receiver` of a zero_grad() an optimizer stepped in this scope?"""
    return any(s.kind in ("step", "manual") and s.receiver == receiver for s in scope.sites)


def _tag(optimizer: str, index: int) -> str:
    """`opt_D` -> "d", `self.g_optimizer` -> "g": a suffix for per-optimizer names."""
    last = optimizer.rsplit(".", 1)[-1].lower()
    for word in ("optimizer", "optim", "opt"):
        last = last.replace(word, "")
    last = last.strip("_")
    return last if last.isidentifier() else str(index + 1)


def _has_call(node: cst.CSTNode) -> bool:
    finder = _FindCall()
    traverse(node, finder)
    return finder.found


class _FindCall(FastVisitor):
    found = False

    def visit_Call(self, call):
        self.found = True
        return False


def _attributes(node: cst.CSTNode) -> Set[str]:
    finder = _AttributeNames()
    traverse(node, finder)
    return finder.found


class _AttributeNames(FastVisitor):
    def __init__(self):
        super().__init__()
        self.found: Set[str] = set()

    def visit_Attribute(self, attr):
        self.found.add(attr.attr.value)


def _clip_args(clip: Site) -> Dict[str, cst.BaseExpression]:
    names = (["parameters", "max_norm", "norm_type"] if clip.qualified in CLIP_NORM
             else ["parameters", "clip_value"])
    return args_by_name(clip.call, names)
