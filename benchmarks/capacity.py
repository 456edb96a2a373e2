# SPDX-License-Identifier: AGPL-3.0-or-later
"""`python -m benchmarks capacity RUN.json`: the bureau's CPU from measured costs.

The model (docs/availability.md, "Capacity"): the server's CPU is what the online
officers cost while idle (their /sync long-polls) plus what each message costs, a part
per message and a part per recipient:

    cores = fixed + online × idle + rate × (per_message + recipients × per_recipient)

`fixed` (the deployment with nobody online: every process's own loops) and `idle`
(CPU-s per online user per second, net of `fixed`) come from `--idle` in dm-latency or
group-fanout; `per_message` and `per_recipient` from the CPU per message of dm-latency
(one recipient) and of group-fanout (members − 1 recipients): two equations, two
unknowns. Every input is read from a `run --json` file of one deployment (`--server`:
ours, monolith, workers-small, workers-bureau); the workload is the bureau's, given on
the command line. The answer is CPU only (PostgreSQL's own share included, as the
benchmark counts its backends); memory, disk and the database's I/O are sized apart."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IDLE = "server CPU per online user, idle"
FIXED = "server CPU, nobody online"
PER_MESSAGE = "server CPU per message"


@dataclass(frozen=True)
class Costs:
    fixed_cores: float  # the deployment with nobody online
    idle_s: float  # CPU-s per online user per second
    per_message_s: float  # CPU-s per message, whatever its recipients
    per_recipient_s: float  # CPU-s per recipient of a message
    recipients_measured: tuple[int, int]  # dm-latency's and group-fanout's

    def cores(self, online: int, rate: float, recipients: float) -> float:
        return (
            self.fixed_cores
            + online * self.idle_s
            + rate * (self.per_message_s + recipients * self.per_recipient_s)
        )


def _rows(data: dict[str, Any], server: str) -> dict[tuple[str, str], float]:
    found = {}
    for row in data.get("rows", []):
        if row.get("server") == server and row.get("value") is not None:
            scenario = str(row["scenario"]).split(" ")[0]
            found[(scenario, str(row["metric"]))] = float(row["value"])
    return found


def _group_recipients(data: dict[str, Any]) -> int:
    members = data.get("params", {}).get("members")
    if members:
        return int(members) - 1
    for note in data.get("notes", []):
        if "group-fanout" in note and " members, " in note:
            head = note.split("]: ", 1)[-1]
            return int(head.split(" members", 1)[0]) - 1
    raise ValueError("the run has no group-fanout note with its member count")


def costs(data: dict[str, Any], server: str) -> Costs:
    rows = _rows(data, server)
    try:
        dm = rows[("dm-latency", PER_MESSAGE)] / 1000
        group = rows[("group-fanout", PER_MESSAGE)] / 1000
    except KeyError as e:
        raise ValueError(
            f"the run needs dm-latency and group-fanout on {server!r} ({e.args[0]})"
        ) from None
    k = _group_recipients(data)
    per_recipient = max((group - dm) / (k - 1), 0.0) if k > 1 else 0.0
    per_message = max(dm - per_recipient, 0.0)
    idle = [v for (s, m), v in rows.items() if m == IDLE]
    fixed = [v for (s, m), v in rows.items() if m == FIXED]
    if not idle or not fixed:
        raise ValueError(f"the run has no idle measurement on {server!r} (--idle S)")
    # cpu-ms per user-minute → cpu-s per user-second; both scenarios measure it: their
    # mean, as for the fixed cost.
    idle_s = sum(idle) / len(idle) / 1000 / 60
    return Costs(sum(fixed) / len(fixed), idle_s, per_message, per_recipient, (1, k))


def report(
    path: Path,
    server: str,
    online: int,
    rates: list[float],
    recipients: float,
    cores_per_server: int,
) -> str:
    data = json.loads(path.read_text(encoding="utf-8"))
    c = costs(data, server)
    machine = data.get("machine", {})
    lines = [
        f"capacity from {path} ({server}; load {machine.get('loadavg_start', '?')}"
        f" → {machine.get('loadavg_end', '?')} on {machine.get('nproc', '?')} cores)",
        f"  nobody online: {c.fixed_cores:.2f} cores; idle: {1000 * 60 * c.idle_s:.2f}"
        " cpu-ms per online user per minute",
        f"  per message: {1000 * c.per_message_s:.2f} cpu-ms + {1000 * c.per_recipient_s:.3f}"
        f" cpu-ms per recipient (from {c.recipients_measured[0]} and"
        f" {c.recipients_measured[1]} recipients)",
        f"  workload: {online} officers online, {recipients:g} recipients per message"
        " on average",
    ]
    for rate in rates:
        cores = c.cores(online, rate, recipients)
        servers = cores / cores_per_server
        lines.append(
            f"  {rate:g} messages/s: {cores:.1f} cores busy"
            f" (fixed {c.fixed_cores:.1f} + online {online * c.idle_s:.1f} + messages"
            f" {cores - c.fixed_cores - online * c.idle_s:.1f}); {servers:.2f} servers of"
            f" {cores_per_server} cores at 100 %, {servers / 0.5:.2f} at the 50 %"
            " headroom docs/availability.md asks for"
        )
    return "\n".join(lines)
