"""torch.save / torch.load of objects that are not known to be parameters: a checkpoint
where the object holds parameters (a Cell, a state dict, a checkpoint dict of state
dicts and numbers), a pickle otherwise; reading back tells the two apart by the file's
first byte (a pickle's protocol mark)."""

HELPERS = {
    "save_object": '''\
def save_object(obj, f, pickle_module=pickle, pickle_protocol=pickle.DEFAULT_PROTOCOL,
                _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """torch.save of any object. A Cell, a dict of tensors or a checkpoint dict (state
    dicts beside numbers and strings) is written as a MindSpore checkpoint: every state
    dict's parameters in one flat dict, numbers and strings in append_dict, other entries
    left out with a warning. Anything else, or any object written to an open file, is
    pickled (torch's zip-file switches have no meaning here)."""
    if isinstance(f, (str, os.PathLike)):
        if isinstance(obj, mindspore.nn.Cell):
            mindspore.save_checkpoint(obj, f)
            return
        if isinstance(obj, dict):
            parameters, values, left_out = {}, {}, []
            for key, value in obj.items():
                if isinstance(value, mindspore.nn.Cell):
                    value = value.parameters_dict()
                if isinstance(value, mindspore.Tensor):
                    parameters[key] = value
                elif isinstance(value, dict) and all(
                        isinstance(v, mindspore.Tensor) for v in value.values()):
                    parameters.update(value)
                elif isinstance(value, (bool, int, float, str)):
                    values[key] = value
                else:
                    left_out.append(key)
            if parameters:
                if left_out:
                    warnings.warn(f"not saved in {f}: {left_out} (a MindSpore checkpoint "
                                  "holds parameters, numbers and strings)")
                mindspore.save_checkpoint(parameters, f, append_dict=values or None)
                return
        with open(f, "wb") as file:
            pickle_module.dump(obj, file, protocol=pickle_protocol)
        return
    pickle_module.dump(obj, f, protocol=pickle_protocol)
''',
    "load_object": '''\
def load_object(f, map_location=None, pickle_module=pickle, **kwargs):
    """torch.load of what save_object wrote: a pickled object as it was, a MindSpore
    checkpoint as its flat name -> Parameter dict (map_location: MindSpore places
    tensors itself)."""
    if not isinstance(f, (str, os.PathLike)):
        return pickle_module.load(f)
    with open(f, "rb") as file:
        if file.read(1) == b"\\x80":  # the mark every pickle since protocol 2 opens with
            file.seek(0)
            return pickle_module.load(file)
    return mindspore.load_checkpoint(f)
''',
}

IMPORTS = {
    "save_object": ("import os", "import pickle", "import warnings", "import mindspore"),
    "load_object": ("import os", "import pickle", "import mindspore"),
}
