# SPDX-License-Identifier: AGPL-3.0-or-later
"""start-memory: resident memory of the launcher and Synapse SETTLE_S after the server
answers, nothing done meanwhile (issue 17, item 6: ≤ 1.3× vanilla at start). The note
names each process's share, so a library imported at start shows where it lands."""

import asyncio
from pathlib import Path

from benchmarks.scenario import Context, Sample
from benchmarks.servers import server_pids

SETTLE_S = 20.0


def _process(pid: int) -> tuple[str, float]:
    """(command's last word, VmRSS MiB); ("gone", 0) once it exited."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return "gone", 0.0
    kib = next(
        (int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0
    )
    name = " ".join(w.decode(errors="replace") for w in words[1:3] if w)
    return name or str(pid), kib / 1024


async def run(ctx: Context) -> None:
    await asyncio.sleep(SETTLE_S)
    shares = [_process(pid) for pid in server_pids(ctx.server)]
    total = sum(mib for _name, mib in shares)
    ctx.add(
        Sample(
            "server RSS at start",
            value=round(total, 1),
            unit="MiB",
            note=f"{SETTLE_S:.0f} s after start, idle: "
            + ", ".join(f"{name} {mib:.0f} MiB" for name, mib in shares),
        )
    )
