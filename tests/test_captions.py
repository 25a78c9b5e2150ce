"""Captions are tests: every number or comparison a gallery caption states is checked here
against the run that draws it (README's quick-start table: in test_wheel, from the wheel's own run)."""

import math

import pytest
import torch

import bundled_runs
import optviz
from groups import BUNDLED_RUNS

pytestmark = BUNDLED_RUNS  # the runs test_looks draws, run once for both


def scenario(number: int):
    return bundled_runs.scenario(next(name for name in bundled_runs.NAMES if name.startswith(f"{number:02d}-")))


def run(number: int):
    return bundled_runs.outcome(scenario(number).name)


def final(number, label):
    result = run(number)
    return result.path(label)[-1], result.losses[-1, result.index(label)].item()


def steps_taken(result, label):
    path = result.path(label)
    return torch.linalg.vector_norm(path[1:] - path[:-1], dim=-1)


def distance(point, target):
    return torch.linalg.vector_norm(point - torch.tensor(target, dtype=point.dtype)).item()


def caption(number):
    """The caption as the gallery shows it: the description with its events filled in from the run."""
    return scenario(number).caption(run(number))


def marks(fig):
    """The numbered ticks of a picture, by event name: the ticks' points and the numbers' texts."""
    found = {}
    for artist in fig.findobj(lambda a: (a.get_gid() or "").startswith("event:")):
        entry = found.setdefault(artist.get_gid().split(":", 1)[1], {"points": [], "texts": []})
        if hasattr(artist, "get_xydata") and not hasattr(artist, "get_text"):
            entry["points"] += [tuple(p) for p in artist.get_xydata()]
        else:
            entry["texts"].append(artist.get_text())
    return found


def drawn_marks(number):
    from optviz.documents.gallery import stills

    sc = scenario(number)
    return marks(stills(sc, run(number))[sc.name])


def test_01_three_learning_rates():
    assert "lr 0.2 converges, lr 0.05 is too slow, lr 1.1 overshoots further every step and diverges" in caption(1)
    assert abs(final(1, "SGD lr=0.2")[0].item()) < 0.1
    assert abs(final(1, "SGD lr=0.05")[0].item()) > 3  # a third of the way after ten steps
    x = run(1).path("SGD lr=1.1")[:, 0]
    assert (x[1:].abs() > x[:-1].abs()).all() and (torch.sign(x[1:]) == -torch.sign(x[:-1])).all()


def test_02_a_large_step_lands_in_the_poorer_minimum():
    assert "jumps past the nearby, deeper minimum at x ≈ 7.3" in caption(2) and "worse one at x ≈ -1.8" in caption(2)
    x = run(2).path("SGD lr=2")[:, 0]
    deep, poor = optviz.get_function("xcos").minima
    assert deep.point[0] == pytest.approx(7.3, abs=0.05) and poor.point[0] == pytest.approx(-1.8, abs=0.05)
    assert deep.value < poor.value
    assert x[1] < deep.point[0] and abs(x[-1] - poor.point[0]) < 0.3


def test_03_a_steady_slide():
    losses = run(3).losses[:, 0]
    assert (losses[1:] < losses[:-1]).all()


def test_04_ill_conditioned_sgd():
    assert "lr 0.4 crawls along x₁; lr 0.6 overshoots across x₂ further each step and diverges" in caption(4)
    assert final(4, "SGD lr=0.4")[0][0].item() < -0.5  # still far along the flat direction
    y = run(4).path("SGD lr=0.6")[:20, 1]
    assert (y[1:].abs() > y[:-1].abs()).all() and run(4).diverged_at[1] >= 0


def test_05_momentum():
    assert "momentum 0.5 converges" in caption(5) and "momentum 0.25 it barely converges" in caption(5)
    assert final(5, "Momentum lr=0.6 momentum=0.5")[1] < 1e-4
    start = run(5).losses[0, 1].item()
    assert 1e-3 < final(5, "Momentum lr=0.6 momentum=0.25")[1] < start / 100


def test_06_adagrad_stalls_at_lr_04():
    assert "At lr 0.4 the steps shrink before it gets there; lr 2 converges" in caption(6)
    steps = steps_taken(run(6), "AdaGrad lr=0.4")
    assert steps[-1] < steps[0] / 5 and final(6, "AdaGrad lr=0.4")[1] > 0.5
    assert final(6, "AdaGrad lr=2")[1] < 1e-5


