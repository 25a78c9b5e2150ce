"""Every optimizer class pytorch-optimizer exports, and every torch.optim class, run by
``optviz.simulate`` and by the training loop its own documentation writes, one start at a
time, on Rosenbrock from three starts: the paths are bit-equal, or optviz refuses the class in
one line where that loop cannot run on a point either.

The loops here are written from each class's docstring, not from optviz's code: a model's
``loss.backward()`` is the function's gradient put in ``.grad`` (``backward(create_graph=True)``
on the function's torch value where the class estimates second derivatives), and start k runs
after torch, numpy and Python's random are seeded with SEED + k."""

import functools
import random

import numpy as np
import pytest
import pytorch_optimizer as po
import torch
from conftest import assert_bit_equal
from torch.optim import SGD

import optviz
from optviz.core.optimizers.foreign import OptimizerError

ROSENBROCK = optviz.get_function("rosenbrock")
STARTS = torch.tensor([[-1.5, 2.0], [0.5, -0.5], [1.2, 1.4]], dtype=torch.float64)
STEPS, SEED = 5, 3

THEIRS = {c.__name__: c for c in vars(po).values() if isinstance(c, type) and issubclass(c, torch.optim.Optimizer)
          and c.__module__.startswith("pytorch_optimizer")}
TORCHS = {f"torch.optim.{c.__name__}": c for c in vars(torch.optim).values()
          if isinstance(c, type) and issubclass(c, torch.optim.Optimizer) and c is not torch.optim.Optimizer}


def sgd(params):
    return SGD(params, lr=1e-3)


def muon_groups(cls):
    """The Muon family's documented parameter groups: the point is a hidden weight matrix."""
    return lambda params: cls([{"params": params, "use_muon": True}], lr=0.02)


class Holder(torch.nn.Module):
    """A model whose one parameter is the point, for a class whose documentation passes a model."""

    def __init__(self, point):
        super().__init__()
        self.point = point


# how a class is made where its documentation makes it otherwise than cls(params)
MADE = {
    "SAM": functools.partial(po.SAM, base_optimizer=SGD, lr=1e-3),
    "LookSAM": functools.partial(po.LookSAM, base_optimizer=SGD, lr=1e-3),
    "FriendlySAM": functools.partial(po.FriendlySAM, base_optimizer=SGD, lr=1e-3),
    "BSAM": functools.partial(po.BSAM, num_data=100, lr=1e-3),
    "WSAM": lambda params: po.WSAM(torch.nn.Module(), params, SGD, lr=1e-3),
    "Ranger21": functools.partial(po.Ranger21, num_iterations=STEPS),
    "Lookahead": lambda params: po.Lookahead(sgd(params)),
    "OrthoGrad": lambda params: po.OrthoGrad(sgd(params)),
    "TRAC": lambda params: po.TRAC(sgd(params)),
    "PCGrad": lambda params: po.PCGrad(sgd(params)),
    "ScheduleFreeWrapper": lambda params: po.ScheduleFreeWrapper(sgd(params)),
    "Magma": lambda params: po.Magma(sgd(params)),
    "SafeFP16Optimizer": lambda params: po.SafeFP16Optimizer(sgd(params)),
    "GSAM": lambda params: po.GSAM(params, sgd(params), torch.nn.Module(), po.ProportionScheduler(
        torch.optim.lr_scheduler.LambdaLR(sgd([torch.zeros(1, requires_grad=True)]), lambda t: 1.0), 0.05)),
    **{name: muon_groups(getattr(po, name))
       for name in ("Muon", "AdaMuon", "NorMuon", "MuonClip", "DistributedMuon", "AdaGO")},
}
# the classes whose documentation passes a model: it holds the point
MODEL = {"AdamMini", "AdaLOMO", "LOMO"}
# the loop each documentation writes where it is not zero_grad, backward, step():
# "sam": the gradient at the point, then step(closure); "closure": step(closure) alone;
# "hessian": backward(create_graph=True), then step(); "backward": its own backward(loss), then step();
# "fused": fused_backward(loss, lr), which updates the parameters as it backpropagates
LOOPS = {"SAM": "sam", "LookSAM": "sam", "FriendlySAM": "sam", "BSAM": "sam", "WSAM": "sam",
         "AliG": "closure", "EmoNavi": "closure", "EmoFact": "closure", "EmoLynx": "closure",
         "torch.optim.LBFGS": "closure", "AdaHessian": "hessian", "SophiaH": "hessian",
         "SafeFP16Optimizer": "backward", "AdaLOMO": "fused", "LOMO": "fused"}
