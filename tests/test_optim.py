"""optviz.optim against torch.optim on real models: identical losses at every step."""

import pytest
import torch
from torch import nn

from optviz.core.optimizers import optim as ovo


def mlp(dropout=0.0):
    torch.manual_seed(0)
    layers = [nn.Linear(12, 64), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))


def linear_data(n, d, seed):
    """y = 0.05 + sum_i 0.01 x_i + noise(0.01), as in the notes' overfitting experiment."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    return x, 0.05 + 0.01 * x.sum(dim=1, keepdim=True) + 0.01 * torch.randn(n, 1, generator=g)


def train(model, optimizer, x, y, batch, epochs, seed=0):
    torch.manual_seed(seed)  # the same shuffles (and dropout masks) for both runs
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            idx = order[i : i + batch]
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())
    return torch.stack(losses)


def side_by_side(make_model, make_optimizer, data, batch, epochs):
    results = []
    for module in (torch.optim, ovo):
        model = make_model()
        results.append((train(model, make_optimizer(module, model), *data, batch, epochs), model))
    (theirs, their_model), (ours, our_model) = results
    return theirs, ours, their_model, our_model


def torch_kwargs(module):
    return {"foreach": False} if module is torch.optim else {}


@pytest.mark.parametrize(
    "cls,kwargs,dropout",
    [
        ("Adam", dict(lr=0.005, weight_decay=0.01), 0.0),
        ("Adam", dict(lr=0.005), 0.3),
        ("AdamW", dict(lr=0.005, weight_decay=0.01, amsgrad=True), 0.0),
        ("RMSprop", dict(lr=1e-3, momentum=0.5, centered=True), 0.0),
        ("Adagrad", dict(lr=0.05, lr_decay=1e-3, initial_accumulator_value=0.1), 0.0),
        ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-3), 0.0),
    ],
)
def test_mlp_trains_identically(cls, kwargs, dropout):
    """SEEDS.md section 4's MLP: 12 -> 64 -> 32 -> 1, batch 32, 20 epochs."""
    data = linear_data(500, 12, seed=1)
    make = lambda module, model: getattr(module, cls)(model.parameters(), **kwargs, **torch_kwargs(module))
    theirs, ours, their_model, our_model = side_by_side(lambda: mlp(dropout), make, data, 32, 20)
    assert len(ours) == 20 * 16
    assert torch.equal(ours, theirs)
    assert ours[-1] < ours[0] / 2  # it really trained
    for a, b in zip(their_model.parameters(), our_model.parameters()):
        assert torch.equal(a, b)


def test_lion_trains_as_pytorch_optimizer_does():
    """optviz.optim.Lion against the reference's single-tensor path, on the MLP with weight decay."""
    from pytorch_optimizer import Lion

    data = linear_data(500, 12, seed=1)
    runs = []
    for make in (lambda model: Lion(model.parameters(), lr=3e-4, weight_decay=0.1, foreach=False),
                 lambda model: ovo.Lion(model.parameters(), lr=3e-4, weight_decay=0.1)):
        model = mlp()
        runs.append((train(model, make(model), *data, 32, 5), model))
    (theirs, their_model), (ours, our_model) = runs
    assert torch.equal(ours, theirs) and ours[-1] < ours[0] / 2
    assert all(torch.equal(a, b) for a, b in zip(their_model.parameters(), our_model.parameters()))


def test_linear_regression_with_weight_decay_on_the_weight_only():
    """SEEDS.md section 4: d = 200, 20 examples, batch 5, 100 epochs, SGD lr 0.003, lambda 3."""
    data = linear_data(20, 200, seed=2)

    def make_model():
        torch.manual_seed(3)
        model = nn.Linear(200, 1)
        nn.init.normal_(model.weight)
        nn.init.zeros_(model.bias)
        return model

    def make(module, model):
        groups = [{"params": [model.weight], "weight_decay": 3.0}, {"params": [model.bias]}]
        return module.SGD(groups, lr=0.003, **torch_kwargs(module))

    theirs, ours, their_model, our_model = side_by_side(make_model, make, data, 5, 100)
    assert torch.equal(ours, theirs)
    assert torch.equal(our_model.weight, their_model.weight)
    # weight decay shrank the weights (they start near norm sqrt(200) = 14)
    assert our_model.weight.norm() < 1.0


def test_state_dict_round_trip_and_torch_interchange():
    data = linear_data(64, 12, seed=4)
    model_a, model_b = mlp(), mlp()
    ours = ovo.Adam(model_a.parameters(), lr=0.01, amsgrad=True)
    theirs = torch.optim.Adam(model_b.parameters(), lr=0.01, amsgrad=True, foreach=False)
    train(model_a, ours, *data, batch=16, epochs=2)
    train(model_b, theirs, *data, batch=16, epochs=2)
    saved = ours.state_dict()
    assert set(saved["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert saved["state"][0]["step"].item() == 8.0
    # optviz state loads into torch.optim and torch's into optviz, and both go on identically
    swapped_ours = ovo.Adam(model_b.parameters(), lr=0.01, amsgrad=True)
    swapped_ours.load_state_dict(theirs.state_dict())
    swapped_theirs = torch.optim.Adam(model_a.parameters(), lr=0.01, amsgrad=True, foreach=False)
    swapped_theirs.load_state_dict(saved)
    after_a = train(model_a, swapped_theirs, *data, batch=16, epochs=2, seed=9)
    after_b = train(model_b, swapped_ours, *data, batch=16, epochs=2, seed=9)
    assert torch.equal(after_a, after_b)


def test_param_groups_and_schedulers():
    model = mlp()
    opt = ovo.SGD([{"params": model[0].parameters(), "lr": 0.1}, {"params": model[2].parameters()}], lr=0.01, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    opt.step()
    scheduler.step()
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.005]


def test_closure_and_parameters_without_grad():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    unused = torch.tensor([5.0], requires_grad=True)
    opt = ovo.Adagrad([w, unused], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 5.0
    assert unused.item() == 5.0 and w.tolist() != [1.0, 2.0]


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: ovo.SGD(p, lr=-1), "Invalid learning rate: -1"),
        (lambda p: ovo.Adam(p, betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1"),
        (lambda p: ovo.RMSprop(p, alpha=-0.5), "Invalid alpha value: -0.5"),
        (lambda p: ovo.Adagrad([{"params": p, "lr_decay": -1}]), "Invalid lr_decay value: -1"),
        (lambda p: ovo.SGD(p, nesterov=True), "Nesterov momentum requires a momentum"),
        (lambda p: ovo.RMSprop(p, capturable=True), "capturable=True is not supported"),
    ],
)
def test_bad_hyperparameters_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make([torch.zeros(2, requires_grad=True)])