def test_07_rmsprop_does_not_die_out():
    assert "at lr 0.4, where AdaGrad stalls, it reaches the minimum within 20 steps" in caption(7)
    assert final(7, "RMSProp lr=0.4 alpha=0.9")[1] < 1e-3 and final(6, "AdaGrad lr=0.4")[1] > 0.5


def test_09_the_mistaken_bias_correction():
    text = caption(9)
    assert "step 5 is 0.40 long against Adam's 0.22: the ticks" in text and "0.32 times Adam's" in text
    assert "far beyond this run" in text  # what the picture cannot show, said as such
    events = scenario(9).events_in(run(9))
    drawn = drawn_marks(9)
    for name, label in (("slip_5", "Adam, 1 - β (mistaken)"), ("right_5", "Adam, 1 - βᵗ (right)")):
        event = events[name]
        assert drawn[name]["points"] == [tuple(run(9).path(label)[5].tolist())]  # on its path, at step 5
        assert drawn[name]["texts"] == [f"step 5: {event.length:.2f} long"]  # the caption's number, on the picture
    assert f"{events['slip_5'].length:.2f}" == "0.40" and f"{events['right_5'].length:.2f}" == "0.22"
    assert "leave it a little lower after 60 steps" in text
    assert run(9).losses[-1, 1] < run(9).losses[-1, 0]
    right, wrong = steps_taken(run(9), "Adam, 1 - βᵗ (right)"), steps_taken(run(9), "Adam, 1 - β (mistaken)")
    assert right[0].item() == pytest.approx(wrong[0].item(), rel=1e-12)  # the same first step
    assert f"{wrong[4]:.2f}" == "0.40" and f"{right[4]:.2f}" == "0.22"
    assert (wrong[1:20] > right[1:20]).all()  # longer steps after the first
    # only once beta2^t has died away: with a steady gradient, sqrt(1 - beta2) / (1 - beta1)
    params, grad = torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    sizes = []
    for opt in (optviz.adam(lr=0.16), optviz.optimizers.adam_notes(lr=0.16)):
        p, state = params, opt.init(params)
        for _ in range(8000):
            new, state = opt.step(p, grad, state)
            step, p = (p - new).abs().item(), new
        sizes.append(step)
    assert sizes[1] / sizes[0] == pytest.approx(math.sqrt(0.001) / 0.1, rel=0.01)
    assert f"{math.sqrt(0.001) / 0.1:.2f}" == "0.32"


def test_10_six_optimizers_each_converge():
    assert "each at a learning rate that suits it" in caption(10)
    assert (run(10).losses[-1] < 0.01).all() and (run(10).diverged_at < 0).all()


def test_11_rosenbrock():
    assert "Momentum and Adam follow it to within 0.14 in 800 steps; RMSProp is still 0.54 away" in caption(11)
    assert distance(final(11, "Momentum lr=0.001")[0], (1, 1)) < 0.14
    assert distance(final(11, "Adam lr=0.05")[0], (1, 1)) < 0.14
    assert f"{distance(final(11, 'RMSProp lr=0.01')[0], (1, 1)):.2f}" == "0.54"
    assert distance(final(11, "SGD lr=0.001")[0], (1, 1)) > 1


def test_12_beale():
    assert "at 0.05 it diverges within three steps" in caption(12) and "end within 0.1 of it" in caption(12)
    fast = optviz.simulate("beale", optviz.sgd(lr=0.05), starts=list(scenario(12).starts[0]), steps=10)
    assert 0 <= fast.diverged_at.item() <= 3
    assert distance(final(12, "SGD lr=0.001")[0], (3, 0.5)) > 0.5
    for label in ("Momentum lr=0.001", "AdaGrad lr=0.5", "Adam lr=0.05"):
        assert distance(final(12, label)[0], (3, 0.5)) < 0.1, label


