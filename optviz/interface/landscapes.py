"""``optviz landscape``: the loss landscape of a model around its weights, with paths on it."""

from __future__ import annotations

from typing import Any

import click

from ..core.limits import MAX_EPOCHS, MAX_LANDSCAPE_RESOLUTION, MIN_REFINED_RESOLUTION
from ..render.kinds import STILL_FORMATS as STILLS
from .options import data_option, data_path, look, output_path, picture_size, style_options
from .progress import ProgressBar
from .terminal import Terminal, pass_terminal, quiet_option
from .types import made, optimizer_specs


@click.command()
@click.argument("arguments", nargs=-1, metavar="[SPEC.py] [OPT[:k=v,...]]...")
@click.option("--checkpoints", multiple=True, metavar="FILE",
              help="Your own training's checkpoints (state_dict files), in order: the path to draw. Repeat, "
                   "or give a quoted glob like 'ckpt/*.pt' (sorted).")
@click.option("--directions", default=None, metavar="pca|random|hessian|FILE.pt",
              help="pca: top two principal components of the paths; random: filter-normalised (Li et al.); "
                   "hessian: the top two eigenvectors of the loss's Hessian at the centre; or a directions file "
                   "saved with --save-directions, to draw another model on the same slice. "
                   "Default: pca with a path, random without one.")
@click.option("--params", default=None, metavar="PATTERN|trainable",
              help="Move only the parameters whose names match PATTERN (e.g. 'fc2.*'), or those with "
                   "requires_grad; the rest stay fixed. Default: the spec's `params`, else all.")
@click.option("--resolution", "--n", "resolution", type=click.IntRange(3, MAX_LANDSCAPE_RESOLUTION), default=51,
              show_default=True, help="Grid points per side of the slice.")
@click.option("--span", default=None, metavar="S|A0,A1,B0,B1",
              help="The grid's extent in direction units (default: the paths' extent plus 15%).")
@click.option("--device", default=None, help="cpu, cuda or cuda:N (default: cuda:LOCAL_RANK where there is a GPU).")
@click.option("--save", "save_dir", default=None, metavar="DIR",
              help="Keep finished grid points (and trained paths) in DIR; the same command again resumes a "
                   "killed run.")
@click.option("--epochs", type=click.IntRange(1, MAX_EPOCHS), default=20, show_default=True,
              help="Training epochs for the OPTs.")
@click.option("--examples", type=click.IntRange(1, None), default=None,
              help="Average the loss over the first N examples only.")
@click.option("--png", default="landscape.png", show_default=True, help="Where to write the contours and paths.")
@click.option("--svg", default=None, help="Also write the picture as .svg.")
@click.option("--surface", default=None, help="Also write the 3D surface here (.png/.svg/.pdf).")
@click.option("--line", default=None,
              help="Also write the 1D interpolation from the path's first point to its last here (.png/.svg/.pdf).")
@click.option("--gif", default=None, help="Also write an animation of the paths here (.gif).")
@click.option("--save-directions", default=None, metavar="FILE.pt", help="Write the slice's directions here.")
@click.option("--dry-run", is_flag=True,
              help="Print what this command would cost and do nothing else: grid points, passes over the data, "
                   "training steps, peak memory, and the time on this machine and on 1, 2, 4 and 8 ranks, timed on "
                   "one chunk of grid points and a training step per OPT. Nothing is trained or written (not "
                   "--png, --save or any other output).")
@click.option("--refine", is_flag=True,
              help="Evaluate a coarse grid (every 4th point) first, then the full grid only where the paths pass, "
                   "around the lowest point and where the loss varies fast; interpolate the rest. Says how many "
                   "points it evaluated. Needs --resolution 9 or more.")
@click.option("--check", is_flag=True,
              help="Also evaluate a second slice on another seed's random directions and say whether the two "
                   "agree (random directions only; twice the grid's work).")
@click.option("--sharpness", default=None, metavar="FILE",
              help="Also measure the top Hessian eigenvalue along the paths and draw it per step here "
                   "(.png/.svg/.pdf), against 2/lr for SGD; with --data its numbers go beside the data.")
@click.option("--sharpness-every", type=click.IntRange(1, None), default=1, show_default=True, metavar="K",
              help="With --sharpness: measure at every K-th point of each path (and its last).")
