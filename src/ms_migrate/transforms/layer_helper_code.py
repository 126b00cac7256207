"""Cells a converted file gets for torch.nn layers MindSpore 2.10 lacks (or whose
MindSpore namesake means something else, or has no CPU kernel): each is torch's layer,
with torch's constructor signature, computing its forward with the MindSpore ops the
functional rules use."""
from __future__ import annotations

HELPERS = {
    "CellListWithNone": '''\
class CellListWithNone(mindspore.nn.Cell):
    """torch.nn.ModuleList that may hold None (mindspore.nn.CellList refuses it): the
    cells registered by their index, as torch names them, None kept in its place."""

    def __init__(self, modules=None):
        super().__init__()
        self.items = []
        for cell in modules or []:
            self.append(cell)

    def append(self, cell):
        if cell is not None:
            self.insert_child_to_cell(str(len(self.items)), cell)
        self.items.append(cell)
        return self

    def __getitem__(self, index):
        return self.items[index]

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)
''',
    "Softplus": '''\
class Softplus(mindspore.nn.Cell):
    """torch.nn.Softplus: log(1 + exp(beta * x)) / beta, linear above threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def construct(self, input):
        return mindspore.ops.softplus(input, self.beta, self.threshold)
''',
    "CosineSimilarity": '''\
class CosineSimilarity(mindspore.nn.Cell):
    """torch.nn.CosineSimilarity: the cosine of x1 and x2 along dim."""

    def __init__(self, dim=1, eps=1e-08):
        super().__init__()
        self.dim, self.eps = dim, eps

    def construct(self, x1, x2):
        return mindspore.ops.cosine_similarity(x1, x2, self.dim, self.eps)
''',
    "PairwiseDistance": '''\
class PairwiseDistance(mindspore.nn.Cell):
    """torch.nn.PairwiseDistance: the p-norm of x1 - x2 + eps along the last axis."""

    def __init__(self, p=2.0, eps=1e-06, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def construct(self, x1, x2):
        return mindspore.ops.norm(x1 - x2 + self.eps, self.norm, dim=-1, keepdim=self.keepdim)
''',
    "SoftMarginLoss": '''\
class SoftMarginLoss(mindspore.nn.Cell):
    """torch.nn.SoftMarginLoss: log(1 + exp(-y * x)), then the reduction (MindSpore's
    own has no CPU kernel)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def construct(self, input, target):
        loss = mindspore.ops.softplus(-target * input)
        if self.reduction == "mean":
            return loss.mean()
        if self.reduction == "sum":
            return loss.sum()
        return loss
''',
    "IntermediateLayerGetter": '''\
class IntermediateLayerGetter(mindspore.nn.Cell):
    """torchvision.models._utils.IntermediateLayerGetter: runs the child cells of `model`
    in order, up to the last one named in `return_layers`, and returns the outputs of
    those, keyed by the names `return_layers` gives them."""

    def __init__(self, model, return_layers):
        super().__init__()
        children = list(model.name_cells().items())
        names = [name for name, _ in children]
        if not set(return_layers) <= set(names):
            raise ValueError("return_layers are not present in model")
        self.return_layers = {str(k): str(v) for k, v in return_layers.items()}
        last = max(names.index(name) for name in self.return_layers)
        self.layer_names = names[:last + 1]
        for name, cell in children[:last + 1]:
            self.insert_child_to_cell(name, cell)

    def construct(self, x):
        out = {}
        for name in self.layer_names:
            x = self._cells[name](x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out
''',
}
