"""Loss landscapes of any model: the user's checkpoints or trained paths, directions as Li et
al. define them, batched evaluation checked against plain forward passes, a torchrun of two
processes equal to one, and a killed run resumed to the same grid."""

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch import nn

import optviz
from optviz import experiments, landscape
from optviz.interface.cli import main
from optviz.analyses.models.evaluation import EvaluationError, Evaluator, batches
from optviz.analyses.models.weights import Directions, Layout, WeightsError, filter_normalised

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# The small CNN, its data and its training, written once for the tests, the spec file and
# the processes the tests start.
SPEC = '''
import torch
from torch import nn

def make_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Dropout(0.2), nn.Linear(8, 3))

_g = torch.Generator().manual_seed(0)
_x = torch.randn(96, 1, 8, 8, generator=_g)
_y = (_x.mean(dim=(1, 2, 3)) > 0).long() + (_x[:, 0, 0, 0] > 1).long()
dataset = torch.utils.data.TensorDataset(_x, _y)
data = torch.utils.data.DataLoader(dataset, batch_size=40, shuffle=False)
loss = nn.functional.cross_entropy
model = make_model()

def train(steps=12):
    """The user's own training, with a checkpoint after every few steps."""
    net = make_model()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    saved = [{k: v.clone() for k, v in net.state_dict().items()}]
    batches = torch.utils.data.DataLoader(dataset, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(1))
    for step, (xb, yb) in zip(range(steps), (b for _ in range(10) for b in batches)):
        opt.zero_grad()
        loss(net(xb), yb).backward()
        opt.step()
        if step % 3 == 2:
            saved.append({k: v.clone() for k, v in net.state_dict().items()})
    return saved
'''


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cnn")
    spec = folder / "cnn_spec.py"
    spec.write_text(SPEC)
    names: dict = {}
    exec(compile(SPEC, str(spec), "exec"), names)
    checkpoints = names["train"]()
    files = []
    for k, state in enumerate(checkpoints):
        files.append(folder / f"ckpt-{k:02d}.pt")
        torch.save(state, files[-1])
    return names, checkpoints, files, spec


def direct_loss(names, state):
    """The loss over all the data by plain forward passes of a model holding ``state``."""
    model = names["make_model"]()
    model.load_state_dict(state)
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for xb, yb in names["data"]:
            total += names["loss"](model(xb), yb).item() * len(xb)
            count += len(xb)
    return total / count


def test_the_built_in_mlp_landscape_is_unchanged():
    # the gallery's own settings give the gallery's own numbers
    study = landscape.landscape(optimizers=[["sgd", {"lr": 0.02, "momentum": 0.9}], ["adam", {"lr": 0.005}],
                                            ["rmsprop", {"lr": 0.002}]], directions="pca", resolution=51, epochs=20)
    assert study.summary() == (ROOT / "gallery" / "22-loss-landscape-numbers.txt").read_text().strip()
    assert study.function().title == "MLP training loss on a PCA slice"


def test_a_cnn_with_batchnorm_and_a_dataloader_on_its_own_checkpoints(cnn):
    names, checkpoints, files, _ = cnn
    study = landscape.landscape(names["model"], names["loss"], names["data"], checkpoints=files, resolution=9)
    path = study.paths["checkpoints"]
    assert path.shape == (len(checkpoints), 2) and torch.allclose(path[-1], torch.zeros(2), atol=1e-6)
    # each point of the path at its true loss, with its own BatchNorm statistics
    for k, state in enumerate(checkpoints):
        assert study.path_losses["checkpoints"][k].item() == pytest.approx(direct_loss(names, state), rel=1e-5)
    # a grid point is the model at centre + a d1 + b d2 with the centre's statistics
    layout = Layout.of(names["model"])
    centre, _ = layout.flatten(checkpoints[-1])
    i, j = 2, 6
    point = centre + study.alphas[j] * study.basis.vectors[0] + study.betas[i] * study.basis.vectors[1]
    moved = {**checkpoints[-1], **layout.split(point)}
    assert study.losses[i, j].item() == pytest.approx(direct_loss(names, moved), rel=1e-5)
    # the statistics matter: the first checkpoint with the centre's would give another loss
    first_with_centre_stats = {**checkpoints[-1], **layout.split(layout.flatten(checkpoints[0])[0])}
    assert abs(direct_loss(names, first_with_centre_stats) - study.path_losses["checkpoints"][0].item()) > 1e-3
    # eval mode: dropout off, so a second run is the same to the bit
    again = landscape.landscape(names["model"], names["loss"], names["data"], checkpoints=checkpoints, resolution=9)
    assert torch.equal(again.losses, study.losses)
    assert study.function().title == "Sequential loss on a PCA slice"


