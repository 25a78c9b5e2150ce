"""The step functions against torch.optim's single-tensor path, bit for bit."""

import math
import sys
import subprocess

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import optviz
from conftest import (
    TORCH_CLASSES,
    assert_bit_equal,
    factory,
    gradient_sign,
    grid,
    optviz_path,
    starts_for,
    torch_path,
)

STEPS = 200
FUNCTIONS = ["quadratic", "rosenbrock"]


def varied(base, changed, **flags):
    """Every combination of flags, each with: the base values, each value changed alone,
    and all of them changed together."""
    numeric = [base] + [{**base, k: v} for k, v in changed.items()] + [{**base, **changed}]
    return [{**n, **f} for f in grid(**flags) for n in numeric]


SGD_GRID = [
    k
    for k in varied(
        dict(lr=1e-3, dampening=0.0, weight_decay=0.0),
        dict(lr=0.02, dampening=0.5, weight_decay=0.05),
        momentum=[0.0, 0.9],
        nesterov=[False, True],
        maximize=[False, True],
    )
    if not k["nesterov"] or (k["momentum"] > 0 and k["dampening"] == 0)
]
ADAGRAD_GRID = varied(
    dict(lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10),
    dict(lr=0.3, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.5, eps=1e-3),
    maximize=[False, True],
)
RMSPROP_GRID = varied(
    dict(lr=1e-3, alpha=0.99, eps=1e-8, weight_decay=0.0),
    dict(lr=0.01, alpha=0.9, eps=1e-3, weight_decay=0.05),
    momentum=[0.0, 0.9],
    centered=[False, True],
    maximize=[False, True],
)
ADAM_GRID = varied(
    dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
    dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.05),
    amsgrad=[False, True],
    maximize=[False, True],
)
CASES = (
    [("sgd", k) for k in SGD_GRID]
    + [("adagrad", k) for k in ADAGRAD_GRID]
    + [("rmsprop", k) for k in RMSPROP_GRID]
    + [("adam", k) for k in ADAM_GRID]
    + [("adamw", k) for k in ADAM_GRID]
)


def case_id(case):
    name, kwargs = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_trajectories_equal_torch_optim_bit_for_bit(case):
    name, kwargs = case
    sign = gradient_sign(kwargs)
    for function_name in FUNCTIONS:
        function = optviz.get_function(function_name)
        for dtype in (torch.float64, torch.float32):
            starts = starts_for(function, n=4, dtype=dtype)
            ours = optviz_path(factory(name)(**kwargs), function, starts, STEPS, sign)
            theirs = torch_path(name, kwargs, function, starts, STEPS, sign)
            assert_bit_equal(ours, theirs)


# Lion, torch has not: pytorch_optimizer.Lion is the reference, its single-tensor path
LION_GRID = varied(
    dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0),
    dict(lr=0.02, betas=(0.5, 0.9), weight_decay=0.5),
    maximize=[False, True],
)


@pytest.mark.parametrize("kwargs", LION_GRID, ids=[case_id(("lion", k)) for k in LION_GRID])
def test_lion_equals_pytorch_optimizer_bit_for_bit(kwargs):
    from pytorch_optimizer import Lion

    sign = gradient_sign(kwargs)
    for function_name in FUNCTIONS:
        function = optviz.get_function(function_name)
        for dtype in (torch.float64, torch.float32):
            starts = starts_for(function, n=4, dtype=dtype)
            ours = optviz_path(optviz.lion(**kwargs), function, starts, STEPS, sign)
            assert_bit_equal(ours, torch_path(Lion, kwargs, function, starts, STEPS, sign))
            assert (ours[-1] - ours[0]).abs().max() > 10 * kwargs["lr"]  # it moved, sign step after sign step