def test_13_sgd_lingers_at_the_saddle():
    assert "|y| passes 1 at step 32; momentum at 13, Adam at 10" in caption(13) and "runs off at step 35" in caption(13)
    assert "{" not in caption(13) and "{sgd_out}" in scenario(13).description  # the numbers come from the run
    result = run(13)
    drawn = drawn_marks(13)
    for name, event in scenario(13).events_in(result).items():
        if event.spec.kind == "passes":  # a tick where |y| first passes 1, numbered with that step
            assert drawn[name]["texts"] == [str(event.step)], name
            (x, y), = drawn[name]["points"]
            assert (x, y) == tuple(result.positions[event.step, event.path].tolist()) and abs(y) > 1 >= abs(
                result.positions[event.step - 1, event.path, 1].item()), name
        else:  # off the picture: the label where it leaves says the same step
            assert name not in drawn
            assert any(t.get_text().replace("\n", " ") == f"ran off at step {event.step}"
                       for t in fig_texts(13)), name
    escape = {label: int((result.path(label)[:, 1].abs() > 1).to(torch.int64).argmax()) for label in result.optimizers}
    assert (escape["SGD lr=0.05"], escape["Momentum lr=0.05"], escape["Adam lr=0.1"]) == (32, 13, 10)
    assert max(escape.values()) == escape["SGD lr=0.05"]
    assert "RMSProp" in caption(13) and "is out first, at step 2" in caption(13)
    assert min(escape.values()) == escape["RMSProp lr=0.05"] == 2
    assert result.diverged_at[result.index("Momentum lr=0.05")] == 35


def test_14_rastrigin():
    assert "SGD and Adam stop in the local minimum next to their start; momentum rolls over three ridges" in caption(14)
    assert "still circling a basin there after 200 steps" in caption(14) and scenario(14).steps == 200
    result = run(14)
    start = result.starts[0]
    for label in result.optimizers:
        end = result.path(label)[-1]
        ridges = ((end - start).abs() + 0.5).floor().sum().item()  # the grid's cells are 1 apart
        if label.startswith("Momentum"):
            assert ridges >= 3 and optviz.get_function("rastrigin").grad(end).norm() > 0.1, label  # still rolling
        else:
            assert optviz.get_function("rastrigin").grad(end).norm() < 0.01 and ridges <= 1, label  # at rest


def test_15_himmelblau_every_start_reaches_a_minimum():
    assert "Four equal minima" in caption(15)
    minima = torch.tensor([m.point for m in optviz.get_function("himmelblau").minima], dtype=torch.float64)
    reached = torch.cdist(run(15).positions[-1], minima).argmin(dim=1)
    assert (torch.cdist(run(15).positions[-1], minima).min(dim=1).values < 1e-3).all()
    assert set(reached.tolist()) == {0, 1, 2, 3}


def test_16_goldstein_price():
    assert "Values from 3 to a million" in caption(16)
    fn = optviz.get_function("goldstein_price")
    grid = torch.stack(torch.meshgrid(*[torch.linspace(-2, 2, 401, dtype=torch.float64)] * 2, indexing="xy"), -1)
    values = fn(grid)
    assert values.min() >= 3 - 1e-9 and 5e5 < values.max() < 2e6
    result = run(16)
    for label in result.optimizers:
        assert distance(result.path(label, 0)[-1], (0, -1)) < 0.2, label
    for label in ("RMSProp lr=0.01", "Adam lr=0.02"):
        assert distance(result.path(label, 1)[-1], (-0.6, -0.4)) < 0.1
        assert result.losses[-1, result.index(label, 1)].item() == pytest.approx(30, abs=2)


def test_17_two_dips_of_the_valley_and_both_paths_in_the_lower():
    text = caption(17)
    assert "dips wherever sin(y) = -1, at y = -π/2 and again at 3π/2 in this frame" in text
    assert "Both paths slide down into the dip below their start" in text
    (_, _), (y0, y1) = scenario(17).frame
    assert y0 < -math.pi / 2 and 3 * math.pi / 2 < y1 and y1 < 5 * math.pi / 2  # two dips in the frame, and only two
    for label in run(17).optimizers:
        assert distance(final(17, label)[0], (0, -math.pi / 2)) < 0.1, label


def test_22_the_picture_says_how_much_of_each_path_the_slice_cannot_show():
    from looks import legend_texts
    from optviz.documents.gallery import stills

    text = caption(22)
    landscape = run(22)
    momentum = next(name for name in landscape.paths if name.startswith("Momentum"))
    assert f"momentum's path is {landscape.projection_error[momentum]:.0%} off it" in text
    assert "momentum's path is 57% off it" in text
    shown = legend_texts(stills(scenario(22), landscape)[scenario(22).name])
    assert shown == [f"{name}: {error:.0%} off the slice" for name, error in landscape.projection_error.items()]


