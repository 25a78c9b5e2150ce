"""The optional packages: which of optviz's pip extras brings each, and the line that says so
when one is missing. Plain data, no imports: the command line reads it before torch loads."""

# top-level module -> (the extra, the package pip installs)
EXTRAS = {
    "pytorch_optimizer": ("optimizers", "pytorch-optimizer"),
    "pptx": ("slides", "python-pptx"),
    "nbformat": ("notebook", "jupyterlab"),
}


def install_hint(module: str) -> str:
    """"pytorch-optimizer is not installed: pip install 'optviz[optimizers]'" for a module an
    extra brings, else ""."""
    return needs(module, None) if module.partition(".")[0] in EXTRAS else ""


def needs(module: str, use: str | None) -> str:
    """"optviz slides needs python-pptx: pip install 'optviz[slides]'": what ``use`` needs of
    an extra's ``module`` (None: that it is not installed)."""
    extra, package = EXTRAS[module.partition(".")[0]]
    said = f"{package} is not installed" if use is None else f"{use} needs {package}"
    return f"{said}: pip install 'optviz[{extra}]'"


def import_failure(module: str, error: BaseException) -> str:
    """Why importing `module` failed, in words a user can act on."""
    missing = getattr(error, "name", None) if isinstance(error, ModuleNotFoundError) else None
    hint = install_hint(missing) if missing else ""
    return hint or f"{type(error).__name__}: {error}"
