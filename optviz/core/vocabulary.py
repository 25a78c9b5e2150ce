"""What the command line checks before torch loads: the names of the test functions, of the
optimizers and of their hyperparameters, known without importing torch.

The built-ins are read from their own source (the zoo's ``_fn("name", ...)`` entries, each
optimizer block's ``ENTRIES`` and the signature of the factory each entry names), so the
zoo and the blocks stay the one place a name is written. torch.optim's classes cannot be
read without importing torch: :data:`TORCH_ARGUMENTS` lists them for the torch version
:data:`TORCH_VERSION`, and with any other torch installed :func:`optimizer_arguments` answers
None (the caller then asks the registry, which imports torch). tests/test_vocabulary.py
holds every table here to the live registry and zoo.
"""

from __future__ import annotations

import ast
import difflib
import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .names import closest, cut, did_you_mean, quoted

CORE = Path(__file__).parent

# torch.optim's classes by lower-case name -> the arguments each takes after params (not its
# **kwargs), as optviz.core.optimizers.foreign.argument_names reads them; SparseAdam left out
TORCH_VERSION = "2.13.0"
TORCH_ARGUMENTS: dict[str, tuple[str, ...]] = {  # in the order of dir(torch.optim)
    "asgd": ("lr", "lambd", "alpha", "t0", "weight_decay", "foreach", "maximize", "differentiable", "capturable"),
    "adadelta": ("lr", "rho", "eps", "weight_decay", "foreach", "capturable", "maximize", "differentiable"),
    "adafactor": ("lr", "beta2_decay", "eps", "d", "weight_decay", "foreach", "maximize"),
    "adagrad": ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps", "foreach", "maximize",
                "differentiable", "fused"),
    "adam": ("lr", "betas", "eps", "weight_decay", "amsgrad", "foreach", "maximize", "capturable", "differentiable",
             "fused", "decoupled_weight_decay"),
    "adamw": ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "foreach", "capturable", "differentiable",
              "fused"),
    "adamax": ("lr", "betas", "eps", "weight_decay", "foreach", "maximize", "differentiable", "capturable"),
    "lbfgs": ("lr", "max_iter", "max_eval", "tolerance_grad", "tolerance_change", "history_size", "line_search_fn"),
    "muon": ("lr", "weight_decay", "momentum", "nesterov", "ns_coefficients", "eps", "ns_steps", "adjust_lr_fn"),
    "nadam": ("lr", "betas", "eps", "weight_decay", "momentum_decay", "decoupled_weight_decay", "foreach", "maximize",
              "capturable", "differentiable"),
    "radam": ("lr", "betas", "eps", "weight_decay", "decoupled_weight_decay", "foreach", "maximize", "capturable",
              "differentiable"),
    "rmsprop": ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "capturable", "foreach", "maximize",
                "differentiable"),
    "rprop": ("lr", "etas", "step_sizes", "capturable", "foreach", "maximize", "differentiable"),
    "sgd": ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize", "foreach", "differentiable", "fused"),
}

# a race's objectives (see optviz.analyses.races) and the hyperparameters it can tune
RACE_OBJECTIVES = ("final", "distance", "steps", "area")
RACE_TUNABLE = ("lr", "momentum", "betas")

# names people bring from other libraries and papers -> what torch.optim calls the same thing
ALIASES = {
    "learning_rate": "lr", "learningrate": "lr", "eta": "lr",
    "beta1": "betas", "beta2": "betas", "beta_1": "betas", "beta_2": "betas", "b1": "betas", "b2": "betas",
    "epsilon": "eps", "wd": "weight_decay", "l2": "weight_decay", "mu": "momentum", "rho": "alpha",
}


@functools.cache
def function_names() -> tuple[str, ...]:
    """The zoo's functions by name, in its order (optviz.FUNCTIONS): its ``_fn`` entries, then
    the matrix problems (the keys of matrices.py's PROBLEMS)."""
    tree = ast.parse((CORE / "functions" / "zoo.py").read_text(encoding="utf-8"))
    classics = [node.args[0].value for node in ast.walk(tree)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_fn"
                and node.args and isinstance(node.args[0], ast.Constant)]
    tree = ast.parse((CORE / "functions" / "matrices.py").read_text(encoding="utf-8"))
    problems = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                    and getattr(node.targets[0], "id", None) == "PROBLEMS")
    return tuple(classics) + tuple(key.value for key in problems.keys)  # type: ignore[attr-defined]


