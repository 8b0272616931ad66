"""The documentation runs: every code block of README.md and docs/, and ``mkdocs build --strict``.

Code blocks, page by page (README.md, then docs/**/*.md), in document order:

- ```` ```python ```` blocks run, each in a fresh process of this interpreter (``sys.executable``).
  A page's blocks share one temporary working folder, which is also ``HOME`` (NNI writes
  ``~/nni-experiments``, Syne Tune ``~/syne-tune``), so a block may read what an earlier block
  of the page wrote. A failing block fails the test with its file and line.
- ```` ```python title="trial.py" ```` (a title that is a file name) is that file: it is written
  into the page's folder for the blocks after it, not run by itself (NNI's HPO trial script,
  Syne Tune's training script).
- ```` ```python title="fragment..." ```` is an excerpt shown for reading and is not run (the
  README's NNI excerpt; its complete version is on docs/nni.md). Prefer complete blocks.
- ```` ```bash ```` blocks are install and command lines. Only lines that start with ``pnag ``
  run, as the installed ``pnag`` command in the page's folder; a command line that an earlier
  page already ran is not run again. Skipped, because they are not cheap or need what a skipped
  command makes:
    * ``pnag train ...``: training takes minutes to hours (tests/test_training.py covers it);
    * ``pnag bench suite ...``: even ``--quick`` is about 1.5 minutes (tests/test_bench_harness.py);
    * ``pnag bench search ... --methods all``: the BoTorch baselines take minutes per run;
    * any command with the placeholder ``DIR`` (a checkpoint folder made by ``pnag train``).
  Other lines (``pip install``, ``python benchmarks/...``, ``mkdocs serve``) are not run: they
  install, or they are the benchmark runs themselves (minutes to hours).
- Any other info string (``text``, ``json``, ...) is not code.

Short settings: when ``PNAG_DOCS_SHORT`` is set and not ``0`` (this test sets it to ``1`` unless
it is already set), budgets are rewritten before a block runs, so the pages keep the settings
a user would run: ``n_trials=N``, NNI's ``max_trial_number = N``, Syne Tune's
``max_num_trials_started`` / ``max_num_trials_completed`` / ``max_num_evaluations`` to at most
3; ``max_wallclock_time`` to at most 10 s; the CLI's ``-n`` to at most 10,
``--trials`` to 2, ``--seeds`` to 1, ``--budget`` to 3, ``--jobs`` to 1, and a ``pnag study``
without ``--trials`` / ``--seeds`` (the main job's 20 trials x 5 seeds) gets ``--trials 2 --seeds 1``.
``PNAG_DOCS_SHORT=0 pytest tests/test_docs.py`` runs every block as written.

Two checks keep the pages in step with their sources: the result tables of docs/benchmarks.md
are what ``benchmarks/report.py`` prints from ``benchmarks/results/*.json``, and the install
block of docs/index.md is the README's first code block.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK_TIMEOUT_S = 1200

SHORT_TRIALS, SHORT_N, SHORT_BUDGET, SHORT_WALLCLOCK_S = 3, 10, 3, 10
PYTHON_SHORTENING = [  # (pattern, the most it may be)
    (re.compile(r"\b(n_trials\s*=\s*)(\d+)"), SHORT_TRIALS),
    (re.compile(r"\b(max_trial_number\s*=\s*)(\d+)"), SHORT_TRIALS),
    (re.compile(r"\b(max_num_trials_started\s*=\s*)(\d+)"), SHORT_TRIALS),
    (re.compile(r"\b(max_num_trials_completed\s*=\s*)(\d+)"), SHORT_TRIALS),
    (re.compile(r"\b(max_num_evaluations\s*=\s*)(\d+)"), SHORT_TRIALS),
    (re.compile(r"\b(max_wallclock_time\s*=\s*)(\d+)"), SHORT_WALLCLOCK_S),
]
CLI_SHORTENING = [
    (re.compile(r"(?<!\S)(-n\s+)(\d+)"), SHORT_N),
    (re.compile(r"(?<!\S)(--trials\s+)(\d+)"), 2),
    (re.compile(r"(?<!\S)(--seeds\s+)(\d+)"), 1),
    (re.compile(r"(?<!\S)(--budget\s+)(\d+)"), SHORT_BUDGET),
    (re.compile(r"(?<!\S)(--jobs\s+)(\d+)"), 1),
]
FENCE = re.compile(r"^(?P<indent>[ ]{0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
TITLE = re.compile(r'\btitle="(?P<title>[^"]*)"')
FILE_NAME = re.compile(r"^[\w.-]+\.\w+$")


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    language: str
    title: str | None
    code: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def code_blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, in order."""
    blocks, lines, i = [], page.read_text().splitlines(), 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, info = opening["fence"], opening["info"].strip()
        body, j = [], i + 1
        while j < len(lines) and not (len(lines[j].strip()) >= len(fence) and set(lines[j].strip()) == {fence[0]}):
            body.append(lines[j][len(opening["indent"]) :] if lines[j].startswith(opening["indent"]) else lines[j])
            j += 1
        title = TITLE.search(info)
        blocks.append(Block(page, i + 1, info.split()[0] if info else "", title["title"] if title else None, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def short() -> bool:
    return os.environ.get("PNAG_DOCS_SHORT", "1") not in ("", "0")


def shorten(code: str, rules) -> str:
    if not short():
        return code
    for pattern, most in rules:
        code = pattern.sub(lambda m, most=most: f"{m[1]}{min(int(m[2]), most)}", code)
    return code


def short_command(line: str) -> list[str]:
    """A ``pnag`` command line as it runs here: shortened, and ``pnag study`` (whose defaults are
    the main job, 20 trials x 5 seeds) given ``--trials 2 --seeds 1`` where it has none."""
    command = shlex.split(shorten(line, CLI_SHORTENING), comments=True)
    if short() and command[1:2] == ["study"]:
        command += [flag for option, value in (("--trials", "2"), ("--seeds", "1")) if option not in command for flag in (option, value)]
    return command


def skip_reason(command: list[str]) -> str | None:
    """Why a ``pnag`` command line of the docs is not run (None: it runs)."""
    if command[1:2] == ["train"]:
        return "pnag train: training takes minutes to hours"
    if command[1:3] == ["bench", "suite"]:
        return "pnag bench suite: minutes even with --quick"
    if "--methods" in command and command[command.index("--methods") + 1 :][:1] == ["all"]:
        return "--methods all: the BoTorch baselines take minutes per run"
    if "DIR" in command:
        return "DIR: a checkpoint folder that pnag train makes"
    return None


def pnag_executable() -> str:
    beside = Path(sys.executable).with_name("pnag")
    found = str(beside) if beside.exists() else shutil.which("pnag")
    if found is None:
        pytest.fail("the pnag command is not installed (pip install -e .)")
    return found


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run ``args`` in a session of its own; on timeout, end that session's processes (NNI's
    manager, trial processes), and only those."""
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=BLOCK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        stderr += f"\n[timed out after {BLOCK_TIMEOUT_S} s]"
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def failure(block: Block, what: str, result: subprocess.CompletedProcess) -> str:
    tail = (result.stdout[-2000:] + "\n" + result.stderr[-6000:]).strip()
    return f"{block.where}: {what} failed (exit status {result.returncode})\n--- ran ---\n{' '.join(result.args) if block.language != 'python' else block.code}\n--- output (end) ---\n{tail}"


_COMMANDS_RUN: set[str] = set()  # pnag command lines run by an earlier page


def runnable(page: Path) -> bool:
    return any(b.language == "python" or (b.language == "bash" and "pnag " in b.code) for b in code_blocks(page))


@pytest.mark.parametrize("page", [p for p in PAGES if runnable(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run(page: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "PNAG_DOCS_SHORT": os.environ.get("PNAG_DOCS_SHORT", "1"), "MPLBACKEND": "Agg"}
    for block in code_blocks(page):
        if block.language == "python":
            if block.title and block.title.startswith("fragment"):
                continue
            if block.title and FILE_NAME.match(block.title):
                (tmp_path / block.title).write_text(block.code)
                continue
            script = tmp_path / f"_block_line{block.line}.py"
            script.write_text(shorten(block.code, PYTHON_SHORTENING))
            result = run([sys.executable, str(script)], tmp_path, env)
            assert result.returncode == 0, failure(block, "python block", result)
        elif block.language == "bash":
            for offset, line in enumerate(block.code.splitlines(), start=1):
                if not line.startswith("pnag "):
                    continue
                command = short_command(line)
                key = " ".join(command)
                if skip_reason(command) or key in _COMMANDS_RUN:
                    continue
                result = run([pnag_executable(), *command[1:]], tmp_path, env)
                assert result.returncode == 0, failure(Block(page, block.line + offset, "bash", None, line), f"`{key}`", result)
                _COMMANDS_RUN.add(key)


def test_skip_rules_and_shortening() -> None:
    """The rules above do what the docstring says (no subprocess: fast)."""
    assert skip_reason(shlex.split("pnag train --space nb201 --out DIR"))
    assert skip_reason(shlex.split("pnag bench suite --quick"))
    assert skip_reason(shlex.split("pnag bench search --space nb201 --methods all --budget 3"))
    assert skip_reason(shlex.split("pnag generate --space nb201 --weights DIR -n 10"))
    assert skip_reason(shlex.split("pnag generate --space nb201 -n 10 --json")) is None
    if short():
        assert shorten("study.optimize(f, n_trials=20)\nconfig.max_trial_number = 30", PYTHON_SHORTENING) == (
            "study.optimize(f, n_trials=3)\nconfig.max_trial_number = 3"
        )
        assert shorten("pnag study --trials 20 --seeds 5 -n 1000 --out my-study", CLI_SHORTENING) == (
            "pnag study --trials 2 --seeds 1 -n 10 --out my-study"
        )
        assert short_command("pnag study --out results  # the main job") == [
            "pnag",
            "study",
            "--out",
            "results",
            "--trials",
            "2",
            "--seeds",
            "1",
        ]


def test_result_tables_are_report_py_output() -> None:
    """Each table section of docs/benchmarks.md is what benchmarks/report.py prints from the JSON."""
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "report.py")], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    sections = re.split(r"(?m)^(?=<!-- from )", result.stdout)
    stale = [s.splitlines()[0] for s in sections if s.strip() and s.strip() not in page]
    assert not stale, (
        "docs/benchmarks.md differs from `python benchmarks/report.py` under: "
        + ", ".join(stale)
        + "; paste the new output there (docs/reproducing.md, 'Result tables')"
    )


def test_getting_started_install_block_is_the_readme_one() -> None:
    readme_first = code_blocks(ROOT / "README.md")[0]
    index_install = next(b for b in code_blocks(ROOT / "docs" / "index.md") if b.language == "bash")
    assert index_install.code == readme_first.code, "docs/index.md's install block must be README.md's first code block"


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    missing = [name for name in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers") if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"the docs tools are not installed ({', '.join(missing)}): pip install -e '.[docs]'")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(site)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    assert (site / "results" / "transfer.png").is_file()  # plots come from benchmarks/results/ (docs/hooks/results_plots.py)
    assert "pnag_sampler.adapters.optuna.PNAGSampler" in (site / "api" / "optuna" / "index.html").read_text()
