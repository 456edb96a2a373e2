# SPDX-License-Identifier: AGPL-3.0-or-later
"""Run the suite with Twisted trial and end with one plain summary line.

    python -m tests.run [--jobs N] [--no-retry] [test names…]   (default: all of tests/)

The last line reads "tests: N passed, N failed, N skipped" so any CI reader can count.

With more than one job, the named packages are split into their test modules and N trial
processes take modules from one queue, longest first (durations of the last full run are
kept in tests/durations.json; unknown modules are estimated from their size). A module is
the unit because its classes share one test server each; the tests drive servers over
HTTP, so two runners keep a 2-core machine busy where one leaves it half idle. Modules of
a few seconds (unit tests: mostly the trial process's start and imports) run several to
one trial process. Output of a module (or such a batch) is printed when it ends: one
line when it passed, everything when it failed or skipped. `--jobs` defaults to $JWWX_TEST_JOBS, else the number of cores up to 2.

A test that failed is run once more, alone, after the rest (`--no-retry` to skip it).
The tests drive real servers on a shared 2-core machine: a race that shows once in a
thousand runs must not hide the whole suite's verdict, and must not hide itself either.
A test that passes only the second time counts as passed, but its first failure is
printed in full and named again on the last lines ("passed only on a second run"), so the
race is seen and fixed; a test that fails twice fails the run.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_COUNTS = re.compile(r"(\w+)=(\d+)")
# trial names each failing test (or an unimportable module) on a line of its own.
_FAILED_ID = re.compile(r"^(tests(?:\.\w+)+)$", re.MULTILINE)
_ROOT = Path(__file__).resolve().parent.parent
_DURATIONS = _ROOT / "tests" / "durations.json"
# Seconds per byte of test source, for modules with no recorded duration.
_SECONDS_PER_BYTE = 0.003
# Modules recorded at most _SMALL seconds share trial processes, _BATCH_SECONDS each.
_SMALL = 5.0
_BATCH_SECONDS = 20.0


@dataclass
class Outcome:
    name: str
    seconds: float
    output: str
    code: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        found = sum(
            self.counts.get(k, 0) for k in ("failures", "errors", "unexpectedSuccesses")
        )
        # No verdict line (a crash, an import error) counts as a failure.
        return found if self.counts or self.code == 0 else max(found, 1)

    @property
    def passed(self) -> int:
        return self.counts.get("successes", 0) + self.counts.get("expectedFailures", 0)

    @property
    def skipped(self) -> int:
        return self.counts.get("skips", 0)

    def failed_ids(self) -> list[str]:
        """The tests trial reported as [FAIL] or [ERROR] (its blocks are separated
        by lines of '='; a block ends with the names of the tests it concerns)."""
        ids: set[str] = set()
        for block in re.split(r"^={20,}$", self.output, flags=re.MULTILINE):
            body = block.strip()
            if body.startswith(("[FAIL]", "[ERROR]")):
                ids.update(_FAILED_ID.findall(body.split("\n---")[0]))
        return sorted(ids)


def _trial(names: list[str], temp: str, stream: bool) -> Outcome:
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "twisted.trial", f"--temp-directory={temp}", *names],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=_ROOT,
    )
    assert process.stdout is not None
    lines = []
    verdict = ""
    for line in process.stdout:
        if stream:
            sys.stdout.write(line)
        lines.append(line)
        if line.startswith(("PASSED", "FAILED")):
            verdict = line.strip()
    code = process.wait()
    counts = {k: int(v) for k, v in _COUNTS.findall(verdict)}
    return Outcome(
        " ".join(names), time.monotonic() - started, "".join(lines), code, counts
    )


def _modules(name: str) -> list[str]:
    """A package name becomes its test modules; anything else stays as named."""
    path = _ROOT.joinpath(*name.split("."))
    if not path.is_dir():
        return [name]
    found = sorted(path.rglob("test_*.py"))
    return [".".join(p.relative_to(_ROOT).with_suffix("").parts) for p in found]


def _estimate(name: str, known: dict[str, float]) -> float:
    if name in known:
        return known[name]
    source = _ROOT.joinpath(*name.split(".")).with_suffix(".py")
    return source.stat().st_size * _SECONDS_PER_BYTE if source.exists() else 0.0


def _batches(units: list[str], known: dict[str, float]) -> list[list[str]]:
    """The units in the order to run them, longest first; small modules (unit tests
    that take about as long as a trial process takes to start and import) go together
    in one trial process, up to BATCH_SECONDS a batch."""
    ordered = sorted(units, key=lambda u: -_estimate(u, known))
    batches: list[list[str]] = [[u] for u in ordered if _estimate(u, known) > _SMALL]
    batch: list[str] = []
    for unit in (u for u in ordered if _estimate(u, known) <= _SMALL):
        if batch and sum(_estimate(u, known) for u in batch) >= _BATCH_SECONDS:
            batches.append(batch)
            batch = []
        batch.append(unit)
    if batch:
        batches.append(batch)
    return sorted(batches, key=lambda b: -sum(_estimate(u, known) for u in b))


def _parallel(units: list[str], jobs: int) -> list[Outcome]:
    known: dict[str, float] = {}
    if _DURATIONS.exists():
        known = json.loads(_DURATIONS.read_text())
    work: queue.Queue[list[str]] = queue.Queue()
    for batch in _batches(units, known):
        work.put(batch)
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def runner(index: int) -> None:
        while True:
            try:
                unit = work.get_nowait()
            except queue.Empty:
                return
            outcome = _trial(unit, f"_trial_temp-{index}", stream=False)
            with lock:
                outcomes.append(outcome)
                _report(outcome)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _durations(outcomes: list[Outcome]) -> dict[str, float]:
    """Seconds per module; a batch's time is shared out by its modules' estimates."""
    known: dict[str, float] = {}
    if _DURATIONS.exists():
        known = json.loads(_DURATIONS.read_text())
    durations: dict[str, float] = {}
    for outcome in outcomes:
        names = outcome.name.split()
        weights = [max(_estimate(n, known), 0.1) for n in names]
        for name, weight in zip(names, weights, strict=True):
            durations[name] = round(outcome.seconds * weight / sum(weights), 1)
    return durations


def _report(outcome: Outcome) -> None:
    verdict = "ok" if outcome.failed == 0 else "FAILED"
    print(
        f"{outcome.seconds:7.1f} s  {verdict:6}  {outcome.name}: "
        f"{outcome.passed} passed, {outcome.failed} failed, {outcome.skipped} skipped",
        flush=True,
    )
    if outcome.failed or outcome.skipped:
        sys.stdout.write(outcome.output)
        sys.stdout.flush()


def _jobs(args: list[str]) -> tuple[int, list[str]]:
    default = os.environ.get("JWWX_TEST_JOBS") or str(min(2, os.cpu_count() or 1))
    if "--jobs" in args:
        at = args.index("--jobs")
        value = args[at + 1] if at + 1 < len(args) else ""
        return int(value) if value.isdigit() else 0, args[:at] + args[at + 2 :]
    return int(default) if default.isdigit() else 0, args


def _retry_failed(outcomes: list[Outcome]) -> tuple[list[Outcome], list[str]]:
    """Run each failed module's failed tests once more, alone; an outcome whose
    failures all pass then counts them as passed. Returns the outcomes and the tests
    that passed only the second time."""
    kept: list[Outcome] = []
    second_run: list[str] = []
    for outcome in outcomes:
        ids = outcome.failed_ids()
        if not outcome.failed or not ids or len(ids) > outcome.failed:
            kept.append(outcome)
            continue
        print(f"running again, alone: {' '.join(ids)}", flush=True)
        again = _trial(ids, "_trial_temp-retry", stream=False)
        _report(again)
        if again.failed or again.code or again.passed < len(ids):
            kept.append(outcome)
            continue
        counts = dict(outcome.counts)
        for key in ("failures", "errors", "unexpectedSuccesses"):
            counts.pop(key, None)
        counts["successes"] = outcome.passed + again.passed
        kept.append(Outcome(outcome.name, outcome.seconds, outcome.output, 0, counts))
        second_run.extend(ids)
    return kept, second_run


def main() -> int:
    retry = "--no-retry" not in sys.argv
    jobs, names = _jobs([a for a in sys.argv[1:] if a != "--no-retry"])
    if jobs < 1:
        print("tests.run: --jobs needs a positive number", file=sys.stderr)
        return 2
    full_run = not names
    units = [unit for name in (names or ["tests"]) for unit in _modules(name)]
    started = time.monotonic()
    if jobs == 1 or len(units) == 1 or any(n.startswith("-") for n in names):
        outcomes = [_trial(names or ["tests"], "_trial_temp", stream=True)]
    else:
        outcomes = _parallel(units, jobs)
        slowest = sorted(outcomes, key=lambda o: -o.seconds)[:8]
        print(
            "slowest modules: "
            + ", ".join(f"{o.name} {o.seconds:.0f} s" for o in slowest)
        )
    passed = sum(o.passed for o in outcomes)
    failed = sum(o.failed for o in outcomes)
    skipped = sum(o.skipped for o in outcomes)
    second_run: list[str] = []
    if failed and retry:
        outcomes, second_run = _retry_failed(outcomes)
        passed = sum(o.passed for o in outcomes)
        failed = sum(o.failed for o in outcomes)
    if full_run and len(outcomes) > 1 and failed == 0 and not second_run:
        durations = _durations(outcomes)
        _DURATIONS.write_text(json.dumps(durations, indent=0, sort_keys=True) + "\n")
    print(f"wall time {time.monotonic() - started:.0f} s with {jobs} job(s)")
    if second_run:
        print(
            f"passed only on a second run (a race to find; first failure above): "
            f"{', '.join(second_run)}"
        )
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    if passed == 0 and failed == 0:
        print("tests: no test ran", file=sys.stderr)
        return 1
    return 1 if failed or any(o.code for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
