"""torch's own optimizer test database (optim_db) run against optviz.optim.

Every error input torch lists for SGD, Adagrad, RMSprop, Adam and AdamW must fail (or warn)
the same way, and every optimizer input must step, keep state and save state_dicts exactly
as torch.optim does with ``foreach=False``.
"""

import re
import warnings

import pytest
import torch

from optviz.core.optimizers import optim as ovo
from torch.testing._internal.common_optimizers import OptimizerErrorEnum, optim_db

NAMES = ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW")
INFOS = {info.optim_cls.__name__: info for info in optim_db if info.optim_cls.__name__ in NAMES}


def error_cases():
    return [pytest.param(name, error, id=f"{name}: {error.optimizer_error_input.desc}")
            for name in NAMES for error in INFOS[name].optim_error_inputs_func(device="cpu", dtype=torch.float32)]


def input_cases():
    return [pytest.param(name, optim_input.kwargs, id=f"{name}: {optim_input.desc}")
            for name in NAMES for optim_input in INFOS[name].optim_inputs_func(device="cpu")]


def test_the_database_has_what_the_issue_counts():
    assert len(error_cases()) == 45
    assert len(input_cases()) >= 30


def construct(cls, params, kwargs):
    """The construction an error input describes; returns the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cls(params, **kwargs)
    return caught


@pytest.mark.parametrize("name,error", error_cases())
def test_error_inputs_fail_as_torch_fails(name, error):
    assert error.error_on == OptimizerErrorEnum.CONSTRUCTION_ERROR
    given = error.optimizer_error_input
    for cls in (INFOS[name].optim_cls, getattr(ovo, name)):  # torch itself, then optviz
        if issubclass(error.error_type, Warning):
            caught = construct(cls, given.params, given.kwargs)
            assert any(issubclass(w.category, error.error_type) and re.search(error.error_regex, str(w.message))
                       for w in caught), cls
        else:
            with pytest.raises(error.error_type, match=error.error_regex):
                construct(cls, given.params, given.kwargs)


def make_params(dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = [(3, 4), (3,), (1,), (2, 2, 2)]
    params = [torch.randn(s, generator=g, dtype=dtype).requires_grad_() for s in shapes]
    params.append(torch.randn(2, generator=g, dtype=dtype).requires_grad_())  # never gets a gradient
    return params


def fresh(kwargs):
    """The kwargs with tensors copied, so the two optimizers share nothing."""
    return {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}


def run(cls, kwargs, dtype, steps=25, extra=None):
    params = make_params(dtype)
    opt = cls(params, **fresh(kwargs), **(extra or {}))
    g = torch.Generator().manual_seed(1)
    history = []
    for _ in range(steps):
        for p in params[:-1]:
            p.grad = torch.randn(p.shape, generator=g, dtype=dtype)
        opt.step()
        history.append([p.detach().clone() for p in params])
    return opt, params, history


def assert_same_state(ours, theirs):
    a, b = ours.state_dict(), theirs.state_dict()
    assert [sorted(group) for group in a["param_groups"]] == [sorted(group) for group in b["param_groups"]]
    assert sorted(a["state"]) == sorted(b["state"])
    for index, state in b["state"].items():
        assert sorted(a["state"][index]) == sorted(state)
        for key, value in state.items():
            assert torch.equal(a["state"][index][key], value), (index, key)
            assert a["state"][index][key].dtype == value.dtype, (index, key)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", input_cases())
def test_optimizer_inputs_step_like_torch(name, kwargs, dtype):
    theirs, their_params, their_history = run(INFOS[name].optim_cls, kwargs, dtype, extra={"foreach": False})
    ours, our_params, our_history = run(getattr(ovo, name), kwargs, dtype)
    for step, (a, b) in enumerate(zip(our_history, their_history)):
        for x, y in zip(a, b):
            assert torch.equal(x, y), f"step {step + 1}"
    assert_same_state(ours, theirs)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_param_group_keys_are_torchs(name):
    param = [torch.zeros(2, requires_grad=True)]
    ours, theirs = getattr(ovo, name)(param), INFOS[name].optim_cls(param)
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]


def test_plain_sgd_keeps_no_state():
    ours, _, _ = run(ovo.SGD, {"lr": 0.1}, torch.float64, steps=3)
    theirs, _, _ = run(torch.optim.SGD, {"lr": 0.1}, torch.float64, steps=3)
    assert len(ours.state) == len(theirs.state) == 0
    assert ours.state_dict()["state"] == {}


@pytest.mark.parametrize("name,kwargs,keys", [
    ("Adam", {"lr": 0.01, "amsgrad": True}, ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
    ("SGD", {"lr": 0.01, "momentum": 0.9}, ("momentum_buffer",)),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}, ("step", "square_avg", "momentum_buffer", "grad_avg")),
    ("Adagrad", {"lr": 0.1}, ("step", "sum")),
])
def test_state_is_updated_in_place(name, kwargs, keys):
    params = make_params(torch.float64)
    opt = getattr(ovo, name)(params, **kwargs)
    for p in params[:-1]:
        p.grad = torch.ones_like(p)
    opt.step()
    held = {key: opt.state[params[0]][key] for key in keys}
    before = {key: value.clone() for key, value in held.items()}
    opt.step()
    for key in keys:
        assert opt.state[params[0]][key] is held[key], key
        assert not torch.equal(held[key], before[key]), f"{key} did not change"


def test_a_loaded_state_dicts_tensors_are_the_ones_updated():
    params = make_params(torch.float64)
    source = torch.optim.Adam(params, lr=0.01, foreach=False)
    for p in params[:-1]:
        p.grad = torch.ones_like(p)
    source.step()
    opt = ovo.Adam(params, lr=0.01)
    opt.load_state_dict(source.state_dict())
    held = opt.state[params[0]]["exp_avg"]
    step = opt.state[params[0]]["step"]
    opt.step()
    assert opt.state[params[0]]["exp_avg"] is held and step.item() == 2.0
    source.step()
    assert torch.equal(held, source.state[params[0]]["exp_avg"])


@pytest.mark.parametrize("kwargs", [
    {"lr": torch.tensor(0.01), "betas": (torch.tensor(0.9), torch.tensor(0.99))},
    {"lr": torch.tensor([0.01]), "betas": (torch.tensor([[0.8]]), torch.tensor([0.999]))},  # torch squeezes these
    {"lr": torch.tensor(0.01, dtype=torch.float64), "weight_decay": 0.1, "amsgrad": True},
])
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_tensor_lr_and_betas_step_like_torch(name, kwargs):
    for dtype in (torch.float32, torch.float64):
        _, _, theirs = run(INFOS[name].optim_cls, kwargs, dtype, extra={"foreach": False})
        _, _, ours = run(getattr(ovo, name), kwargs, dtype)
        assert all(torch.equal(x, y) for a, b in zip(ours, theirs) for x, y in zip(a, b))


@pytest.mark.parametrize("make,message", [
    (lambda p: ovo.Adam(p, lr=torch.tensor([0.1, 0.2])), "Tensor lr must be 1-element"),
    (lambda p: ovo.Adam(p, betas=(torch.tensor([0.9, 0.8]), torch.tensor(0.99))), r"Tensor betas\[0\] must be 1-element"),
    (lambda p: ovo.Adam(p, betas=(0, 0.999)), "betas must be either both floats or both Tensors"),
    (lambda p: ovo.SGD(p, lr=-1.0), r"Invalid learning rate: -1\.0"),
    (lambda p: ovo.Adam(p, capturable=True), "capturable=True is not supported"),
    (lambda p: ovo.SGD(p, fused=True), "fused=True is not supported"),
])
def test_refused_like_torch(make, message):
    with pytest.raises(ValueError, match=message):
        make(None)  # arguments are checked before the params are looked at