def test_a_lion_sweep_equals_per_value_runs():
    from pytorch_optimizer import Lion

    values = dict(lr=[1e-3, 5e-3, 0.01, 0.05], beta1=[0.9, 0.8, 0.5, 0.0], beta2=[0.99, 0.9, 0.5, 0.0],
                  weight_decay=[0.0, 0.01, 0.1, 1.0])
    function = optviz.get_function("rosenbrock")
    for dtype in (torch.float64, torch.float32):
        start = torch.tensor([function.start], dtype=dtype)
        ours = optviz_path(optviz.lion(**_as_tensors(values, torch.float64)), function, start.repeat(4, 1), STEPS)
        for i in range(4):
            assert_bit_equal(ours[:, i : i + 1], torch_path(Lion, _per_value(values, i), function, start, STEPS))


def test_the_grid_touches_every_argument():
    import inspect

    touched = {key for _, kwargs in CASES for key in kwargs}
    for name in ["sgd", "adagrad", "rmsprop", "adam"]:
        arguments = set(inspect.signature(factory(name)).parameters) - {"decoupled_weight_decay"}
        assert arguments <= touched, arguments - touched


def test_conformance_runs_are_not_trivial():
    # a check against torch means something only if the paths actually move far
    function = optviz.get_function("rosenbrock")
    path = optviz_path(optviz.adam(lr=0.05), function, starts_for(function), STEPS)
    assert (path[-1] - path[0]).abs().max() > 0.5
    assert torch.isfinite(path).all()


# --- hyperparameter sweeps as tensors ------------------------------------------------------

SWEEPS = {
    "sgd": dict(
        lr=[1e-3, 5e-3, 0.01, 0.02],
        momentum=[0.0, 0.5, 0.9, 0.99],
        dampening=[0.0, 0.1, 0.5, 0.0],
        weight_decay=[0.0, 0.01, 0.05, 0.1],
    ),
    "nesterov": dict(lr=[1e-3, 5e-3, 0.01, 0.02], momentum=[0.1, 0.5, 0.9, 0.99]),
    "adagrad": dict(
        lr=[0.01, 0.05, 0.1, 0.3],
        lr_decay=[0.0, 1e-3, 0.01, 0.1],
        weight_decay=[0.0, 0.01, 0.05, 0.1],
        initial_accumulator_value=[0.0, 0.1, 0.5, 1.0],
        eps=[1e-10, 1e-8, 1e-5, 1e-3],
    ),
    "rmsprop": dict(
        lr=[1e-3, 5e-3, 0.01, 0.02],
        alpha=[0.99, 0.9, 0.5, 0.0],
        eps=[1e-8, 1e-6, 1e-4, 1e-3],
        weight_decay=[0.0, 0.01, 0.05, 0.1],
        momentum=[0.0, 0.5, 0.9, 0.0],
    ),
    "adam": dict(
        lr=[1e-3, 5e-3, 0.01, 0.05],
        beta1=[0.9, 0.8, 0.5, 0.0],
        beta2=[0.999, 0.99, 0.9, 0.5],
        eps=[1e-8, 1e-6, 1e-4, 1e-3],
        weight_decay=[0.0, 0.01, 0.05, 0.1],
    ),
}
SWEEPS["adamw"] = SWEEPS["adam"]


def _per_value(values, i):
    kwargs = {k: v[i] for k, v in values.items() if not k.startswith("beta")}
    if "beta1" in values:
        kwargs["betas"] = (values["beta1"][i], values["beta2"][i])
    return kwargs


def _as_tensors(values, dtype):
    column = {k: torch.tensor(v, dtype=dtype).unsqueeze(1) for k, v in values.items()}
    if "beta1" in column:
        column["betas"] = (column.pop("beta1"), column.pop("beta2"))
    return column