# the classes whose documentation calls train() before training
TRAIN = {"ScheduleFreeAdamW", "ScheduleFreeRAdam", "ScheduleFreeSGD", "ScheduleFreeWrapper"}
# refused: optviz's one line, and why the documented loop cannot run on a point either
REFUSED = {
    "GSAM": "GSAM takes its loss through set_closure(loss_fn, inputs, targets), a model's forward pass: "
            "it cannot step a point",
    "DeMo": "DeMo: You need to install `einops` to use `TransformDCT`",
    "DistributedMuon": "DistributedMuon: Default process group has not been initialized, please make sure to call "
                       "init_process_group.",
    "FAdam": "FAdam lr=0.001 failed to step: expected dtype float for `end` but got dtype double",
    "torch.optim.SparseAdam": "SparseAdam lr=0.001 failed to step: SparseAdam does not support dense gradients, "
                              "please consider Adam instead",
}


def documented(name, cls, start, k, shape):
    """The class's documented training loop, alone on one start; its path."""
    torch.manual_seed(SEED + k)
    np.random.seed(SEED + k)
    random.seed(SEED + k)
    made = MADE.get(name, cls)
    if name in MODEL:
        param = torch.nn.Parameter(start.clone().reshape(shape))
        opt = made(Holder(param))
    else:
        param = start.clone().reshape(shape).requires_grad_(True)
        opt = made([param])
    if name in TRAIN:
        opt.train()
    loop = LOOPS.get(name, "plain")
    path = [param.detach().reshape(-1).clone()]
    for _ in range(STEPS):
        def closure():
            opt.zero_grad()
            if loop == "hessian":
                loss = ROSENBROCK(param.reshape(-1))
                loss.backward(create_graph=True)
                return loss
            if loop == "backward":  # the optimizer scales the loss, then backward
                loss = ROSENBROCK(param.reshape(-1))
                opt.backward(loss)
                return loss
            point = param.detach().reshape(-1)
            param.grad = ROSENBROCK.grad(point).reshape(param.shape)  # loss.backward()
            return ROSENBROCK(point)

        if loop == "fused":
            opt.fused_backward(ROSENBROCK(param.reshape(-1)), opt.param_groups[0]["lr"])
        elif loop == "closure":
            opt.step(closure)
        elif loop == "sam":
            closure()
            opt.step(closure)
        else:
            closure()
            opt.step()
        path.append(param.detach().reshape(-1).clone())
    return torch.stack(path)


def test_every_class_is_here():
    assert len(THEIRS) == 133 and len(TORCHS) == 15
    assert set(REFUSED) | set(MADE) | set(LOOPS) | MODEL | TRAIN <= set(THEIRS) | set(TORCHS)


@pytest.mark.parametrize("name", sorted(THEIRS) + sorted(TORCHS))
def test_each_class_equals_its_documented_loop_or_is_refused_in_one_line(name):
    cls = {**THEIRS, **TORCHS}[name]
    if name in REFUSED:
        with pytest.raises(OptimizerError) as refused:
            optviz.simulate(ROSENBROCK, optviz.torch_optimizer(MADE.get(name, cls)), STARTS, STEPS, seed=SEED)
        assert str(refused.value) == REFUSED[name]
        with pytest.raises(Exception):  # noqa: B017 - whatever the class raises
            documented(name, cls, STARTS[0], 0, (2,))
        return
    result = optviz.simulate(ROSENBROCK, {"o": optviz.torch_optimizer(MADE.get(name, cls))}, STARTS, STEPS, seed=SEED)
    shape = (1, 2) if "matrix" in result.modes["o"] else (2,)
    for k, start in enumerate(STARTS):
        ours, theirs = result.path("o", k), documented(name, cls, start, k, shape)
        diverged = int(result.diverged_at[k])
        if diverged >= 0:  # a path that left is no data from the step it left at
            ours, theirs = ours[:diverged], theirs[:diverged]
        assert_bit_equal(ours, theirs)