def fig_texts(number):
    from optviz.documents.gallery import stills

    sc = scenario(number)
    fig = stills(sc, run(number))[sc.name]
    fig.draw_without_rendering()
    return [t for ax in fig.axes for t in ax.texts]


def test_18_l1_lands_on_the_y_axis_at_lambda_47():
    from optviz.analyses.penalties import regularization_paths, sparse_from
    from optviz.documents.gallery import stills

    assert "lands on the y axis (x exactly 0) at λ ≈ 4.7" in caption(18)
    sc = scenario(18)
    regularized = regularization_paths(sc.base_function, highlight=sc.outputs.highlight)
    lam = sparse_from(regularized)
    assert f"{lam:.1f}" == "4.7" and lam == pytest.approx(14 / 3, abs=0.01)
    drawn = marks(stills(sc, run(18))[f"{sc.name}-regularization"])["sparse"]
    assert drawn["texts"] == ["λ ≈ 4.7"]  # the caption's lambda, on the picture
    (x, y), = drawn["points"]
    assert x == 0 and y > 0
    paths = regularization_paths(optviz.get_function("offset_ellipse"), lambdas=torch.linspace(4, 12, 161).tolist())
    on_axis = paths.lambdas[paths.l1_path[:, 0] == 0]
    assert on_axis.min().item() == pytest.approx(4.7, abs=0.05)  # 14/3, from the subgradient condition
    assert (paths.l1_path[paths.lambdas >= on_axis.min(), 0] == 0).all()  # and stays there


def test_08_adam_steps_about_lr():
    assert "20 steps of 0.16 carry it from (-5, -2) to (-1.98, 0.40), f = 0.71" in caption(8)
    assert scenario(8).steps == 20
    end, loss = final(8, "Adam lr=0.16")
    assert [f"{v:.2f}" for v in end.tolist()] == ["-1.98", "0.40"] and f"{loss:.2f}" == "0.71"


def test_19_weight_decay_is_the_l2_penalty():
    assert "Momentum with weight_decay 0.1 and momentum on the loss plus the penalty" in caption(19)
    assert all(label.startswith("Momentum") for label in list(scenario(19).optimizers)[-2:])
    result = run(19)
    decayed, penalised = (result.positions[:, result.index(label)] for label in list(result.optimizers)[-2:])
    assert torch.allclose(decayed, penalised, atol=1e-9, rtol=0)


def test_20_linear_regression_numbers():
    text = caption(20)
    assert "fits the training set to 1e-11" in text and "test loss stays near 229" in text and "stays at 14" in text
    assert "‖w‖ falls to 0.39 and the test loss to 0.26" in text
    numbers = run(20).numbers
    none, decayed = numbers["λ = 0"], numbers["λ = 3"]
    assert none["train"] < 1e-10 and round(none["test"]) == 229 and round(none["‖w‖"]) == 14
    assert f"{decayed['‖w‖']:.2f}" == "0.39" and f"{decayed['test']:.2f}" == "0.26"


def test_21_dropout_narrows_the_gap_most():
    assert "dropout 0.3 after the first layer narrows it most" in caption(21)
    numbers = run(21).numbers
    assert numbers["dropout 0.3"]["gap"] < min(v["gap"] for k, v in numbers.items() if k != "dropout 0.3")


def test_23_noise_needs_a_decaying_learning_rate():
    text = caption(23)
    assert "σ = 2" in text and scenario(23).noise == 2.0
    assert "jitters at f ≈ 0.24 (the mean of its last 50 steps)" in text and "f = 0.30 at step 100" in text
    assert "f ≈ 0.0004 over its last 50 steps" in text
    result = run(23)
    constant, small, decaying = (result.losses[:, result.index(label)] for label in result.optimizers)
    assert f"{constant[-50:].mean().item():.2f}" == "0.24" and f"{small[100].item():.2f}" == "0.30"
    assert f"{decaying[-50:].mean().item():.4f}" == "0.0004"
    assert result.lrs["SGD, lr 0.1 decaying 1.5% a step"][1].item() == pytest.approx(0.1 * 0.985)


