"""torch.nn.parallel's functional pieces (replicate, scatter, parallel_apply, gather),
written into a converted file for one device: what torch spreads over GPUs runs one
piece after another on MindSpore's device, with torch's results (the same chunks, the
same concatenation), as a single-device run of the torch code would compute them."""
from __future__ import annotations

HELPERS = {
    "replicate": '''\
def replicate(network, devices, detach=False):
    """torch.nn.parallel.replicate on one device: the network itself once per device
    (the replicas share its parameters, as torch's broadcast copies do)."""
    return [network for _ in devices]
''',
    "scatter": '''\
def scatter(inputs, target_gpus, dim=0):
    """torch.nn.parallel.scatter on one device: a tensor cut into len(target_gpus) chunks
    along dim (Tensor.chunk's cut), tuples, lists and dicts scattered item by item, any
    other object repeated once per device."""
    if isinstance(inputs, mindspore.Tensor):
        return mindspore.ops.chunk(inputs, len(target_gpus), dim)
    if isinstance(inputs, (tuple, list)) and len(inputs) > 0:
        pieces = list(zip(*[scatter(item, target_gpus, dim) for item in inputs]))
        return pieces if isinstance(inputs, tuple) else [list(piece) for piece in pieces]
    if isinstance(inputs, dict) and len(inputs) > 0:
        pieces = zip(*[scatter(value, target_gpus, dim) for value in inputs.values()])
        return [type(inputs)(zip(inputs, piece)) for piece in pieces]
    return [inputs for _ in target_gpus]
''',
    "parallel_apply": '''\
def parallel_apply(modules, inputs, kwargs_tup=None, devices=None):
    """torch.nn.parallel.parallel_apply on one device: each module called on its input (a
    tuple or list is unpacked) and keyword arguments, one after another."""
    if kwargs_tup is None:
        kwargs_tup = [{} for _ in modules]
    return [module(*input, **kwargs) if isinstance(input, (tuple, list))
            else module(input, **kwargs)
            for module, input, kwargs in zip(modules, inputs, kwargs_tup)]
''',
    "gather": '''\
def gather(outputs, target_device, dim=0):
    """torch.nn.parallel.gather on one device: tensors concatenated along dim (0-d ones
    as vectors), dicts, tuples and lists gathered item by item, None kept."""
    first = outputs[0]
    if isinstance(first, mindspore.Tensor):
        return mindspore.ops.cat([out.reshape(1) if out.ndim == 0 else out
                                  for out in outputs], dim)
    if first is None:
        return None
    if isinstance(first, dict):
        return type(first)((key, gather([out[key] for out in outputs], target_device, dim))
                           for key in first)
    return type(first)(gather(list(items), target_device, dim) for items in zip(*outputs))
''',
}