@functools.cache
def _signatures() -> dict[str, ast.arguments]:
    """Each built-in optimizer's name -> its factory's signature, read from its block, in
    palette order (as the registry lists them)."""
    found = []
    for block in sorted((CORE / "optimizers" / "family").glob("[!_]*.py")):
        tree = ast.parse(block.read_text(encoding="utf-8"))
        factories = {node.name: node.args for node in tree.body if isinstance(node, ast.FunctionDef)}
        for node in tree.body:  # momentum = partial(sgd, momentum=0.9): sgd's arguments, other defaults
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and node.value.args
                    and getattr(node.value.func, "id", None) == "partial"):
                factories[node.targets[0].id] = factories[node.value.args[0].id]  # type: ignore[attr-defined]
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Entry":
                name, factory, colour = (node.args[0].value, node.args[2].id,  # type: ignore[attr-defined]
                                         node.args[5].value)  # type: ignore[attr-defined]
                found.append((colour, name, factories[factory]))
    return {name: signature for _, name, signature in sorted(found, key=lambda row: row[:2])}


def built_in_arguments() -> dict[str, tuple[str, ...]]:
    """Each built-in optimizer's name -> its factory's arguments, in palette order."""
    return {name: tuple(a.arg for a in [*signature.posonlyargs, *signature.args, *signature.kwonlyargs])
            for name, signature in _signatures().items()}


def _default_betas(name: str) -> tuple[float, float]:
    """A built-in's default betas as its factory writes them; torch's (0.9, 0.999) for the rest."""
    signature = _signatures().get(name.lower())
    if signature is not None:
        positional = [*signature.posonlyargs, *signature.args]
        defaults = dict(zip([a.arg for a in positional][-len(signature.defaults):], signature.defaults))
        if "betas" in defaults:
            return ast.literal_eval(defaults["betas"])
    return 0.9, 0.999


def torch_known() -> bool:
    """Whether the installed torch is the one TORCH_ARGUMENTS was read from (found without
    importing it)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch").split("+")[0] == TORCH_VERSION
    except PackageNotFoundError:
        return False


def optimizer_names() -> list[str]:
    """Every optimizer found by name without an import: the built-ins, then torch's classes."""
    built_ins = built_in_arguments()
    return [*built_ins, *(name for name in TORCH_ARGUMENTS if name not in built_ins)]


def optimizer_arguments(name: str) -> tuple[str, ...] | None:
    """The hyperparameters the optimizer called ``name`` takes; None where only torch can
    tell (an import path, or a torch other than TORCH_VERSION). ValueError for a name that
    is none of them, with the nearest."""
    built_ins = built_in_arguments()
    found = built_ins.get(name, built_ins.get(name.lower()))
    if found is not None:
        return found
    if ":" in name or "." in name or not torch_known():
        return None
    if name.lower() in TORCH_ARGUMENTS:
        return TORCH_ARGUMENTS[name.lower()]
    near = nearest_optimizer(name.lower(), optimizer_names(), built_ins)
    hint = f"; did you mean {near!r}?" if near else ""
    raise ValueError(f"unknown optimizer {quoted(name)}{hint} (known: {', '.join(optimizer_names())})")


def nearest_optimizer(name: str, known: list[str], built_ins: Iterable[str]) -> str | None:
    """The known name nearest to ``name``; a built-in nearly as near wins ("adma" is adam
    rather than adamax), a much nearer torch name does not ("nadamm" is nadam)."""
    score = lambda other: difflib.SequenceMatcher(None, name, other).ratio()  # noqa: E731
    best = closest(name, known)
    ours = closest(name, built_ins)
    if ours is not None and (best is None or score(ours) >= score(best) - 0.06):
        return ours
    return best


def check_hyperparameters(name: str, given: dict[str, Any]) -> None:
    """ValueError for a hyperparameter the optimizer does not take, naming the one meant:
    torch's name for a name from elsewhere (learning_rate is lr, beta1 the first of betas),
    else the nearest."""
    arguments = optimizer_arguments(name)
    if arguments is None:
        return
    for key, value in given.items():
        if key in arguments:
            continue
        meant = ALIASES.get(key.lower())
        if meant == "betas" and meant in arguments:
            beta1, beta2 = _default_betas(name)
            betas = f"{value}/{beta2}" if key.lower()[-1] == "1" else f"{beta1}/{value}"
            raise ValueError(f"{cut(name)} has no hyperparameter {quoted(key)}: betas holds both, "
                             f"as {name}:betas={betas}")
        if meant in arguments:
            raise ValueError(f"{cut(name)} has no hyperparameter {quoted(key)}: torch calls it {meant}, "
                             f"as {name}:{meant}={value}")
        raise ValueError(f"{cut(name)} has no hyperparameter {quoted(key)}{did_you_mean(key, arguments)}")


def check_function_name(text: str) -> bool:
    """Whether ``text`` names a zoo function (True) or is written as a formula (False);
    ValueError, with the nearest name, for a word that is neither (``rosenbrok``)."""
    names = function_names()
    if text in names:
        return True
    stripped = text.strip()
    if not stripped or stripped.isidentifier() and not re.fullmatch(r"x|y|x[1-9][0-9]*", stripped):
        raise ValueError(f"unknown function {quoted(text)}{did_you_mean(stripped.lower(), names)}")
    return False