def test_24_torch_optimizers():
    text = caption(24)
    result = run(24)
    modes = {label.split()[0]: mode for label, mode in result.modes.items()}
    assert modes == {"LBFGS": "per-start", "Muon": "per-start (1 x 2 matrix)", "Rprop": "batched", "NAdam": "batched"}
    labels = list(result.optimizers)
    assert "within 1e-6 of the minimum after 2 steps" in text and result.steps_to(1e-6)[0].item() == 2
    muon = result.path(labels[1])
    lengths = torch.linalg.vector_norm(muon[1:] - muon[:-1], dim=-1)
    assert "constant length (0.014)" in text and f"{lengths.min().item():.3f}" == f"{lengths.max().item():.3f}" == "0.014"
    assert "ends 0.19 from (1, 1)" in text and f"{distance(muon[-1], (1, 1)):.2f}" == "0.19"
    assert "ends 0.99 away" in text and f"{distance(final(24, labels[2])[0], (1, 1)):.2f}" == "0.99"
    assert "(f = 1.41)" in text and f"{final(24, labels[3])[1]:.2f}" == "1.41"


def test_25_lion_moves_every_coordinate_by_lr():
    text = caption(25)
    result = run(25)
    lion, adam = result.path("Lion lr=0.25"), result.path("Adam lr=0.5")
    moves = (lion[1:] - lion[:-1]).abs()
    assert "every coordinate by exactly lr at every step" in text and "lattice of spacing 0.25" in text
    assert ((moves - 0.25).abs() < 1e-12).all()  # 45° strokes: both coordinates, lr each
    assert "(to x₁ = 2.75)" in text and lion[:, 0].max().item() == pytest.approx(2.75, abs=1e-9)
    assert "keeps hopping by lr about x₂ = 0" in text and (lion[-10:, 1].abs() <= 0.25 + 1e-12).all()
    first, last = (adam[1] - adam[0]).abs(), (adam[1:] - adam[:-1]).abs()[-3:].max()
    assert "Adam's first step is lr in each coordinate" in text and torch.allclose(first, torch.full_like(first, 0.5))
    assert "to about a tenth of lr" in text and 0.05 < last.item() / 0.5 < 0.15


def test_26_momentum_velocity_builds_up():
    from optviz.analyses.state import state_vectors

    text = caption(26)
    result = run(26)
    velocity = state_vectors(result).velocity[:, :, 0]  # along x1
    heavy, light = result.index("Momentum lr=0.05"), result.index("Momentum lr=0.05 momentum=0.5")
    assert result.optimizers["Momentum lr=0.05"].hyperparams["momentum"] == 0.9
    assert "−lr·b" in text and torch.equal(torch.as_tensor(velocity[1:, heavy]),
                                          -0.05 * result.state["Momentum lr=0.05"]["momentum_buffer"][1:, 0, 0])
    assert "from 0.05 at step 1 to 0.28 at step 12" in text
    assert f"{velocity[1, heavy]:.2f}" == f"{velocity[1, light]:.2f}" == "0.05"
    assert int(velocity[1:, heavy].argmax()) + 1 == 12 and f"{velocity[1:, heavy].max():.2f}" == "0.28"
    assert "levels off at 0.09" in text and f"{velocity[1:, light].max():.2f}" == "0.09"
    assert abs(velocity[-1, light] - velocity[5, light]) < 0.03  # it stays there
    assert "After 24 steps" in text and result.steps == 24
    assert "momentum 0.9 is at x₁ = 0.08" in text and f"{final(26, 'Momentum lr=0.05')[0][0]:.2f}" == "0.08"
    assert "momentum 0.5 at x₁ = −3.1" in text and f"{final(26, 'Momentum lr=0.05 momentum=0.5')[0][0]:.1f}" == "-3.1"