def test_batched_and_point_by_point_evaluation_agree_with_plain_calls():
    # a model without convolutions is evaluated under vmap, one with them point by point; both
    # must give the model's own loss, BatchNorm statistics and embeddings included
    torch.manual_seed(3)
    model = nn.Sequential(nn.Embedding(10, 6), nn.Flatten(), nn.Linear(18, 8), nn.BatchNorm1d(8), nn.Tanh(),
                          nn.Dropout(0.5), nn.Linear(8, 3))
    model.train()(torch.randint(0, 10, (64, 3)))  # running statistics that are not the defaults
    x, y = torch.randint(0, 10, (50, 3)), torch.randint(0, 3, (50,))
    layout = Layout.of(model)
    centre, buffers = layout.flatten(model.state_dict())
    points = centre + 0.1 * torch.randn(5, centre.numel())
    evaluator = Evaluator(model, nn.functional.cross_entropy, batches((x, y), batch_size=16), torch.device("cpu"))
    assert evaluator.vectorised
    batched = evaluator.losses(points, buffers)
    evaluator.vectorised = False
    one_by_one = evaluator.losses(points, buffers)
    plain = copy.deepcopy(model).eval()
    for k, point in enumerate(points):
        plain.load_state_dict({**model.state_dict(), **layout.split(point)})
        with torch.no_grad():
            expected = nn.functional.cross_entropy(plain(x), y).item()
        assert batched[k].item() == pytest.approx(expected, rel=1e-5)
        assert one_by_one[k].item() == pytest.approx(expected, rel=1e-5)
    assert not Evaluator(_conv_model(), nn.functional.cross_entropy, batches((torch.zeros(2, 1, 4, 4),
                         torch.zeros(2, dtype=torch.long))), torch.device("cpu")).vectorised


def _conv_model():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 3))


def test_filter_normalised_directions_per_filter(cnn):
    names, checkpoints, _, _ = cnn
    model = names["make_model"]()
    model.add_module("embed", nn.Embedding(5, 3))  # rows are its filters
    layout = Layout.of(model)
    centre, _ = layout.flatten(model.state_dict())
    directions = filter_normalised(layout, centre, seed=3)
    for vector in directions.vectors:
        for (name, weights), d in zip(layout.split(centre).items(), layout.split(vector).values()):
            if weights.ndim >= 2:  # each output channel, row or embedding as long as the weights'
                assert torch.allclose(d.reshape(len(d), -1).norm(dim=1), weights.reshape(len(weights), -1).norm(dim=1),
                                      rtol=1e-5), name
                assert not torch.allclose(d, weights)
            else:  # biases and BatchNorm's scale and shift stay put
                assert torch.equal(d, torch.zeros_like(d)), name
    assert torch.equal(filter_normalised(layout, centre, seed=3).vectors, directions.vectors)
    assert not torch.equal(filter_normalised(layout, centre, seed=4).vectors, directions.vectors)
    moved = filter_normalised(layout, centre, seed=3, biases=True)
    for weights, d in zip(layout.split(centre).values(), layout.split(moved.vectors[0]).values()):
        if weights.ndim < 2:
            assert torch.equal(d, weights)  # along themselves, as Li et al.'s code moves them


