"""The house keeps its floors: every import in the package is parsed, and none goes up a floor,
none closes a circle (imports inside functions count), and none takes a private name from
another module."""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "optviz"
FLOORS = ("core", "analyses", "render", "documents", "interface")  # each may import only those before it


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def floor(module: str) -> int:
    """The module's floor: 0 for core up to 4 for interface; the package's own files sit above all."""
    parts = module.split(".")
    return FLOORS.index(parts[1]) if len(parts) > 1 and parts[1] in FLOORS else len(FLOORS)


def imports(module: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import of optviz in the module."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names if alias.name.split(".")[0] == "optviz"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "optviz":
                continue
            names = [alias.name for alias in node.names]
            submodules = [f"{source}.{name}" for name in names if f"{source}.{name}" in MODULES]
            if submodules:  # from . import sibling: an import of each module named
                found += [(sub, [], node.lineno) for sub in submodules]
                names = [name for name in names if f"{source}.{name}" not in MODULES]
            if names or not submodules:
                found.append((source, names, node.lineno))
    return found


def test_the_package_has_its_five_floors():
    assert {module.split(".")[1] for module in MODULES if module.count(".") >= 1} >= set(FLOORS)
    assert all(floor(module) < len(FLOORS) for module in MODULES if module.count(".") >= 2), "modules outside the floors"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_goes_up_a_floor(module):
    upward = [f"line {line}: {source} ({FLOORS[floor(source)] if floor(source) < len(FLOORS) else 'optviz'})"
              for source, _, line in imports(module) if floor(source) > floor(module)]
    assert not upward, f"{module} is on the {FLOORS[floor(module)] if floor(module) < len(FLOORS) else 'top'} floor"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_comes_from_another_module(module):
    private = [f"line {line}: {name} from {source}" for source, names, line in imports(module)
               for name in names if name.startswith("_") and name != "__version__"]
    assert not private


def test_no_import_closes_a_circle():
    graph = {module: {source for source, _, _ in imports(module) if source in MODULES and source != module}
             for module in MODULES}
    circles, state = [], {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for nxt in sorted(graph[module]):
            if state.get(nxt) == "open":
                circles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not circles, " ; ".join(" -> ".join(circle) for circle in circles)


def defined(module: str) -> set[str]:
    """The public names a module defines at its top level (functions, classes, assignments)."""
    names = set()
    for node in ast.parse(MODULES[module].read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_named_like_a_function_it_defines(module):
    # optviz.x.simulate the module and optviz.x.simulate the function could not both be reached
    assert module.rpartition(".")[2] not in defined(module)


def test_no_two_registries_share_a_name():
    """A constant (an upper-case name) is defined in one module; every built-in's block
    defines its ENTRIES and its RULE, the protocol the registry reads."""
    homes: dict[str, list[str]] = {}
    for module in MODULES:
        for name in defined(module):
            if name.isupper() and name not in ("ENTRIES", "RULE"):
                homes.setdefault(name, []).append(module)
    assert not {name: where for name, where in homes.items() if len(where) > 1}


def test_the_architecture_document_names_only_what_is_there():
    """Every file ARCHITECTURE.md names exists, and it names every module of the package (the
    built-ins' blocks by their folder, family/)."""
    document = (PACKAGE.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
    files = {path.name for path in PACKAGE.rglob("*") if path.is_file()}
    for path in re.findall(r"`([\w/.-]+\.(?:py|html|toml))`", document):
        whole = PACKAGE.parent / path
        assert whole.exists() if path.startswith(("optviz/", "tests/")) else path.rsplit("/", 1)[-1] in files, path
    for module, path in MODULES.items():
        blocks = module.startswith("optviz.core.optimizers.family.")
        assert path.name == "__init__.py" or blocks or f"`{path.name}`" in document, module


def test_the_checks_catch_what_they_should(tmp_path, monkeypatch):
    # a core module importing the interface, and two modules importing each other
    fake = {"optviz.core.a": "from ..interface import cli\nfrom .b import _hidden\n",
            "optviz.core.b": "def f():\n    from . import a\n"}
    for name, text in fake.items():
        path = tmp_path / (name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path / "optviz")
    monkeypatch.setitem(MODULES, "optviz.core.a", tmp_path / "optviz/core/a.py")
    monkeypatch.setitem(MODULES, "optviz.core.b", tmp_path / "optviz/core/b.py")
    assert [s for s, _, _ in imports("optviz.core.a")] == ["optviz.interface.cli", "optviz.core.b"]
    with pytest.raises(AssertionError):
        test_no_import_goes_up_a_floor("optviz.core.a")
    with pytest.raises(AssertionError):
        test_no_private_name_comes_from_another_module("optviz.core.a")
    with pytest.raises(AssertionError, match="optviz.core.a -> optviz.core.b -> optviz.core.a"):
        test_no_import_closes_a_circle()
    # a module named like the function it defines, and one constant in two modules
    (tmp_path / "optviz/core/a.py").write_text("LIMIT = 1\ndef a():\n    pass\n")
    (tmp_path / "optviz/core/b.py").write_text("LIMIT = 2\n")
    with pytest.raises(AssertionError):
        test_no_module_is_named_like_a_function_it_defines("optviz.core.a")
    with pytest.raises(AssertionError, match="LIMIT"):
        test_no_two_registries_share_a_name()
