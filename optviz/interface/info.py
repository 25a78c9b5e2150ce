"""What optviz has, whether it is right, and how a shell completes it: ``optviz list``,
``optviz check`` and ``optviz completion``."""

from __future__ import annotations

import click

from ..core.limits import MAX_CHECK_STEPS
from .terminal import Terminal, pass_terminal, quiet_option

LISTS = ("functions", "optimizers", "scenarios")


@click.command(name="list")
@click.argument("what", type=click.Choice(LISTS), required=False)
@click.option("--from", "module", default=None, metavar="MODULE",
              help="With optimizers: the torch.optim.Optimizer classes of MODULE (imported to look), "
                   "named as compare and scenario files take them.")
def list_(what: str | None, module: str | None) -> None:
    """List the test functions, the optimizers or the bundled scenarios (all three without
    an argument).

    The optimizers are optviz's own and every torch.optim class, with their defaults
    (torch's read from their signatures); any other installed optimizer is named by its
    import path, as --from MODULE lists them.

    \b
    Examples:
      optviz list functions
      optviz list optimizers
      optviz list optimizers --from pytorch_optimizer
      optviz list scenarios
    """
    if module is not None and what != "optimizers":
        raise click.UsageError("--from MODULE lists the optimizers of MODULE: use `optviz list optimizers --from MODULE`")
    for kind in [what] if what else LISTS:
        if not what:
            click.echo(f"{kind}:")
        click.echo(_listing(kind, module) + ("\n" if not what else ""))


def _listing(kind: str, module: str | None) -> str:
    from ..core.functions.zoo import listing as functions
    from ..core.optimizers.registry import listing as optimizers
    from ..documents.scenario import listing as scenarios

    if kind != "optimizers":
        return {"functions": functions, "scenarios": scenarios}[kind]()
    try:
        return optimizers(module)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--from") from None


@click.command()
@click.option("--steps", type=click.IntRange(1, MAX_CHECK_STEPS), default=200, show_default=True,
              help="Steps per run.")
@quiet_option
@pass_terminal
def check(terminal: Terminal, steps: int) -> None:
    """Compare every optimizer with the installed torch.optim, bit for bit.

    Runs each on Rosenbrock from four starts in float32 and float64 and prints the largest
    difference from torch.optim (foreach=False), or for Lion from pytorch_optimizer's, when
    it is installed; exits 1 if any is not zero.
    """
    from ..analyses.conformance import check_all, report

    rows = check_all(steps)
    terminal.say(report(rows, steps))
    if any(diff != 0 for _, _, diff in rows):
        raise click.ClickException("some optimizers differ from torch.optim")
    terminal.say("\nall equal bit for bit")


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script: eval "$(optviz completion bash)"."""
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    click.echo(cls(ctx.find_root().command, {}, "optviz", "_OPTVIZ_COMPLETE").source())