def test_directions_save_load_and_draw_another_model_on_the_same_slice(cnn, tmp_path):
    names, checkpoints, _, _ = cnn
    first = landscape.landscape(names["model"], names["loss"], names["data"], checkpoints=checkpoints,
                                directions="random", resolution=5)
    saved = first.basis.save(tmp_path / "d.pt")
    loaded = Directions.load(saved)
    assert torch.equal(loaded.vectors, first.basis.vectors) and loaded.kind == "random"
    other = landscape.landscape(names["model"], names["loss"], names["data"], checkpoints=checkpoints[:3],
                                directions=loaded, resolution=5)
    assert other.directions == "loaded" and torch.equal(other.basis.vectors, first.basis.vectors)
    with pytest.raises(WeightsError, match=r"the directions' '0.weight' is \(4, 1, 3, 3\), the model's is \(64, 12\)"):
        landscape.landscape(directions=loaded, resolution=5)  # made for the CNN, not the MLP


def test_trained_paths_with_torch_optimizers_and_schedules(cnn):
    from torch.optim.lr_scheduler import StepLR

    names, _, _, _ = cnn
    scheduled = optviz.scheduled(torch.optim.NAdam, lambda opt: StepLR(opt, step_size=2, gamma=0.5))
    study = landscape.landscape(names["model"], names["loss"], names["data"], epochs=1, batch=32, resolution=5,
                                optimizers=[("adam", {"lr": 0.01}), scheduled], line=7)
    steps = -(-96 // 32)
    assert [len(p) for p in study.paths.values()] == [steps + 1, steps + 1]
    assert 0 <= min(study.projection_error.values()) <= max(study.projection_error.values()) <= 1
    line = study.line
    assert line.alphas[0].item() == pytest.approx(-0.25) and line.alphas[-1].item() == pytest.approx(1.25)
    assert line.path_alphas[0].item() == pytest.approx(0.0, abs=1e-6) and line.path_alphas[-1].item() == pytest.approx(1.0)
    assert torch.allclose(line.path_losses, study.path_losses["Adam lr=0.01"])


def test_interpolation_between_two_checkpoints(cnn, tmp_path):
    names, checkpoints, files, _ = cnn
    line = landscape.interpolate(names["model"], names["loss"], names["data"], files[0], files[-1], points=5,
                                 margin=0.0, path=files)
    assert line.alphas.tolist() == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    assert line.losses[0].item() == pytest.approx(direct_loss(names, checkpoints[0]), rel=1e-5)
    assert line.losses[-1].item() == pytest.approx(direct_loss(names, checkpoints[-1]), rel=1e-5)
    fig = optviz.render.line_chart(line).figure
    assert fig.axes[0].get_xlabel().startswith("α")
    optviz.save(fig, tmp_path / "line.png")


@pytest.mark.parametrize("change,message", [
    (dict(loss_fn=nn.functional.mse_loss), "the model's output does not fit the loss on the first batch"),
    (dict(data=(torch.zeros(0, 1, 8, 8), torch.zeros(0, dtype=torch.long))), "the data yields no examples"),
    (dict(device="cuda:3"), "this machine has no CUDA GPU"),
    (dict(device="tpu"), "is not a device"),
    (dict(resolution=2), "resolution must be a whole number between 3 and 401"),
    (dict(span=-1.0), "span must be a positive number"),
    (dict(span=(0, 1, 2)), "span must be a positive number"),
    (dict(directions="diagonal"), "directions must be 'pca', 'random', 'hessian' or saved Directions"),
    (dict(optimizers=["sgd"]), "give the path as checkpoints= (your own training) or optimizers= (to train), not both"),
    (dict(params=lambda name, p: name.startswith("0."), directions=landscape.Directions(torch.zeros(2, 1), "random", (), ())),
     "params= cannot restrict saved Directions"),
])
def test_bad_landscape_input_is_named_before_the_grid(cnn, change, message):
    names, checkpoints, _, _ = cnn
    settings = dict(model=names["model"], loss_fn=names["loss"], data=names["data"], checkpoints=checkpoints,
                    resolution=5)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        landscape.landscape(**{**settings, **change})


def test_checkpoints_that_do_not_fit_name_the_first_key(cnn, tmp_path):
    names, checkpoints, _, _ = cnn
    wrong = {**checkpoints[0], "4.weight": torch.zeros(8, 4, 5, 5)}
    with pytest.raises(WeightsError, match=r"checkpoint 1: '4.weight' is \(8, 4, 5, 5\), the model's is \(8, 4, 3, 3\)"):
        landscape.landscape(names["model"], names["loss"], names["data"], checkpoints=[checkpoints[0], wrong])
    missing = {k: v for k, v in checkpoints[0].items() if k != "1.running_mean"}
    with pytest.raises(WeightsError, match=r"'1.running_mean' \(4,\) is missing"):
        landscape.landscape(names["model"], names["loss"], names["data"], checkpoints=[missing, checkpoints[1]])
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="not a torch state_dict file"):
        landscape.landscape(names["model"], names["loss"], names["data"], checkpoints=[tmp_path / "junk.pt"] * 2)