def test_27_adam_step_size_is_per_coordinate():
    from optviz.analyses.state import state_vectors

    text = caption(27)
    result = run(27)
    found = state_vectors(result)
    size, taken = found.step_size[:, 0], found.taken[:, 0]
    assert "lr/(√v̂+ε)" in text and result.optimizers["Adam lr=0.2"].hyperparams["betas"] == (0.9, 0.999)
    assert "At step 1 it is 8 times longer along the flat x₁" in text and size[1, 0] / size[1, 1] == pytest.approx(8)
    grad = result.function.grad(result.positions[0, 0])
    assert "the gradient (−1, −8)" in text and grad.tolist() == [-1.0, -8.0]
    assert "so the step is 0.2 in both" in text and taken[0] == pytest.approx([0.2, 0.2])
    assert "in the first five steps each coordinate moves 0.19 to 0.2" in text
    assert (taken[:5] >= 0.19).all() and (taken[:5] <= 0.2 + 1e-12).all()
    ratio = size[1:, 0] / size[1:, 1]
    assert "Over 40 steps the ellipses stay 5.5 to 8 times wider than tall" in text and result.steps == 40
    assert f"{ratio.min():.1f}" == "5.5" and f"{ratio.max():.1f}" == "8.0"
    assert "f falls from 10.5 to 0.098" in text
    assert f"{result.losses[0, 0]:.1f}" == "10.5" and f"{result.losses[-1, 0]:.3f}" == "0.098"


def test_28_muon_grows_a_low_rank_targets_singular_values_together():
    from optviz.analyses.spectrum import spectra

    text = caption(28)
    result = run(28)
    found = spectra(result)
    muon, adam, momentum = (found.values[:, result.index(label)] for label in result.optimizers)
    assert list(result.optimizers) == ["Muon", "Adam", "SGD"]  # SGD: momentum 0.9
    assert {label: opt.hyperparams["lr"] for label, opt in result.optimizers.items()} == {
        "Muon": 0.04, "Adam": 0.05, "SGD": 0.5}
    assert result.optimizers["SGD"].hyperparams["momentum"] == 0.9
    assert result.modes["Muon"] == "per-start (16 x 3 matrix)"  # stepped as the matrix [U; V]
    assert "W = UVᵀ (8 × 8)" in text and "rank-3 target whose singular values are 8, 4 and 2" in text
    assert result.function.matrix == (16, 3) and found.optimum.tolist() == pytest.approx([8, 4, 2])
    assert "all below 0.001" in text and muon[0].max() < 0.001

    def reached(values):  # the first step each singular value is at 90% of its target
        return [int((values[:, k] >= 0.9 * found.optimum[k]).nonzero()[0]) for k in range(3)]

    assert "at step 30, 43 and 81" in text and reached(momentum) == [30, 43, 81]
    assert "at step 20 they are 1.6, 1.0 and 0.95" in text
    assert [f"{v:.2g}" for v in muon[20].tolist()] == ["1.6", "1", "0.95"]
    assert "momentum's are 0.19, 0.015 and 0.00035" in text
    assert [f"{v:.2g}" for v in momentum[20].tolist()] == ["0.19", "0.015", "0.00035"]
    assert "the smallest target is reached first (steps 29, 43 and 65)" in text and reached(muon) == [65, 43, 29]
    assert "Adam reaches the top two by step 21 and the third at step 53" in text
    assert max(reached(adam)[:2]) == 21 and reached(adam)[2] == 53
    losses = {label: result.losses[:, result.index(label)] for label in result.optimizers}
    late = losses["Muon"][120:]
    assert "from step 120 its f hovers between 4e-5 and 0.002" in text
    assert f"{late.min():.0e}" == "4e-05" and f"{late.max():.1g}" == "0.002"
    steps = steps_taken(result, "Muon")
    assert "does not shrink" in text and steps[-50:].mean() > 0.5 * steps[50:100].mean()
    assert "Adam's falls to 1.6e-9 and momentum's to 2.6e-8" in text
    assert f"{losses['Adam'][-1]:.1e}" == "1.6e-09" and f"{losses['SGD'][-1]:.1e}" == "2.6e-08"