@pytest.mark.parametrize("name,centered", [(name, False) for name in SWEEPS] + [("rmsprop", True)])
def test_tensor_hyperparameters_equal_per_value_torch_runs(name, centered):
    """The documented bound: a batched sweep equals one torch.optim run per value, exactly."""
    values = SWEEPS[name]
    extra = {"centered": True} if centered else {}
    torch_name = "sgd" if name == "nesterov" else name
    function = optviz.get_function("rosenbrock")
    for dtype in (torch.float64, torch.float32):
        start = torch.tensor([function.start], dtype=dtype)
        n = len(next(iter(values.values())))
        sweep = factory(name)(**_as_tensors(values, torch.float64), **extra)
        ours = optviz_path(sweep, function, start.repeat(n, 1), STEPS)
        for i in range(n):
            kwargs = {**_per_value(values, i), **extra}
            if name == "nesterov":
                kwargs["nesterov"] = True
            theirs = torch_path(torch_name, kwargs, function, start, STEPS)
            assert_bit_equal(ours[:, i : i + 1], theirs)


def test_lr_sweep_of_256_values_runs_as_one_batch():
    function = optviz.get_function("ill_conditioned")
    lrs = torch.logspace(-3, 0, 256, dtype=torch.float64).unsqueeze(1)
    start = torch.tensor([function.start], dtype=torch.float64).repeat(256, 1)
    path = optviz_path(optviz.sgd(lr=lrs), function, start, 20)
    for i in (0, 100, 255):
        assert_bit_equal(path[:, i : i + 1], torch_path("sgd", {"lr": lrs[i, 0].item()}, function, start[:1], 20))


# --- hypothesis: random hyperparameters -------------------------------------------------------

unit = st.floats(0.0, 0.999)
positive = st.floats(1e-6, 0.05)


@st.composite
def random_case(draw):
    name = draw(st.sampled_from(["sgd", "adagrad", "rmsprop", "adam", "adamw"]))
    common = dict(lr=draw(positive), weight_decay=draw(st.floats(0, 0.2)), maximize=draw(st.booleans()))
    if name == "sgd":
        nesterov = draw(st.booleans())
        momentum = draw(st.floats(0.01, 0.99)) if nesterov else draw(unit)
        dampening = 0.0 if nesterov else draw(unit)
        extra = dict(momentum=momentum, dampening=dampening, nesterov=nesterov)
    elif name == "adagrad":
        extra = dict(
            lr_decay=draw(st.floats(0, 0.1)),
            initial_accumulator_value=draw(st.floats(0, 2)),
            eps=draw(st.floats(1e-12, 1e-2)),
        )
    elif name == "rmsprop":
        extra = dict(
            alpha=draw(unit), eps=draw(st.floats(1e-10, 1e-2)),
            momentum=draw(unit), centered=draw(st.booleans()),
        )
    else:
        extra = dict(betas=(draw(unit), draw(unit)), eps=draw(st.floats(1e-10, 1e-2)), amsgrad=draw(st.booleans()))
    return name, {**common, **extra}


@settings(max_examples=60, deadline=None)
@given(
    case=random_case(),
    function_name=st.sampled_from(["quadratic", "rosenbrock", "beale", "rastrigin"]),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    seed=st.integers(0, 2**16),
)
def test_random_hyperparameters_equal_torch_optim(case, function_name, dtype, seed):
    name, kwargs = case
    function = optviz.get_function(function_name)
    starts = starts_for(function, n=3, dtype=dtype, seed=seed)
    sign = gradient_sign(kwargs)
    ours = optviz_path(factory(name)(**kwargs), function, starts, 50, sign)
    assert_bit_equal(ours, torch_path(name, kwargs, function, starts, 50, sign))


