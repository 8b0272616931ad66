"""What installing and starting the plugin costs: wheel sizes, import and command-line times.

    python benchmarks/install_footprint.py [--repeats 5] [--json]

Each time is the median over ``--repeats`` fresh interpreter processes (wall clock, so it
includes Python's own start-up), measured in one run; the load average at the start is recorded
because a busy machine inflates every number. The wheels are built here (no download) from the
working tree: the core package and the separate held-out checkpoints the benchmarks use.
Writes benchmarks/results/install_footprint.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pnag_sampler.files import write_json

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "install_footprint.json"
PNAG = Path(sys.executable).with_name("pnag")
#: what is timed: (name, command); targets from the issue: import < 1.5 s, --help < 2 s
TIMED = (
    ("python_startup", [sys.executable, "-c", "pass"]),
    ("import_pnag_sampler", [sys.executable, "-c", "import pnag_sampler"]),
    ("pnag_help", [str(PNAG), "--help"]),
    ("pnag_bad_argument", [str(PNAG), "generate", "--space", "nope"]),
    ("import_PNAGSampler", [sys.executable, "-c", "from pnag_sampler import PNAGSampler"]),
)


def median_seconds(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def wheel_megabytes(project: Path) -> float:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", out, str(project)],
            check=True,
            capture_output=True,
        )
        (wheel,) = Path(out).glob("*.whl")
        return wheel.stat().st_size / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = {
        "load_average_at_start": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        "repeats": args.repeats,
        "seconds": {name: round(median_seconds(command, args.repeats), 3) for name, command in TIMED},
        "wheel_mb": {
            "pnag-sampler": round(wheel_megabytes(ROOT), 2),
            "pnag-sampler-heldout": round(wheel_megabytes(ROOT / "benchmarks" / "heldout_weights"), 2),
        },
        "targets": {"import_pnag_sampler": 1.5, "pnag_help": 2.0, "wheel_mb": 15.0},
    }
    write_json(args.out, result)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