def test_29_each_lr_is_stable_exactly_while_the_sharpness_is_under_2_over_lr():
    from optviz.analyses.curvature import edge_ratios, sharpness, stability_thresholds

    text, result = caption(29), run(29)
    labels = list(result.optimizers)
    assert labels == ["SGD lr=0.45", "SGD lr=0.5", "SGD lr=0.55"]
    assert "its top eigenvalue, the sharpness, is 4" in text
    assert torch.equal(sharpness(result), torch.full_like(sharpness(result), 4.0))  # the same everywhere
    limits = {label: float(limit[0]) for label, limit in stability_thresholds(result).items()}
    assert "(2/lr = 4.44)" in text and "(2/lr = 4, on the edge)" in text and "(2/lr = 3.64)" in text
    assert [f"{limits[label]:.3g}" for label in labels] == ["4.44", "4", "3.64"]
    x2 = {label: result.path(label)[:, 1] for label in labels}
    assert "shrinks by 0.8 a step" in text and torch.allclose(x2[labels[0]][1:] / x2[labels[0]][:-1],
                                                                torch.tensor(-0.8, dtype=torch.float64))
    assert "f falls to 0.0087 by step 30" in text and f"{final(29, labels[0])[1]:.2g}" == "0.0087"
    assert "flips between −2 and 2 forever" in text and set(x2[labels[1]].abs().tolist()) == {2.0}
    assert "f stays at 8" in text and f"{final(29, labels[1])[1]:.2g}" == "8"
    assert "grows 1.2 times a step, to 475 at step 30 (f = 4.5e5)" in text
    assert torch.allclose(x2[labels[2]][1:] / x2[labels[2]][:-1], torch.tensor(-1.2, dtype=torch.float64))
    assert f"{abs(float(x2[labels[2]][-1])):.0f}" == "475" and f"{final(29, labels[2])[1]:.2g}" == "4.5e+05"
    ratios = edge_ratios(result)
    lows, highs = ratios.min(dim=0).values.tolist(), ratios.max(dim=0).values.tolist()
    assert [f"{v:.2g}" for v in highs] == ["0.89", "1", "1.1"] and [f"{v:.3g}" for v in lows] == ["0.075", "0.985", "1.08"]
    assert f"{lows[0]:.1g}" == "0.08" and f"{lows[1]:.2g}" == "0.99"
    assert "at lr 0.45 from 0.89 down to 0.08" in text and "at lr 0.5 from 0.99 to 1, on the edge" in text
    assert "at lr 0.55 from 1.08 to 1.1, past it" in text


def test_30_sharpness_rises_to_its_limit_and_stays_near_it():
    text, found = caption(30), run(30)
    gd, adam = found.family("sgd"), found.family("adam")

    def listed(values, spec=""):
        words = [format(v, spec) for v in values]
        return f"{words[0]}, {words[1]} and {words[2]}"

    def of(runs, key):
        return [r.numbers()[key] for r in runs]

    assert f"at lr {listed([r.lr for r in gd], 'g')} the sharpness rises from {gd[0].sharpness[0]:.1f}" in text
    assert all(r.sharpness[0] == gd[0].sharpness[0] for r in gd)  # the same initial weights
    assert f"crosses 2/lr ({listed([r.threshold for r in gd], '.3g')}) at steps {listed([r.crossing() for r in gd])}" \
        in text
    assert f"(to {max(gd[0].sharpness):.1f} at lr {gd[0].lr:g})" in text
    assert f"its mean is {listed(of(gd, 'late mean'), '.2f')}, within 5% of 2/lr" in text
    assert all(abs(r.numbers()["late mean"] / r.threshold - 1) < 0.05 for r in gd)
    assert f"from {listed(of(gd, 'loss at crossing'), '.2f')} at the crossing to 0.040, " \
           f"{of(gd, 'final loss')[1]:.2g} and {of(gd, 'final loss')[2]:.2g}" in text
    assert f"{of(gd, 'final loss')[0]:.3f}" == "0.040"
    assert f"rising at {listed([r.rises(r.crossing()) for r in gd])} of the steps since" in text
    assert f"at lr {listed([r.lr for r in adam], 'g')} does the same" in text
    assert f"against 38/lr = {listed([r.threshold for r in adam], '.0f')}" in text
    assert f"it crosses at steps {listed([r.crossing() for r in adam])}" in text
    assert f"averages {listed(of(adam, 'late mean'), '.0f')}, within 11%" in text
    assert all(abs(r.numbers()["late mean"] / r.threshold - 1) < 0.11 for r in adam)
    assert f"while the loss falls from {listed(of(adam, 'loss at crossing'), '.2g')} to " \
           f"{listed(of(adam, 'final loss'), '.2g')}" in text
