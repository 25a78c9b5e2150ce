"""Benchmark: a deck against the files it is made of, side by side on the same scenarios:
`optviz run` (the pictures alone), `optviz slides` (the same pictures in a .pptx) and
`optviz slides --build-up` (five more slides a scenario). Three rounds, the three commands
taken in turn in each (so a busy machine slows all alike); the best time of each.
`optviz run` also writes the interactive page of the scenarios that ask for one.

    python bench/slides.py
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

OPTVIZ = [sys.executable, "-m", "optviz"]
SCENARIOS = ["03-gd-2d-quadratic", "05-momentum", "11-rosenbrock", "13-saddle"]


def timed(command: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        commands = {"run": [*OPTVIZ, "run", *SCENARIOS, "--out", str(out / "run")],
                    "slides": [*OPTVIZ, "slides", *SCENARIOS, "-o", str(out / "deck.pptx")],
                    "built": [*OPTVIZ, "slides", *SCENARIOS, "--build-up", "-o", str(out / "built.pptx")]}
        rounds = [{name: timed(command) for name, command in commands.items()} for _ in range(3)]
        run, slides, built = (min(r[name] for r in rounds) for name in commands)
        pictures = sum(p.stat().st_size for p in (out / "run").iterdir() if p.suffix in (".png", ".gif"))
        deck, built_size = (out / "deck.pptx").stat().st_size, (out / "built.pptx").stat().st_size
    print(f"{len(SCENARIOS)} scenarios: {', '.join(SCENARIOS)}")
    print(f"optviz run                 {run:6.1f} s  pictures {pictures / 1e6:5.2f} MB")
    print(f"optviz slides              {slides:6.1f} s  ({slides / run:.2f}x run)  deck {deck / 1e6:5.2f} MB "
          f"({deck / pictures:.2f}x the pictures)")
    print(f"optviz slides --build-up   {built:6.1f} s  ({built / run:.2f}x run)  deck {built_size / 1e6:5.2f} MB")


if __name__ == "__main__":
    main()
