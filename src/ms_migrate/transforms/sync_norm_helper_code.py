"""torch.nn.SyncBatchNorm and its convert_sync_batchnorm: mindspore.nn.SyncBatchNorm
normalises 2-d and 4-d inputs with the statistics of every device of a msrun launch
(those of the one batch in a single process, as torch's); the class written into the
file gives it torch's other ranks by viewing (N, C, ...) as (N, C, L, 1)."""

HELPERS = {
    "SyncBatchNorm": '''\
class SyncBatchNorm(mindspore.nn.SyncBatchNorm):
    """torch.nn.SyncBatchNorm: batch statistics over all devices, for inputs of any rank
    (N, C, ...): what is not 2-d or 4-d is normalised as (N, C, L, 1)."""

    def construct(self, x):
        if x.ndim in (2, 4):
            return super().construct(x)
        return super().construct(x.reshape(x.shape[0], x.shape[1], -1, 1)).reshape(x.shape)
''',
    "convert_sync_batchnorm": '''\
def convert_sync_batchnorm(module, process_group=None):
    """torch.nn.SyncBatchNorm.convert_sync_batchnorm: every BatchNorm1d/2d/3d of the
    network becomes a SyncBatchNorm with its settings and its parameters (the network
    itself, when it is one); the network is returned. process_group: None, all devices."""
    if isinstance(module, mindspore.nn.BatchNorm3d):
        module = module.bn2d  # MindSpore's 3-d BatchNorm holds a 2-d one
    if isinstance(module, (mindspore.nn.BatchNorm1d, mindspore.nn.BatchNorm2d)):
        sync = SyncBatchNorm(module.num_features, eps=module.eps,
                             momentum=1 - module.momentum, affine=module.gamma.requires_grad,
                             use_batch_statistics=module.use_batch_statistics)
        for name in ("gamma", "beta", "moving_mean", "moving_variance"):
            getattr(sync, name).set_data(getattr(module, name).value())
        sync.set_train(module.training)
        return sync
    if isinstance(module, (mindspore.nn.SequentialCell, mindspore.nn.CellList)):
        children = list(enumerate(module))  # replaced by index: they keep a list of cells
    else:
        children = list(module.name_cells().items())
    for key, cell in children:
        converted = convert_sync_batchnorm(cell, process_group)
        if converted is not cell:
            names = [parameter.name for parameter in cell.get_parameters()]
            if isinstance(key, int):
                module[key] = converted
            else:
                setattr(module, key, converted)
            for parameter, old in zip(converted.get_parameters(), names):
                parameter.name = old  # the names the network's checkpoints hold
    return module
''',
}

NEEDS = {"convert_sync_batchnorm": ("SyncBatchNorm",)}
IMPORTS = {"SyncBatchNorm": ("import mindspore",), "convert_sync_batchnorm": ("import mindspore",)}
