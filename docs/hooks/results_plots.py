"""MkDocs hook: serve the benchmark plots in ``benchmarks/results/`` as ``results/<path>``.

The plots are written by the benchmark scripts beside their JSON and stay there (one copy, in
git); MkDocs only sees files under ``docs/``. This hook adds every ``*.png`` under
``benchmarks/results/`` to the site's files at build time, so a page links
``![...](results/bench/nb201-cifar10-regret.png)``, ``mkdocs build --strict`` checks the link,
and the image is copied into the built site. Nothing is downloaded or written into ``docs/``.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
PREFIX = "results"


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    for png in sorted(RESULTS.rglob("*.png")):
        uri = f"{PREFIX}/{png.relative_to(RESULTS).as_posix()}"
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, abs_src_path=str(png)))
    return files
