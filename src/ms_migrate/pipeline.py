"""The conversion pipeline, in the order it runs.

    source -> parse -> names (core/names.py: which names are torch's)
           -> statement passes below, each only where its text test matches
           -> one traversal (engine.Converter): table rules, Module classes, marks
           -> imports (passes/imports.py) -> code + report

A statement pass restructures statements that the table rules cannot see whole
(a training loop, a data pipeline, a `.to(device)` chain). Each has an id that users
name in `--select`/`--disable`, a cheap text test, and the facts (core/facts.py) it
provides for later passes or needs from earlier ones. Adding a pass is writing its
module (an `applies(source)` test and a `(ctx, module) -> module` function) and one
line here; docs/architecture.md shows one worked through.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Tuple

import libcst as cst

from .core.context import Context
from .core.facts import Facts
from .core.rule import RuleSet
from .passes import (
    amp,
    autocast_regions,
    checkpoint_dicts,
    closure_steps,
    container_dicts,
    custom_functions,
    custom_optimizers,
    einops_backend,
    data,
    data_subclasses,
    declared_layers,
    default_dtypes,
    devices,
    distributed,
    export,
    feature_probes,
    finfo_floats,
    first_parameter,
    foreach,
    format_specs,
    fresh_inplace,
    frozen_norms,
    graph_mode,
    image_grid,
    implicit_dims,
    index_dtypes,
    input_grads,
    layer_attributes,
    model_zoo,
    layout_calls,
    learning_rates,
    legacy_tensors,
    named_layers,
    object_saves,
    optimizer_types,
    out_args,
    packed_sequences,
    parameter_lists,
    pickled_models,
    pretrained_embeddings,
    region_contexts,
    reshape_inplace,
    scheduler_subclasses,
    seeded_generators,
    summary_writers,
    tensor_augmentations,
    torch_asserts,
    tracked_instance_norms,
    train_mode,
    weight_norm,
    unfold_layers,
    version_gates,
    vision_subclasses,
)
from .passes.training import grad_mode, loops


@dataclass(frozen=True)
class Pass:
    id: str
    applies: Callable[[str], bool]  # a cheap test of the source: the pass runs where it is true
    run: Callable[[Context, cst.Module], cst.Module]
    needs: Tuple[str, ...] = ()     # Facts fields it reads, provided by an earlier pass
    provides: Tuple[str, ...] = ()  # Facts fields it writes


STATEMENT_PASSES: Tuple[Pass, ...] = (
    # `getattr(nn, kind)(...)` under `if kind in [...]`: one call per listed layer, each
    # converted by its own rule later.
    Pass("named-layers", named_layers.applies, named_layers.expand_named_layers),
    # `hasattr(torch.nn.functional, "scaled_dot_product_attention")` of an API that converts.
    Pass("feature-probes", feature_probes.applies, feature_probes.convert_feature_probes),
    # `parse(torch.__version__) < parse('2.0')`: the newer path is the one converted; the
    # branches for older releases go before any later pass converts them.
    Pass("version-gates", version_gates.applies, version_gates.fold_version_gates),
    # `torch.zeros(n).uniform_(0, 1)`: in-place calls on a new tensor become its value.
    Pass("fresh-inplace", fresh_inplace.applies, fresh_inplace.rewrite_fresh_inplace),
    # `torch.finfo(t).max` is a Python float in torch, a numpy scalar in numpy's finfo.
    Pass("finfo-floats", finfo_floats.applies, finfo_floats.float_finfo_limits),
    # `torch.set_default_dtype(torch.float32)`: MindSpore's default already; it goes.
    Pass("default-dtypes", default_dtypes.applies, default_dtypes.drop_float32_defaults),
    # `torch._assert(cond, msg)` statements -> `assert cond, msg`.
    Pass("torch-asserts", torch_asserts.applies, torch_asserts.convert_torch_asserts),
    # First: `Variable(x)`, `torch.FloatTensor(n, m)` and a tensor class chosen at run time
    # become the ordinary torch calls that every later pass and table knows.
    Pass("legacy-tensors", legacy_tensors.applies, legacy_tensors.convert_legacy_tensors),
    # `class F(torch.autograd.Function)` with forward/backward -> a Cell with bprop.
    Pass("custom-functions", custom_functions.applies,
         custom_functions.convert_custom_functions),
    # Reads `isinstance(m, nn.BatchNorm2d)` while layer names are still torch's; the
    # traversal renames the classes later.
    # LayerNorm(elementwise_affine=False/bias=False) assigned to a name: frozen gamma/beta.
    Pass("frozen-norms", frozen_norms.applies, frozen_norms.freeze_affine_norms),
    # `nn.Embedding.from_pretrained(table, freeze=True)` assigned to a name.
    Pass("pretrained-embeddings", pretrained_embeddings.applies,
         pretrained_embeddings.convert_pretrained_embeddings),
    Pass("layer-attributes", layer_attributes.applies, layer_attributes.rename_layer_attributes),
    # `self.wte.weight` of a layer __init__ declares, while the source is torch's.
    Pass("declared-layers", declared_layers.applies, declared_layers.rename_declared_layer_params),
    # `models.__dict__[arch]`, `getattr(models, name)` and `resnet.fc.in_features` of
    # torchvision's models (their constructors convert in the traversal).
    Pass("model-zoo", model_zoo.applies, model_zoo.convert_model_zoo_uses),
    # `nn.InstanceNorm2d(c, track_running_stats=True)` -> a small Cell written into the file.
    Pass("tracked-instance-norms", tracked_instance_norms.applies,
         tracked_instance_norms.convert_tracked_instance_norms),
    # torchvision transforms a model applies to tensor batches (in nn.Sequential, made in
    # a Module's method) -> small Cells written into the file, before the tables would
    # make them mindspore.dataset.vision transforms of single numpy images.
    Pass("tensor-augmentations", tensor_augmentations.applies,
         tensor_augmentations.convert_tensor_augmentations),
    # `nn.Unfold(...)` -> a small Cell written into the file that calls ops.unfold.
    Pass("unfold-layers", unfold_layers.applies, unfold_layers.convert_unfold_layers),
    # `nn.ParameterList` -> a small Cell written into the file (MindSpore has none).
    Pass("parameter-lists", parameter_lists.applies, parameter_lists.convert_parameter_lists),
    # Writes a small Cell for ModuleDicts of containers, so later passes see plain layers.
    Pass("container-dicts", container_dicts.applies, container_dicts.convert_container_dicts),
    # `next(model.parameters())` before the table turns parameters() into a list.
    Pass("first-parameter", first_parameter.applies, first_parameter.index_first_parameter),
    # Removes `.to(device)`/`.cuda()` and the statements left empty, so the passes after it
    # see models and tensors by their own names.
    Pass("devices", devices.applies, devices.convert_devices),
    # `torch.autograd.grad(y, x)` -> `mindspore.vjp` of the statement computing y from x,
    # after devices (`x = x.cuda()` gone), before training moves that statement into a
    # step function.
    Pass("input-grads", input_grads.applies, input_grads.convert_input_grads),
    # After devices (`DDP(model.to(rank))`); tells the training pass to reduce gradients.
    # `rnn.flatten_parameters()`: memory layout only, the statement goes.
    Pass("layout-calls", layout_calls.applies, layout_calls.drop_layout_calls),
    # pack_padded_sequence -> RNN -> pad_packed_sequence: the padded batch with seq_length,
    # before training moves the statements into a step function.
    Pass("packed-sequences", packed_sequences.applies, packed_sequences.convert_packed_sequences),
    Pass("distributed", distributed.applies, distributed.convert_distributed,
         provides=("data_parallel",)),
    # torch.jit / torch.onnx before checkpoint-dicts: `torch.jit.save` is an export.
    Pass("export", export.applies, export.convert_export),
    # `optimizer.param_groups[0]["lr"]` reads, before the training pass moves optimizers.
    Pass("learning-rates", learning_rates.applies, learning_rates.convert_learning_rate_reads),
    # LBFGS's optimizer.step(closure): the closure's loss and gradients from value_and_grad,
    # before training meets its backward().
    Pass("closure-steps", closure_steps.applies, closure_steps.convert_closure_steps),
    # A torch.optim.Optimizer subclass: step() reading p.grad -> construct(gradients), before
    # optimizer-types and the table (which refuses the subclasses left) meet the base class.
    Pass("custom-optimizers", custom_optimizers.applies,
         custom_optimizers.convert_custom_optimizers),
    # `optimizer: torch.optim.Optimizer` / isinstance(x, Optimizer): MindSpore's base class.
    Pass("optimizer-types", optimizer_types.applies, optimizer_types.convert_optimizer_types),
    # torch.save/torch.load of checkpoint dicts and `.pth` names, before the table rules
    # meet the single calls.
    # Whole models through torch.save/torch.load on open() files, before checkpoint-dicts
    # meets the calls.
    Pass("pickled-models", pickled_models.applies, pickled_models.convert_pickled_models),
    Pass("checkpoint-dicts", checkpoint_dicts.applies, checkpoint_dicts.convert_checkpoints),
    # torch.save of objects the tables cannot see as parameters, and torch.load of what
    # no network loads: helpers that pick checkpoint or pickle at run time.
    Pass("object-saves", object_saves.applies, object_saves.convert_object_saves),
    # f"{loss:.4f}" of 0-d tensors, before training moves the loss into a step function.
    Pass("format-specs", format_specs.applies, format_specs.convert_format_specs),
    # `with autocast():` around a step: the network is cast before training rewrites the step.
    Pass("amp", amp.applies, amp.convert_autocast),
    # The autocast regions amp cast no network for compute in float32, with a warning.
    Pass("autocast-regions", autocast_regions.applies, autocast_regions.remove_autocast_regions),
    # record_function/sdpa_kernel regions: labels and kernel choices, the body stays.
    Pass("region-contexts", region_contexts.applies, region_contexts.remove_region_contexts),
    # weight_norm/remove_weight_norm: helpers written into the file name the calls.
    Pass("weight-norm", weight_norm.applies, weight_norm.convert_weight_norm),
    # nn.Softmax() & co. without dim: a helper Cell picks the axis from the input's rank.
    Pass("implicit-dims", implicit_dims.applies, implicit_dims.convert_implicit_dims),
    # SummaryWriter -> SummaryRecordWriter, a class on mindspore.SummaryRecord written into the file.
    Pass("summary-writers", summary_writers.applies, summary_writers.convert_summary_writers),
    # `g = torch.Generator(); g.manual_seed(s); torch.randperm(n, generator=g)` -> numpy.
    Pass("seeded-generators", seeded_generators.applies,
         seeded_generators.convert_seeded_generators),
    # make_grid/save_image helpers, written after the imports (independent of the others).
    Pass("image-grid", image_grid.applies, image_grid.convert_image_grid),
    # einops calls stay; the file gets the MindSpore backend einops lacks, and its torch
    # Rearrange/Reduce layers become Cells (independent of the others).
    Pass("einops", einops_backend.applies, einops_backend.add_einops_backend),
    # backward/step -> value_and_grad + optimizer(grads): sees the loop after the device,
    # distributed and amp edits, as the user would have written it for MindSpore.
    Pass("training", loops.applies, loops.convert_training, needs=("data_parallel",)),
    # `model = Net()` -> `+ model.set_train()`, after training has found which names train.
    Pass("train-mode", train_mode.applies, train_mode.add_training_mode),
    # no_grad/enable_grad regions left after the training step took its own.
    Pass("grad-mode", grad_mode.applies, grad_mode.convert_grad_modes),
    # Learns datasets, loaders and sample columns for the data transforms of the traversal.
    Pass("data", data.applies, data.convert_data, provides=("data",)),
    # `class L(DataLoader)` / `class S(DistributedSampler)` extend MindSpore's torch-style
    # classes (mindspore.dataset.dataloader), which take torch's arguments.
    Pass("data-subclasses", data_subclasses.applies, data_subclasses.extend_torch_style_classes),
    # `class Crop(transforms.RandomResizedCrop)` extends a class written into the file
    # with torchvision's behaviour (MindSpore's vision classes cannot be overridden).
    Pass("vision-subclasses", vision_subclasses.applies, vision_subclasses.extend_transform_classes),
    # `class Warmup(lr_scheduler._LRScheduler)` extends MindSpore's LRScheduler.
    Pass("scheduler-subclasses", scheduler_subclasses.applies,
         scheduler_subclasses.convert_scheduler_subclasses),
    # torch._foreach_<op>(xs) -> a comprehension or loop over torch.<op> / Tensor.<op>_,
    # which the traversal converts by their rules.
    Pass("foreach", foreach.applies, foreach.foreach_loops),
    # `values, indices = torch.topk(...)`: the int32 indices MindSpore gives cast to int64.
    Pass("index-dtypes", index_dtypes.applies, index_dtypes.cast_unpacked_indices),
    # Last: `torch.f(..., out=y)` -> `y = torch.f(...)` for the traversal to convert.
    Pass("out-args", out_args.applies, out_args.rebind_out, provides=("out_args",)),
    # `x.t_()` -> `x = x.t()`: in-place methods that change the shape rebind the name,
    # with their note in the same facts as out= (the traversal adds it to the finding).
    Pass("reshape-inplace", reshape_inplace.applies, reshape_inplace.rebind_reshaped,
         needs=("out_args",)),
    # Last: reads each forward as every other pass left it; with --jit it compiles the
    # outermost models' construct, and it reports what graph mode rejects there.
    Pass("graph-mode", graph_mode.applies, graph_mode.compile_models),
)

# What the traversal after the passes reads (transforms/data.py, passes/api.py).
TRAVERSAL_NEEDS = ("data", "out_args")

PASS_IDS = frozenset(p.id for p in STATEMENT_PASSES)


def known_ids(rules: RuleSet) -> Tuple[str, ...]:
    """Every id --select/--disable may name: the passes' and the rules'."""
    return (*sorted(PASS_IDS), *sorted(rule.id for rule in rules))


def check_order(passes: Tuple[Pass, ...] = STATEMENT_PASSES) -> None:
    """Each fact is a field of Facts, provided once, before anything needs it."""
    known = {name for name in Facts.__dataclass_fields__}
    provided: set = set()
    for p in passes:
        for fact in p.needs:
            if fact not in provided:
                raise ValueError(f"pass {p.id!r} needs {fact!r}, which no earlier pass provides")
        for fact in p.provides:
            if fact not in known or fact in provided:
                raise ValueError(f"pass {p.id!r} provides {fact!r}: not a Facts field, or twice")
            provided.add(fact)
    missing = set(TRAVERSAL_NEEDS) - provided
    if missing:
        raise ValueError(f"the traversal needs {sorted(missing)}, which no pass provides")