# --- the contract ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(optviz.OPTIMIZERS))
def test_step_is_pure(name):
    opt = factory(name)(lr=0.1)
    params = torch.tensor([[1.0, -2.0], [0.5, 0.25]], dtype=torch.float64)
    grad = torch.tensor([[0.3, -0.1], [2.0, 1.0]], dtype=torch.float64)
    state = opt.init(params)
    for _ in range(3):  # the first step is special for several optimizers
        before = (params.clone(), grad.clone(), [t.clone() for t in state if isinstance(t, torch.Tensor)])
        new_params, new_state = opt.step(params, grad, state)
        assert torch.equal(params, before[0]) and torch.equal(grad, before[1])
        assert all(torch.equal(a, b) for a, b in zip([t for t in state if isinstance(t, torch.Tensor)], before[2]))
        assert not torch.equal(new_params, params)
        params, state = new_params, new_state


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4)])
def test_params_of_any_shape(shape):
    torch.manual_seed(0)
    params = torch.randn(shape, dtype=torch.float32)
    grad = torch.randn(shape, dtype=torch.float32)
    opt = optviz.adam(lr=0.1)
    new, state = opt.step(params, grad, opt.init(params))
    ref = params.clone().requires_grad_(True)
    torch_opt = torch.optim.Adam([ref], lr=0.1, foreach=False)
    ref.grad = grad.clone()
    torch_opt.step()
    assert new.shape == params.shape and new.dtype == torch.float32
    assert torch.equal(new, ref.detach())
    assert state.step == 1


def test_registry_and_aliases():
    assert list(optviz.OPTIMIZERS) == ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "lion"]
    assert optviz.momentum().hyperparams["momentum"] == 0.9
    nesterov = optviz.nesterov(lr=0.1)
    assert nesterov.hyperparams["nesterov"] is True and nesterov.hyperparams["momentum"] == 0.9
    assert optviz.adamw().hyperparams["weight_decay"] == 1e-2
    assert optviz.get_optimizer("adam", lr=0.5).hyperparams["lr"] == 0.5


def test_defaults_are_torch_defaults():
    import inspect

    for name, cls in [("sgd", torch.optim.SGD), ("adagrad", torch.optim.Adagrad),
                      ("rmsprop", torch.optim.RMSprop), ("adam", torch.optim.Adam),
                      ("adamw", torch.optim.AdamW)]:
        ours = inspect.signature(factory(name)).parameters
        theirs = inspect.signature(cls).parameters
        for key, p in ours.items():
            assert float(p.default) == float(theirs[key].default) if not isinstance(p.default, tuple) \
                else p.default == theirs[key].default, (name, key)


def test_labels_show_the_lr_and_non_default_hyperparameters():
    assert optviz.adam(lr=0.1).label == "Adam lr=0.1"
    assert optviz.adam().label == "Adam lr=0.001"
    assert optviz.sgd(lr=0.4).label == "SGD lr=0.4"
    assert optviz.momentum(lr=0.6, momentum=0.5).label == "Momentum lr=0.6 momentum=0.5"
    assert optviz.momentum(lr=0.6).label == "Momentum lr=0.6"
    assert optviz.sgd(momentum=0.9).label == "Momentum lr=0.001"
    assert optviz.nesterov(lr=0.1).label == "Nesterov lr=0.1"
    assert optviz.adamw(weight_decay=0.1).label == "AdamW lr=0.001 weight_decay=0.1"
    assert optviz.rmsprop(lr=0.4, alpha=0.9).label == "RMSProp lr=0.4 alpha=0.9"
    assert optviz.sgd(lr=torch.tensor([[0.1], [0.2]])).label == "SGD lr=[0.1..0.2]"


# --- bad input ---------------------------------------------------------------------------------