def test_a_save_folder_refuses_another_run(cnn, tmp_path):
    names, checkpoints, _, _ = cnn
    settings = dict(checkpoints=checkpoints, resolution=5, chunk=4, save=tmp_path / "grid")
    first = landscape.landscape(names["model"], names["loss"], names["data"], **settings)
    again = landscape.landscape(names["model"], names["loss"], names["data"], **settings)  # all loaded
    assert torch.equal(first.losses, again.losses)
    with pytest.raises(EvaluationError, match=r"holds another run \(its resolution differ\)"):
        landscape.landscape(names["model"], names["loss"], names["data"], **{**settings, "resolution": 7})


def _env(**extra):
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), **extra}


# Each of torchrun's processes: the CNN's Hessian (its batches dealt to the ranks), then the
# landscape command, in one launch.
RANKS = '''
import sys, torch
sys.path.insert(0, {spec_dir!r})
import cnn_spec as spec
from optviz import landscape
from optviz.analyses.models.evaluation import join_process_group, rank_and_world
from optviz.interface.cli import main

join_process_group()
x, y = spec.dataset.tensors
top = landscape.top_eigenvalues(spec.make_model().double(), spec.loss, (x.double(), y), k=2, batch_size=40)
rank = rank_and_world()[0]
torch.save(top.values, {out!r} + f"/eigenvalues-{{rank}}.pt")
last_batch_cut = lambda out, y: spec.loss(out, y) if len(y) != 16 else torch.cdist(out, out).mean()  # rank 0's
try:
    landscape.top_eigenvalues(spec.make_model(), last_batch_cut, (x, y), batch_size=40)
except ValueError as error:
    open({out!r} + f"/refused-{{rank}}.txt", "w").write(str(error))
main({args!r}, prog_name="optviz", standalone_mode=False)
'''


