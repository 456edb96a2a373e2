# SPDX-License-Identifier: AGPL-3.0-or-later
"""`python -m benchmarks run SCENARIO…`: for each engine and scenario, start vanilla
Synapse, run the scenario, stop it; start ours, run it again, stop it (never both at
once); then one table with ours beside vanilla, JSON and one PNG per scenario."""

import asyncio
import math
import os
import signal
import statistics
import sys
import time
import traceback
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchmarks import syncer
from benchmarks.report import Report, Row, markdown_table
from benchmarks.scenario import Context, Outcome, Sample, Scenario
from benchmarks.scenarios import SCENARIOS
from benchmarks.servers import OVERLAY_NOTE, load_average, machine_info, running
from benchmarks.smtp_sink import SmtpSink, smtp_sink

BUSY_LOAD = 0.5
FD_NEEDED = 4096  # every simulated user holds a /sync connection, plus sends


def stop_cleanly_on_signals() -> None:
    """SIGTERM (and SIGINT, which a background shell ignores) end the run through
    exceptions, so every started server is stopped and its data removed."""

    def terminate(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def raise_fd_limit() -> str:
    """Lift the soft open-files limit to the hard one (many long-polls at once)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < FD_NEEDED and hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return f"open files limit {soft}"


def run_side(
    scenario: Scenario,
    engine: str,
    vanilla: bool,
    size: str,
    options: dict[str, Any],
    deployment: str | None = None,
    baseline: bool = False,
) -> Context | Outcome | str:
    """One scenario on one fresh server; the Context, or the error text. `baseline`:
    ours without the scenario's `baseline_without` modules. A scenario with its own
    servers starts and stops them itself (its Outcome)."""
    try:
        if scenario.own_servers is not None:
            started = time.perf_counter()
            outcome = scenario.own_servers(engine, vanilla, {**options, "size": size})
            print(
                f"  [{outcome.label}] {scenario.name} done in "
                f"{time.perf_counter() - started:.0f} s (load {load_average()})",
                flush=True,
            )
            return outcome
        if scenario.run is None:
            raise ValueError(f"{scenario.name}: neither run nor own_servers")
        without = tuple(options.get("without") or ())
        if baseline:
            without += scenario.baseline_without
        overlay = options.get("overlay")
        module_config = {} if vanilla else scenario.module_config
        with ExitStack() as stack:
            smtp: SmtpSink | None = None
            if scenario.smtp:
                smtp = stack.enter_context(smtp_sink())
            server = stack.enter_context(
                running(
                    engine,
                    vanilla,
                    without,
                    overlay,
                    module_config,
                    scenario.settings,
                    # --workers: transactions and GC summed over every process.
                    scenario.metrics or deployment is not None,
                    None if smtp is None else smtp.port,
                    vanilla and bool(options.get("vanilla_defaults")),
                    deployment,
                    setup_on_monolith(scenario, deployment, options),
                )
            )
            if baseline:
                server.label = baseline_label(scenario)
            _, admin_token = server.register("benchadmin", admin=True)
            ctx = Context(server, size, admin_token, options, scenario.name)
            ctx.smtp = smtp
            ctx.sliding_sync = scenario.sliding_sync
            started = time.perf_counter()
            asyncio.run(scenario.run(ctx))
            add_cpu_samples(ctx)
            print(
                f"  [{server.label}] {scenario.name} done in "
                f"{time.perf_counter() - started:.0f} s (load {load_average()})",
                flush=True,
            )
            return ctx
    except Exception as e:  # noqa: BLE001 - reported in the table, the run goes on
        traceback.print_exc()
        first_line = (str(e).strip().splitlines() or [""])[0]
        return f"{type(e).__name__}: {first_line}"[:300]


def setup_on_monolith(
    scenario: Scenario, deployment: str | None, options: dict[str, Any]
) -> bool:
    """A worker deployment whose scenario hands over (Scenario.hand_over) is set up
    as one process first, unless `--setup-on workers`."""
    return (
        deployment not in (None, "monolith")
        and scenario.hand_over
        and options.get("setup_on") != "workers"
    )


def baseline_label(scenario: Scenario) -> str:
    return "ours without " + ",".join(scenario.baseline_without)


def add_cpu_samples(ctx: Context) -> None:
    """Server CPU for the same work: the overhead ratio least moved by other load."""
    if not ctx.phases:
        return
    # Same work on both servers only if the scenario's own metrics are comparable.
    comparable = any(s.comparable for s in ctx.samples)
    server = sum(p.server_cpu for p in ctx.phases)
    loadgen = sum(p.loadgen_cpu for p in ctx.phases)
    wall = sum(p.wall for p in ctx.phases)
    ctx.add(
        Sample(
            "server CPU, measured phase",
            value=server,
            unit="cpu-s",
            note=f"{100 * server / max(wall, 1e-9):.0f}% of one core over {wall:.0f} s",
            comparable=comparable,
        )
    )
    db = ctx.db_counts()
    if db is not None:
        ctx.add(
            Sample(
                "database transactions, measured phase",
                value=db.total_txns(),
                unit="txn",
                note=f"{db.writes()} written rows; longest held: {db.top(6)}",
                comparable=comparable,
            )
        )
        ctx.notes.append(
            "database transactions by name (count/seconds held): "
            + ", ".join(
                f"{d} {n:.0f}/{db.seconds[d]:.2f}"
                for d, n in db.txns.most_common()
                if n >= max(1.0, db.total_txns() / 300)
            )
        )
        ctx.add(
            Sample(
                "garbage collection pauses, measured phase",
                value=round(sum(db.gc_seconds.values()), 2),
                unit="s",
                note=db.gc_text(),
                comparable=comparable,
            )
        )
        ctx.add(
            Sample(
                "reactor turns over 50 ms, measured phase",
                value=db.slow_turns(0.05),
                unit="turns",
                # A long turn delays every request in flight: where a p99 comes from
                # when the CPU per message agrees (wall time, so load lengthens it).
                note=f"over 25 ms: {db.slow_turns(0.025)}, over 100 ms: "
                f"{db.slow_turns(0.1)}, over 500 ms: {db.slow_turns(0.5)}",
                comparable=comparable,
            )
        )
        ctx.add(
            Sample(
                "database connection held, measured phase",
                value=round(sum(db.seconds.values()), 2),
                unit="s",
                note="sum over transactions (SQLite: one connection)",
                comparable=comparable,
            )
        )
    ctx.add(
        Sample(
            "load generator CPU, measured phase",
            value=loadgen,
            unit="cpu-s",
            note=f"{100 * loadgen / max(wall, 1e-9):.0f}% of one core",
            comparable=False,
        )
    )


def _ratio(ours: Sample, base: Sample | None) -> tuple[float | None, str]:
    """(ours/vanilla at p50 or throughput, the text of the ratio column)."""
    if base is None or not ours.comparable:
        return None, ""
    o, v = ours.summary(), base.summary()
    if o is not None and v is not None and v.p50 > 0 and v.p99 > 0:
        p50, p99 = o.p50 / v.p50, o.p99 / v.p99
        return p50, f"{p50:.2f}x / {p99:.2f}x"
    mine, theirs = ours.rate(), base.rate()
    if mine is not None and theirs:
        return mine / theirs, f"{mine / theirs:.2f}x rate"
    if ours.value is not None and base.value:
        return ours.value / base.value, f"{ours.value / base.value:.2f}x"
    return None, ""


def _row(name: str, label: str, sample: Sample, ratio: tuple[float | None, str]) -> Row:
    note = sample.note
    if sample.errors:
        note = f"{sample.errors} errors" + (f"; {note}" if note else "")
    return Row(
        name,
        sample.metric,
        sample.summary(),
        value=sample.value,
        unit=sample.unit,
        n=sample.n,
        throughput=sample.rate(),
        ratio=ratio[0],
        ratio_text=ratio[1],
        note=note,
        server=label,
    )


def compare(
    scenario: Scenario,
    engine: str,
    vanilla: Context | Outcome | str | None,
    ours: Context | Outcome | str,
    report: Report,
    shown: str = "",
    labels: tuple[str, str] = ("vanilla", "ours"),
) -> None:
    shown = shown or scenario.name
    name = shown if engine == "" else f"{shown} ({engine})"
    # The baseline is vanilla, or with --workers ours as one process.
    base_label, own_label = labels
    if isinstance(vanilla, str):
        report.rows.append(Row(name, "failed", server=base_label, note=vanilla))
        vanilla = None
    if isinstance(ours, str):
        report.rows.append(Row(name, "failed", server=own_label, note=ours))
    mine = [] if isinstance(ours, str) else ours.samples
    base = {s.metric: s for s in vanilla.samples} if vanilla else {}
    for sample in mine:
        theirs = base.pop(sample.metric, None)
        if theirs is not None:
            report.rows.append(_row(name, base_label, theirs, (None, "")))
        ratio = _ratio(sample, theirs)
        # Ours against ours (--workers): every scenario has its baseline.
        if base_label == "vanilla" and not scenario.on_vanilla:
            ratio = (None, "no vanilla equivalent")
        elif not sample.comparable:
            ratio = (None, "not comparable")
        elif theirs is None:
            ratio = (None, "ours only")
        report.rows.append(_row(name, own_label, sample, ratio))
    for sample in base.values():  # metrics only vanilla has
        report.rows.append(_row(name, base_label, sample, (None, "")))
    for ctx in (vanilla, ours):
        if isinstance(ctx, Context | Outcome):
            report.notes += [f"{name} [{ctx.label}]: {n}" for n in ctx.notes]


def round_medians(
    name: str, pairs: Sequence[tuple[Context | Outcome, Context | Outcome]]
) -> list[str]:
    """Per metric, the median over the rounds of ours ÷ the baseline (p50 / p99, or the
    value): steadier than any one round's ratio on a shared machine."""
    ratios: dict[str, list[tuple[float, float | None]]] = {}
    for base, ours in pairs:
        theirs = {s.metric: s for s in base.samples}
        for sample in ours.samples:
            other = theirs.get(sample.metric)
            if other is None or not sample.comparable:
                continue
            o, v = sample.summary(), other.summary()
            if o is not None and v is not None and v.p50 > 0 and v.p99 > 0:
                ratios.setdefault(sample.metric, []).append(
                    (o.p50 / v.p50, o.p99 / v.p99)
                )
            elif sample.value is not None and other.value:
                ratios.setdefault(sample.metric, []).append(
                    (sample.value / other.value, None)
                )
    notes = []
    for metric, found in ratios.items():
        if len(found) < 2:
            continue
        p50 = statistics.median(r[0] for r in found)
        p99s = [r[1] for r in found if r[1] is not None]
        each = ", ".join(f"{r[0]:.2f}" for r in found)
        text = f"{p50:.2f}x" + (
            f" / {statistics.median(p99s):.2f}x" if len(p99s) == len(found) else ""
        )
        notes.append(
            f"{name}: {metric}: median over {len(found)} rounds {text} (p50 or value"
            f" by round: {each})"
        )
    return notes


def run(
    names: Sequence[str],
    size: str,
    engines: Sequence[str],
    json_out: Path | None,
    plot_dir: Path | None,
    options: dict[str, Any],
) -> int:
    report = Report(
        "run",
        params={
            "scenarios": list(names),
            "size": size,
            "engines": list(engines),
            **{k: v for k, v in options.items() if v},
        },
        machine=machine_info(engines[0]),
    )
    report.notes.append(OVERLAY_NOTE)
    report.notes.append(raise_fd_limit())
    # --poll-timeout: every simulated client's /sync long-poll (syncer.py reads it).
    syncer.LONG_POLL_MS = int(options.get("poll_timeout") or syncer.LONG_POLL_MS)
    if options.get("poll_timeout"):
        report.notes.append(f"/sync long-polls with timeout={syncer.LONG_POLL_MS} ms")
    stop_cleanly_on_signals()
    if os.getloadavg()[0] > BUSY_LOAD:
        print(f"warning: load average {load_average()}: other work skews the numbers")
    contexts: dict[str, dict[str, Context | Outcome]] = {}
    # --rounds N: vanilla, ours, then ours, vanilla, … (ABBA: a load that drifts through
    # the run favours neither side), each pair compared on its own (the spread between
    # rounds shows how much of a ratio is noise), and the median ratio over the rounds.
    rounds = max(1, int(options.get("rounds") or 1))
    for engine in engines:
        for name in names:
            pairs: list[tuple[Context | Outcome, Context | Outcome]] = []
            for k in range(1, rounds + 1):
                shown = name if rounds == 1 else f"{name} #{k}"
                scenario = SCENARIOS[name]
                print(f"== {shown} on {engine} ({size}) ==", flush=True)
                vanilla: Context | Outcome | str | None = None
                ours: Context | Outcome | str
                labels = ("vanilla", "ours")
                profile = options.get("workers")
                ours_first = (
                    k % 2 == 0
                    and not profile
                    and not scenario.baseline_without
                    and scenario.on_vanilla
                    and not options.get("no_vanilla")
                )
                if ours_first:
                    ours = run_side(scenario, engine, False, size, options)
                    vanilla = run_side(scenario, engine, True, size, options)
                    report.notes.append(f"{shown}: ours ran before vanilla")
                elif profile:
                    # Ours as one process, then as the worker deployment, both
                    # behind nginx (docs/availability.md, "Capacity").
                    labels = ("monolith", f"workers-{profile}")
                    if options.get("no_vanilla"):
                        # The deployment alone (e.g. a size one process cannot hold).
                        report.notes.append(f"{name}: monolith not run (--no-vanilla)")
                    else:
                        vanilla = run_side(
                            scenario, engine, False, size, options, "monolith"
                        )
                    ours = run_side(scenario, engine, False, size, options, profile)
                elif scenario.baseline_without:
                    labels = (baseline_label(scenario), "ours")
                    vanilla = run_side(
                        scenario, engine, False, size, options, baseline=True
                    )
                elif scenario.on_vanilla and options.get("no_vanilla"):
                    report.notes.append(f"{name}: vanilla not run (--no-vanilla)")
                elif scenario.on_vanilla:
                    vanilla = run_side(scenario, engine, True, size, options)
                else:
                    report.notes.append(f"{name}: {scenario.why_not_vanilla}")
                if not profile and not ours_first:
                    ours = run_side(scenario, engine, False, size, options)
                label = shown if len(engines) == 1 else f"{shown} ({engine})"
                if isinstance(vanilla, Context | Outcome) and isinstance(
                    ours, Context | Outcome
                ):
                    pairs.append((vanilla, ours))
                compare(
                    scenario,
                    "" if len(engines) == 1 else engine,
                    vanilla,
                    ours,
                    report,
                    shown,
                    labels,
                )
                contexts[label] = {
                    c.label: c
                    for c in (vanilla, ours)
                    if isinstance(c, Context | Outcome)
                }
            if rounds > 1:
                where = name if len(engines) == 1 else f"{name} ({engine})"
                report.notes += round_medians(where, pairs)
    report.machine["loadavg_end"] = load_average()
    print()
    print(report.text())
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        report.write_json(json_out, extra={"latencies_ms": _raw(contexts)})
        markdown = json_out.with_suffix(".md")
        markdown.write_text(markdown_table(report.rows) + "\n", encoding="utf-8")
        print(f"JSON written to {json_out}, the table as Markdown to {markdown}")
    if plot_dir is not None:
        from benchmarks.plot import plot_all

        for path in plot_all(contexts, plot_dir):
            print(f"plot written to {path}")
    failed = any(r.metric == "failed" for r in report.rows)
    return 1 if failed else 0


def _raw(contexts: dict[str, dict[str, Context | Outcome]]) -> dict[str, Any]:
    """Every latency sample (ms), for plots and comparisons over time."""
    return {
        label: {
            server: {
                s.metric: [round(x * 1000, 3) for x in s.latencies if math.isfinite(x)]
                for s in ctx.samples
                if s.latencies
            }
            for server, ctx in sides.items()
        }
        for label, sides in contexts.items()
    }


if __name__ == "__main__":
    sys.exit("use: python -m benchmarks run …")