TORCH_REJECTS = [
    ("sgd", dict(lr=-1), "Invalid learning rate: -1"),
    ("sgd", dict(momentum=-0.1), "Invalid momentum value: -0.1"),
    ("sgd", dict(weight_decay=-1e-3), "Invalid weight_decay value: -0.001"),
    ("sgd", dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("sgd", dict(momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires"),
    ("adagrad", dict(lr=-1), "Invalid learning rate: -1"),
    ("adagrad", dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    ("adagrad", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("adagrad", dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    ("adagrad", dict(eps=-1), "Invalid epsilon value: -1"),
    ("rmsprop", dict(lr=-1), "Invalid learning rate: -1"),
    ("rmsprop", dict(eps=-1), "Invalid epsilon value: -1"),
    ("rmsprop", dict(momentum=-1), "Invalid momentum value: -1"),
    ("rmsprop", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("rmsprop", dict(alpha=-1), "Invalid alpha value: -1"),
    ("adam", dict(lr=-1), "Invalid learning rate: -1"),
    ("adam", dict(eps=-1), "Invalid epsilon value: -1"),
    ("adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1"),
    ("adam", dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    ("adam", dict(betas=(-0.1, 0.999)), "Invalid beta parameter at index 0: -0.1"),
    ("adam", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("adamw", dict(lr=-1), "Invalid learning rate: -1"),
    ("adamw", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
]


@pytest.mark.parametrize("name,kwargs,message", TORCH_REJECTS)
def test_rejects_what_torch_rejects(name, kwargs, message):
    with pytest.raises(ValueError, match=message) as ours:
        factory(name)(**kwargs)
    with pytest.raises(ValueError):
        TORCH_CLASSES[name]([torch.zeros(1, requires_grad=True)], **kwargs)
    # ours also says what is allowed
    assert "must" in str(ours.value) or "(got " in str(ours.value)


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda: optviz.sgd(lr=math.nan), ValueError, r"Invalid learning rate: nan \(lr must be >= 0\)"),
        (lambda: optviz.sgd(lr="fast"), TypeError, "lr must be a float or a tensor, got str"),
        (lambda: optviz.sgd(nesterov="yes"), TypeError, "nesterov must be True or False"),
        (lambda: optviz.sgd(dampening="some"), TypeError, "dampening must be a float or a tensor, got str"),
        (lambda: optviz.rmsprop(alpha=-0.5), ValueError, r"Invalid alpha value: -0.5 \(alpha must be >= 0\)"),
        (lambda: optviz.adam(betas=0.9), TypeError, r"betas must be a pair"),
        (lambda: optviz.adam(lr=torch.tensor([0.1, -0.2])), ValueError, "Invalid learning rate: -0.2 in tensor lr"),
        (lambda: optviz.sgd(lr=torch.tensor([1j])), TypeError, "complex"),
        (lambda: optviz.get_optimizer("adma"), ValueError, "did you mean 'adam'"),
    ],
)
def test_bad_hyperparameters(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("name,kwargs", [("sgd", dict(momentum=0.9, dampening=2.0)), ("rmsprop", dict(alpha=1.5)),
                                         ("adam", dict(lr=math.inf))])
def test_accepts_what_torch_accepts(name, kwargs):
    """The factories keep torch.optim's own rules: no range torch does not impose."""
    TORCH_CLASSES[name]([torch.zeros(1, requires_grad=True)], **kwargs)
    assert factory(name)(**kwargs).hyperparams[next(iter(kwargs))] == next(iter(kwargs.values()))


def test_bad_params_and_grads():
    opt = optviz.sgd(lr=torch.tensor([[0.1], [0.2], [0.3]]))
    with pytest.raises(ValueError, match=r"lr of shape \(3, 1\) does not broadcast against params of shape \(2, 2\)"):
        opt.init(torch.zeros(2, 2))
    with pytest.raises(TypeError, match="floating dtype"):
        optviz.adam().init(torch.zeros(2, dtype=torch.int64))
    with pytest.raises(TypeError, match="params must be a torch.Tensor"):
        optviz.adam().init([1.0, 2.0])
    opt = optviz.adam()
    params = torch.zeros(2)
    with pytest.raises(ValueError, match=r"grad must match params \(\(2,\) torch.float32\), got \(3,\)"):
        opt.step(params, torch.zeros(3), opt.init(params))


def test_importing_optimizers_pulls_in_no_drawing_or_cli():
    code = "import sys, optviz.core.optimizers.base; print(sorted(m for m in ('matplotlib', 'click', 'PIL') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
