"""Benchmark the command line: `optviz --help`, bad input, the main job, and a gallery build.

    python bench/cli.py              # everything (the gallery takes a minute or two)
    python bench/cli.py --no-gallery

Each figure is the best of several runs in fresh processes, side by side with the processes
it is judged against: `optviz compare` (the six optimizers, compare.png and compare.gif)
against a process that only imports torch and matplotlib.pyplot, and each refusal of bad
input against Python starting and exiting.
"""

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPTVIZ = [sys.executable, "-m", "optviz"]
BAD_INPUT = [  # one of each kind of mistake, each refused with exit 2 before torch loads
    ["compare", "rosenbrok"],
    ["compare", "rosenbrock", "adma:lr=0.1"],
    ["compare", "rosenbrock", "adam:learning_rate=0.1"],
    ["compare", "x^2 + y^2"],
    ["compare", "--size", "1920*1080"],
    ["compare", "--steps", "-5"],
    ["run", "missing.toml"],
    ["sweep", "rosenbrock", "sgdd", "--lr", "1e-3:1", "--momentum", "0:0.9"],
]


def best_of(n: int, command: list[str], cwd: Path | None = None, code: int = 0) -> float:
    """The fastest of n runs of command, each checked to exit with ``code``."""
    return timed(n, command, cwd, code)[0]


def timed(n: int, command: list[str], cwd: Path | None = None, code: int = 0) -> tuple[float, float]:
    """The fastest of n runs of command, in wall-clock seconds and in CPU seconds (user and
    system: on a busy machine the steadier of the two), each run checked to exit with ``code``."""
    walls, cpus = [], []
    for _ in range(n):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(command, capture_output=True, cwd=cwd)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != code:
            raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-300:]}")
    return min(walls), min(cpus)


def main_job(n: int) -> None:
    """`optviz compare` end to end against importing torch and matplotlib.pyplot."""
    imports, imports_cpu = timed(n, [sys.executable, "-c", "import torch, matplotlib.pyplot"])
    with tempfile.TemporaryDirectory() as folder:
        compare, compare_cpu = timed(n, [*OPTVIZ, "compare", "--quiet"], cwd=Path(folder))
    print(f"import torch + matplotlib     {imports:6.2f} s  (CPU {imports_cpu:.2f} s; the floor any such tool pays)")
    print(f"optviz compare (png + gif)    {compare:6.2f} s  (CPU {compare_cpu:.2f} s)")
    print(f"  ratio                       {compare / imports:6.2f}x  (CPU {compare_cpu / imports_cpu:.2f}x)")


def bad_input(n: int) -> None:
    """Each refusal of bad input, against Python alone."""
    python_alone = best_of(n, [sys.executable, "-c", "pass"])
    print(f"python alone                  {python_alone:6.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        for args in BAD_INPUT:
            seconds = best_of(n, [*OPTVIZ, *args], cwd=Path(folder), code=2)
            print(f"  optviz {' '.join(args):<40} {seconds:5.2f} s")


def gallery() -> None:
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        subprocess.run([*OPTVIZ, "gallery", "--force", "--out", folder], check=True, cwd=ROOT, capture_output=True)
        both = time.perf_counter() - t0
        shutil.rmtree(folder)
        t0 = time.perf_counter()
        subprocess.run([*OPTVIZ, "gallery", "--force", "--jobs", "1", "--out", folder], check=True, cwd=ROOT,
                       capture_output=True)
        one = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([*OPTVIZ, "gallery", "--out", folder], check=True, cwd=ROOT, capture_output=True)
        unchanged = time.perf_counter() - t0
    scenarios = len(list((ROOT / "scenarios").glob("*.toml")))
    print(f"gallery, {scenarios} scenarios, 2 jobs  {both:6.1f} s")
    print(f"gallery, {scenarios} scenarios, 1 job   {one:6.1f} s  ({one / both:.2f}x the 2-job time)")
    print(f"gallery, nothing changed       {unchanged:6.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command; the best counts")
    parser.add_argument("--no-gallery", action="store_true", help="skip the gallery build")
    args = parser.parse_args()
    help_time = best_of(args.runs, [*OPTVIZ, "--help"])
    print(f"optviz --help                 {help_time:6.2f} s")
    bad_input(args.runs)
    main_job(args.runs)
    if not args.no_gallery:
        gallery()


if __name__ == "__main__":
    main()
