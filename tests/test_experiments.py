"""Real models: the notes' overfitting experiments, and loss landscapes with projected paths."""

from pathlib import Path

import pytest
import torch
from torch import nn

from optviz import experiments, landscape
from optviz.documents.scenario import ExperimentScenario, ScenarioError, load

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