@data_option
@style_options
@quiet_option
@pass_terminal
def landscape(terminal: Terminal, arguments: tuple[str, ...], checkpoints: tuple[str, ...], directions: str | None,
              params: str | None,
              resolution: int, span: str | None, device: str | None, save_dir: str | None, epochs: int,
              examples: int | None, png: str, svg: str | None, surface: str | None, line: str | None,
              gif: str | None, save_directions: str | None, dry_run: bool, refine: bool, check: bool,
              sharpness: str | None, sharpness_every: int, data: str | None,
        theme: str, size: str | None, dpi: float | None, scale: float | None, background: str | None,
        transparent: bool | None) -> None:
    """Draw the loss landscape of a model around its weights, with training paths on it.

    With no SPEC.py: the built-in MLP (12 -> 64 -> 32 -> 1) on synthetic data, trained by
    OPTs (default: momentum SGD, Adam and RMSProp) from the same initial weights.

    SPEC.py is your own Python file; it must define `model` (an nn.Module: the initial
    weights to train from, or the architecture of your checkpoints), `loss` (loss(outputs,
    targets) -> a batch mean, e.g. torch.nn.functional.cross_entropy) and `data` (a
    DataLoader, a Dataset or an (inputs, targets) pair of tensors: the loss is averaged over
    all of it at every grid point, in eval mode). It may define `train_data` (for the OPTs;
    default `data`), `checkpoints` (a list of state_dicts or files) and `params` (as
    --params, or a function (name, parameter) -> bool). optviz runs the file, as python would.

    The path is your checkpoints (--checkpoints or the file's), or the OPTs trained from the
    model's weights; with neither, the slice is around the model's own weights, on random
    directions. A trust report follows the numbers (and is written small on the picture and
    kept in --data): the slice's centre against the model's own loss, the slice's lowest
    point, each path's share off the plane, whether the grid resolves the curvature at the
    centre, and with --check whether a second seed's slice agrees.

    Under torchrun the grid (and the Hessian's batches) is split across the
    processes and gathered:
    torchrun --nproc-per-node 2 -m optviz landscape SPEC.py --checkpoints 'ckpt/*.pt'.

    \b
    Examples:
      optviz landscape
      optviz landscape sgd:lr=0.02,momentum=0.9 adam:lr=0.005 --directions random --gif paths.gif
      optviz landscape my_model.py --params 'fc2.*'
      optviz landscape my_model.py --check --resolution 21 --data landscape.json
      optviz landscape my_model.py --directions hessian --span 0.5
      optviz landscape my_model.py sgd:lr=0.1 --sharpness sharpness.png --sharpness-every 10
      optviz landscape my_model.py --checkpoints 'runs/ckpt-*.pt' --resolution 41 --save grid/
      optviz landscape my_model.py adam:lr=1e-3 nadam --epochs 5 --surface surface.png --line line.png
      optviz landscape my_model.py --resolution 101 --dry-run
      optviz landscape --resolution 101 --refine
    """
    spec, specs = (arguments[0], arguments[1:]) if arguments and arguments[0].endswith(".py") else (None, arguments)
    optimizers = optimizer_specs(specs)
    outputs = {"png": output_path(png, STILLS, "--png"), "svg": output_path(svg, ("svg",), "--svg"),
               "surface": output_path(surface, STILLS, "--surface"), "line": output_path(line, STILLS, "--line"),
               "gif": output_path(gif, ("gif",), "--gif"),
               "directions": output_path(save_directions, ("pt",), "--save-directions"),
               "sharpness": output_path(sharpness, STILLS, "--sharpness")}
    data_file = data_path(data)
    size = picture_size(size, "slide", gif=bool(outputs["gif"]), dpi=dpi, scale=scale)
    extent = _span(span)
    made(optimizers)
    if dry_run and refine:
        raise click.UsageError("--dry-run estimates the full grid; --refine evaluates a part of it known only after "
                               "its coarse grid: drop --refine (the full grid's time is its most)")
    if refine and resolution < MIN_REFINED_RESOLUTION:
        raise click.BadParameter(f"--refine needs {MIN_REFINED_RESOLUTION} or more (a coarse grid of 3 x 3 points), "
                                 f"got {resolution}: drop --refine to evaluate the full grid",
                                 param_hint="--resolution")

    from ..documents.landscapes import ArgumentError, model_landscape
    from ..documents.outputs import write_landscape

    with ProgressBar(terminal, "landscape") as bar:
        try:
            shared = model_landscape(spec, optimizers, checkpoints=checkpoints, directions=directions, params=params,
                                     line=bool(outputs["line"]), progress=bar, resolution=resolution, span=extent,
                                     device=device, save=save_dir, epochs=epochs, examples=examples,
                                     estimate=dry_run, refine=refine, check=check,
                                     sharpness_every=sharpness_every if outputs["sharpness"] else None)
        except ArgumentError as error:
            raise click.BadParameter(str(error), param_hint=f"--{error.argument}") from None
        except ValueError as error:  # every check of the inputs comes before the grid starts
            raise click.UsageError(" ".join(str(error).split())) from None
    if shared is None:
        return  # another process of torchrun's: rank 0 writes
    if dry_run:  # an Estimate: said, nothing written
        terminal.say(str(shared.landscape))
        return
    terminal.say(shared.landscape.summary())
    terminal.say(str(shared.landscape.trust))
    if shared.processes > 1:
        terminal.say(f"grid split across {shared.processes} processes")
    terminal.wrote(write_landscape(shared.landscape, data=data_file, **outputs, theme=theme, size=size,
                             **look(dpi, scale, background, transparent)))


def _span(text: str | None) -> Any:
    """--span as one number s (for -s..s) or the four a0,a1,b0,b1."""
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not S or A0,A1,B0,B1", param_hint="--span") from None
    return values[0] if len(values) == 1 else values
