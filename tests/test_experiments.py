"""Real models: the notes' overfitting experiments, and loss landscapes with projected paths."""

from pathlib import Path

import pytest
import torch
from torch import nn

from optviz import experiments, landscape
from optviz.scenario import ExperimentScenario, ScenarioError, load

ROOT = Path(__file__).resolve().parent.parent


def test_weight_decay_stops_the_linear_model_overfitting():
    curves = experiments.linear_regression(epochs=100)
    free, decayed = curves.numbers["λ = 0"], curves.numbers["λ = 3"]
    assert free["train"] < 1e-6 and free["test"] > 100  # fits the noise, generalises badly
    assert free["‖w‖"] > 10 and decayed["‖w‖"] < 1.0  # weights start near sqrt(200) = 14
    assert decayed["test"] < free["test"] / 100
    assert len(curves.train["λ = 0"]) == 101  # epoch 0 and every epoch after


def test_linear_regression_equals_torch_optim_sgd():
    """The same run with torch.optim.SGD gives the same final weight norm."""
    g = torch.Generator().manual_seed(0)
    data = (*experiments.linear_data(20, 200, g), *experiments.linear_data(100, 200, g))
    torch.manual_seed(0)
    model = nn.Linear(200, 1)
    nn.init.normal_(model.weight)
    nn.init.zeros_(model.bias)
    groups = [{"params": [model.weight], "weight_decay": 3.0}, {"params": [model.bias], "weight_decay": 0.0}]
    experiments.train(model, torch.optim.SGD(groups, lr=0.003, foreach=False), data, batch=5, epochs=100,
                      generator=g)
    ours = experiments.linear_regression((3.0,), epochs=100).numbers["λ = 3"]["‖w‖"]
    assert ours == model.weight.norm().item()


def test_mlp_variants():
    curves = experiments.mlp(epochs=5)
    assert list(curves.train) == ["weight_decay 0.01", "no regularization", "dropout 0.3"]
    for name in curves.train:
        assert curves.train[name][-1] < curves.train[name][0] / 2  # they all learn
    assert "gap" in curves.numbers["dropout 0.3"]
    with pytest.raises(ValueError, match="unknown option"):
        experiments.mlp({"x": {"dropuot": 0.1}})
    with pytest.raises(ValueError, match="epochs must be a whole number >= 1"):
        experiments.mlp(epochs=0)


def test_landscape_pca_paths_grid_and_projection():
    study = landscape.landscape((("adam", {"lr": 0.005}), ("sgd", {"lr": 0.02, "momentum": 0.9})),
                                resolution=11, epochs=2)
    assert study.losses.shape == (11, 11)
    assert study.explained[0] > study.explained[1] > 0
    adam = study.paths["Adam lr=0.005"]
    assert torch.allclose(adam[-1], torch.zeros(2), atol=1e-6)  # the slice passes through Adam's end
    assert 0 <= study.projection_error["Momentum lr=0.02"] <= 1
    # the grid really is the model's loss: check one point with a plain forward pass
    model = experiments.mlp_model().eval()
    x, y, _, _ = experiments.mlp_data(0)
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    vector = nn.utils.parameters_to_vector(model.parameters()).detach()
    batched = landscape.grid_losses(model, names, shapes, torch.stack([vector, vector * 0.5]), x, y)
    with torch.no_grad():
        direct = nn.functional.mse_loss(model(x), y)
        nn.utils.vector_to_parameters(vector * 0.5, model.parameters())
        half = nn.functional.mse_loss(model(x), y)
    assert torch.allclose(batched, torch.stack([direct, half]), rtol=1e-5)


def test_landscape_as_result_and_function():
    study = landscape.landscape((("adam", {"lr": 0.005}),), resolution=9, epochs=1, directions="random")
    assert study.explained is None and "filter-normalised" in study.axis_labels[0]
    fn = study.function()
    corner = torch.tensor([[study.alphas[0].item(), study.betas[0].item()]], dtype=torch.float64)
    assert fn(corner).item() == pytest.approx(study.losses[0, 0].item())
    result = study.result()
    assert result.positions.shape[1] == 1 and result.n_starts == 1


def test_filter_normalised_directions_match_row_norms():
    model = experiments.mlp_model()
    shapes = [p.shape for p in model.parameters()]
    centre = nn.utils.parameters_to_vector(model.parameters()).detach()
    direction = landscape._filter_normalised(centre, shapes, seed=3)
    for weights, d in zip(landscape._unflatten(centre, shapes), landscape._unflatten(direction, shapes)):
        if weights.ndim == 2:
            assert torch.allclose(d.norm(dim=1), weights.norm(dim=1), rtol=1e-5)
        else:
            assert torch.equal(d, torch.zeros_like(d))


def test_bad_landscape_options():
    with pytest.raises(ValueError, match="directions must be 'pca' or 'random'"):
        landscape.landscape(directions="diagonal")
    with pytest.raises(ValueError, match="resolution must be"):
        landscape.landscape(resolution=1)
    with pytest.raises(ValueError, match="unknown optimizer 'adma'"):
        landscape.landscape((("adma", {}),))


def test_experiment_scenarios(tmp_path):
    scenario = load(ROOT / "scenarios" / "20-overfitting-linear-regression.toml")
    assert isinstance(scenario, ExperimentScenario) and scenario.settings["lambdas"] == (0, 3)
    bad = tmp_path / "bad.toml"
    bad.write_text('experiment = "mlpp"\n')
    with pytest.raises(ScenarioError, match="unknown experiment 'mlpp'; did you mean 'mlp'"):
        load(bad)
    bad.write_text('experiment = "mlp"\n[settings]\nepochz = 3\n')
    with pytest.raises(ScenarioError, match="settings.epochz: unknown key; did you mean 'epochs'"):
        load(bad)
    bad.write_text('experiment = "landscape"\n[settings]\noptimizers = [["adam", {lr = -1}]]\n')
    with pytest.raises(ScenarioError, match=r"settings.optimizers\[0\]: Invalid learning rate: -1"):
        load(bad)
