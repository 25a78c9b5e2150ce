"""Benchmark: `optviz --help` (no torch, no matplotlib) and a full gallery build.

    python bench/cli.py
"""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPTVIZ = [sys.executable, "-m", "optviz"]


def best_of(n: int, command: list[str]) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    python_alone = best_of(5, [sys.executable, "-c", "pass"])
    help_time = best_of(5, [*OPTVIZ, "--help"])
    torch_import = best_of(3, [sys.executable, "-c", "import torch, matplotlib.pyplot"])
    print(f"optviz --help                 {help_time:6.2f} s  (python alone {python_alone:.2f} s)")
    print(f"import torch + matplotlib     {torch_import:6.2f} s  (what a non-lazy CLI would pay)")
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


if __name__ == "__main__":
    main()
