"""How fast cloudctl starts, measured against the libraries it stands on.

Prints two ratios from one run:

- `cloudctl --help` wall time / `python -c "import typer"`        (target 1.3 or less)
- `cloudctl service list` on the imported Hunwick register
  / `python -c "import sqlmodel"`                                  (target 1.5 or less)

Each command runs several times, interleaved round by round so that a busy moment on
the machine hits every command alike, and the medians are compared. Run it with the
Python of the environment cloudctl is installed in:

    .venv/bin/python benchmarks/startup_and_list.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

TARGETS = {"help": 1.3, "list": 1.5}


def console_script() -> str:
    """The `cloudctl` script beside this Python (the same environment), else the one on PATH."""
    beside = Path(sys.executable).parent / "cloudctl"
    if beside.exists():
        return str(beside)
    found = shutil.which("cloudctl")
    if found is None:
        sys.exit("cloudctl is not installed in this environment: pip install . first.")
    return found


def wall_time(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15, help="How many times to run each command.")
    args = parser.parse_args()

    cloudctl = console_script()
    with tempfile.TemporaryDirectory(prefix="cloudctl-bench-") as folder:
        database = str(Path(folder) / "hunwick.db")
        register = Path(folder) / "hunwick.txt"
        register.write_text(
            resources.files("cloudctl")
            .joinpath("data", "hunwick-cloud-service-providers.txt")
            .read_text("utf-8"),
            encoding="utf-8",
        )
        env = {key: value for key, value in os.environ.items() if not key.startswith("CLOUDCTL_")}
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": True}
        subprocess.run(
            [cloudctl, "--db", database, "init", "--school", "Hunwick Primary School"], env=env, **quiet
        )
        subprocess.run([cloudctl, "--db", database, "register", "import", str(register)], env=env, **quiet)

        commands = {
            "import typer": [sys.executable, "-c", "import typer"],
            "cloudctl --help": [cloudctl, "--help"],
            "import sqlmodel": [sys.executable, "-c", "import sqlmodel"],
            "cloudctl service list": [cloudctl, "--db", database, "service", "list"],
        }
        for command in commands.values():  # warm the OS file cache and the .pyc files
            wall_time(command, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():
                times[name].append(wall_time(command, env))

    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"{args.rounds} rounds, medians (seconds):")
    for name, value in median.items():
        print(f"  {name:<24} {value:.3f}")
    ratios = {
        "help": ("cloudctl --help / import typer", median["cloudctl --help"] / median["import typer"]),
        "list": (
            "cloudctl service list / import sqlmodel",
            median["cloudctl service list"] / median["import sqlmodel"],
        ),
    }
    for key, (label, ratio) in ratios.items():
        verdict = "ok" if ratio <= TARGETS[key] else "MISSED"
        print(f"{label}: {ratio:.2f} (target {TARGETS[key]} or less: {verdict})")


if __name__ == "__main__":
    main()