def test_two_processes_under_torchrun_equal_one_bit_for_bit(cnn, tmp_path):
    names, _, files, spec = cnn
    args = [str(spec), "--checkpoints", str(files[0].parent / "ckpt-*.pt"), "--resolution", "9", "--quiet",
            "--png", str(tmp_path / "l.png")]
    one = subprocess.run([PYTHON, "-m", "optviz", "landscape", *args, "--save", str(tmp_path / "one")],
                         env=_env(), capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    script = tmp_path / "ranks.py"
    script.write_text(RANKS.format(spec_dir=str(spec.parent), out=str(tmp_path),
                                   args=["landscape", *args, "--save", str(tmp_path / "two")]))
    two = subprocess.run([PYTHON, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(script)],
                         env=_env(), capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr
    chunks = sorted(p.name for p in (tmp_path / "one").glob("grid-*.pt"))
    assert chunks == sorted(p.name for p in (tmp_path / "two").glob("grid-*.pt")) and len(chunks) >= 2
    for name in chunks:
        assert torch.equal(torch.load(tmp_path / "one" / name), torch.load(tmp_path / "two" / name)), name
    # the Hessian: batches of 40, 40 and 16, the first and last on rank 0; every product summed
    # over both, so both ranks hold the same eigenvalues, one process's up to the sum's rounding
    x, y = names["dataset"].tensors
    alone = landscape.top_eigenvalues(names["make_model"]().double(), names["loss"], (x.double(), y), k=2,
                                      batch_size=40)
    ranks = [torch.load(tmp_path / f"eigenvalues-{rank}.pt") for rank in (0, 1)]
    assert torch.equal(ranks[0], ranks[1])
    assert torch.allclose(ranks[0], alone.values, rtol=1e-10, atol=0), (ranks[0], alone.values)
    # a product only rank 0 cannot take stops both, each saying so, instead of leaving rank 1 waiting
    assert (tmp_path / "refused-0.txt").read_text().startswith("the loss is not twice differentiable: the derivative "
                                                               "for '_cdist_backward' is not implemented.")
    assert (tmp_path / "refused-1.txt").read_text() == ("another process could not take the Hessian product (its own "
                                                        "message says why)")


KILLED = '''
import sys, time, torch
sys.path.insert(0, {spec_dir!r})
import cnn_spec as spec
from optviz import landscape

def slow(what, done, total):
    if what == "grid points":
        print(done, flush=True)
        time.sleep(0.3)

torch.set_num_threads(1)
landscape.landscape(spec.model, spec.loss, spec.data, checkpoints={files!r}, resolution=9, chunk=4,
                    save={save!r}, progress=slow)
'''


def test_a_killed_run_resumes_to_the_same_grid(cnn, tmp_path):
    names, _, files, spec = cnn
    save = tmp_path / "grid"
    script = tmp_path / "killed.py"
    script.write_text(KILLED.format(spec_dir=str(spec.parent), files=[str(f) for f in files], save=str(save)))
    process = subprocess.Popen([PYTHON, str(script)], env=_env(), stdout=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while len(list(save.glob("grid-*.pt"))) < 3 and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = len(list(save.glob("grid-*.pt")))
    assert 3 <= written < 21  # 81 points in chunks of 4: killed part way
    (save / ".grid-000020.pt.tmp123.part").write_bytes(b"half")  # what a kill inside a write leaves
    torch.set_num_threads(1)
    done = []
    resumed = landscape.landscape(names["model"], names["loss"], names["data"], checkpoints=files, resolution=9,
                                  chunk=4, save=save, progress=lambda what, n, total: done.append((what, n, total)))
    whole = landscape.landscape(names["model"], names["loss"], names["data"], checkpoints=files, resolution=9, chunk=4)
    assert torch.equal(resumed.losses, whole.losses)
    assert done[0][:2] == ("grid points", min(4 * written, 81)) and not list(save.glob(".*.part"))


def test_the_landscape_command_on_a_spec_file(cnn, tmp_path):
    names, _, files, spec = cnn
    out = CliRunner().invoke(main, [
        "landscape", str(spec), "--checkpoints", str(files[0].parent / "ckpt-*.pt"), "--resolution", "7",
        "--png", str(tmp_path / "l.png"), "--surface", str(tmp_path / "s.png"), "--line", str(tmp_path / "line.png"),
        "--gif", str(tmp_path / "l.gif"), "--save-directions", str(tmp_path / "d.pt")])
    assert out.exit_code == 0, out.output
    assert "checkpoints: final loss" in out.output
    for name in ("l.png", "s.png", "line.png", "l.gif", "d.pt"):
        assert (tmp_path / name).stat().st_size > 1000, name
    trained = CliRunner().invoke(main, ["landscape", str(spec), "adam:lr=0.01", "nadam", "--epochs", "1",
                                        "--resolution", "5", "--png", str(tmp_path / "t.png")])
    assert trained.exit_code == 0 and "NAdam lr=0.002: final loss" in trained.output, trained.output


@pytest.mark.parametrize("args,message", [
    (["landscape", "nope.py"], "nope.py: no such file"),
    (["landscape", "--device", "cuda:2"], "this machine has no CUDA GPU"),
    (["landscape", "--span", "abc"], "is not S or A0,A1,B0,B1"),
    (["landscape", "--checkpoints", "no/such/*.pt"], "matches no file"),
    (["landscape", "--directions", "missing.pt"], "no such directions file"),
])
def test_bad_landscape_commands_are_one_line(args, message):
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 2 and message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_a_spec_without_the_names_it_needs(tmp_path):
    spec = tmp_path / "bad.py"
    spec.write_text("import torch\nmodel = torch.nn.Linear(2, 1)\n")
    out = CliRunner().invoke(main, ["landscape", str(spec)])
    assert out.exit_code == 2 and "must define model, loss and data; it does not define loss, data" in out.stderr
    spec.write_text("raise RuntimeError('boom')\n")
    out = CliRunner().invoke(main, ["landscape", str(spec)])
    assert out.exit_code == 2 and "bad.py: RuntimeError: boom" in out.stderr


def test_the_mlp_as_result_and_function():
    study = landscape.landscape(optimizers=[("adam", {"lr": 0.005})], resolution=9, epochs=1, directions="random")
    assert study.explained is None and "filter-normalised" in study.axis_labels[0]
    fn = study.function()
    corner = torch.tensor([[study.alphas[0].item(), study.betas[0].item()]], dtype=torch.float64)
    assert fn(corner).item() == pytest.approx(study.losses[0, 0].item())
    result = study.result()
    assert result.positions.shape[1] == 1 and result.n_starts == 1
    # the grid really is the model's loss: one point by a plain forward pass
    model = experiments.mlp_model().eval()
    x, y, _, _ = experiments.mlp_data(0)
    point = Layout.of(model).flatten(model.state_dict())[0]
    evaluator = optviz.analyses.models.evaluation.Evaluator(model, nn.functional.mse_loss, [(x, y)], torch.device("cpu"))
    with torch.no_grad():
        direct = nn.functional.mse_loss(model(x), y)
    assert evaluator.losses(torch.stack([point, point]), torch.zeros(0))[0].item() == pytest.approx(direct.item(), rel=1e-6)


# --- a landscape in one call: no path, and params= -------------------------------------------


def _tiny():
    torch.manual_seed(0)
    x = torch.randn(48, 4)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    return model, (x, (x[:, 0] > 0).long())


def test_one_call_draws_the_model_alone_centred_on_its_own_loss():
    model, data = _tiny()
    study = landscape.landscape(model, nn.functional.cross_entropy, data, resolution=5)
    own = nn.functional.cross_entropy(model(data[0]), data[1]).item()
    assert study.directions == "random" and study.explained is None
    assert study.alphas.tolist() == study.betas.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert study.losses[2, 2].item() == pytest.approx(own, rel=1e-6)
    assert list(study.paths) == ["model"] and study.paths["model"].tolist() == [[0.0, 0.0]]
    assert study.path_losses["model"].item() == pytest.approx(own, rel=1e-6)
    assert study.summary().splitlines()[1] == f"model: loss {own:.4g} at the centre"
    assert study.losses.min() < own < study.losses.max()  # the grid does move the weights
    result = study.result()
    assert result.positions.shape == (1, 1, 2)
    drawn = optviz.render.plot(result).figure
    assert drawn.axes[0].get_xlabel() == "direction 1 (filter-normalised)"
    # the same slice as the model passed as a one-point path of checkpoints
    same = landscape.landscape(model, nn.functional.cross_entropy, data, resolution=5,
                               checkpoints=[model.state_dict()], directions="random")
    assert torch.equal(same.losses, study.losses)


def test_params_restricts_the_directions_to_the_selected_parameters():
    model, data = _tiny()
    layout = Layout.of(model)
    whole = landscape.landscape(model, nn.functional.cross_entropy, data, resolution=5)
    for params in ("2.*", lambda name, p: name == "2.weight"):
        study = landscape.landscape(model, nn.functional.cross_entropy, data, resolution=5, params=params)
        for k in range(2):
            parts = layout.split(study.basis.vectors[k])
            assert all(parts[name].abs().sum() == 0 for name in ("0.weight", "0.bias", "2.bias"))
            # inside: the same filter-normalised direction as without params=, each row the norm of the weights'
            assert torch.equal(parts["2.weight"], layout.split(whole.basis.vectors[k])["2.weight"])
            assert torch.allclose(parts["2.weight"].norm(dim=1), model[2].weight.detach().norm(dim=1))
        assert study.losses[2, 2] == whole.losses[2, 2] and not torch.equal(study.losses, whole.losses)


def test_params_trainable_leaves_a_frozen_layer_fixed_and_paths_restricted_too(cnn):
    model, data = _tiny()
    model[0].requires_grad_(False)
    study = landscape.landscape(model, nn.functional.cross_entropy, data, resolution=5, params="trainable")
    assert study.basis.names == ("2.weight", "2.bias")  # the frozen layer is not in the directions at all
    # with a path: PCA of the selected parameters' motion only, the rest counted off the slice
    names, checkpoints, _, _ = cnn
    pca = landscape.landscape(names["model"], names["loss"], names["data"], checkpoints=checkpoints,
                              resolution=5, params="4.*")
    parts = Layout.of(names["model"]).split(pca.basis.vectors[0])
    assert parts["4.weight"].abs().sum() > 0 and parts["0.weight"].abs().sum() == 0 == parts["10.weight"].abs().sum()
    whole = landscape.landscape(names["model"], names["loss"], names["data"], checkpoints=checkpoints, resolution=5)
    assert pca.projection_error["checkpoints"] > whole.projection_error["checkpoints"]


@pytest.mark.parametrize("change,message", [
    (dict(params="fc2.*"), "params='fc2.*' matches no parameter; the model's are 0.weight, 0.bias, 2.weight, 2.bias"),
    (dict(params=lambda name, p: False), "params= selects no parameter: the function returned False for all 4"),
    (dict(params=3), "params must be a name pattern like 'fc2.*', a function (name, parameter) -> bool or "
                     "'trainable', got int"),
    (dict(params="*.bias"), "params= selects only biases or normalisation parameters (0.bias, 2.bias)"),
    (dict(directions="pca"), "directions='pca' needs a path (checkpoints= or optimizers=)"),
    (dict(line=11), "line= draws the line along a path"),
])
def test_bad_one_call_input_is_one_line_before_any_work(change, message):
    model, data = _tiny()
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")
                       .replace(".", r"\.")) as raised:
        landscape.landscape(model, nn.functional.cross_entropy, data, resolution=5, **change)
    assert "\n" not in str(raised.value)


def test_the_landscape_command_around_a_spec_model_alone_with_params(cnn, tmp_path):
    names, _, _, spec = cnn
    out = CliRunner().invoke(main, ["landscape", str(spec), "--params", "4.*", "--resolution", "5",
                                    "--png", str(tmp_path / "l.png"), "--save-directions", str(tmp_path / "d.pt")])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("random directions\nmodel: loss ") and "at the centre" in out.output
    assert (tmp_path / "l.png").stat().st_size > 1000
    saved = Directions.load(tmp_path / "d.pt")
    parts = Layout.of(names["model"]).split(saved.vectors[1])
    assert parts["4.weight"].abs().sum() > 0 and all(parts[n].abs().sum() == 0 for n in ("0.weight", "10.weight"))
    for args, message in ((["--params", "fc9.*"], "params='fc9.*' matches no parameter; the model's are 0.weight"),
                          (["--directions", "pca"], "directions='pca' needs a path"),
                          (["--line", str(tmp_path / "line.png")], "line= draws the line along a path")):
        bad = CliRunner().invoke(main, ["landscape", str(spec), "--resolution", "5", *args])
        assert bad.exit_code == 2 and message in bad.stderr and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
