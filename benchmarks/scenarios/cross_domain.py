# SPDX-License-Identifier: AGPL-3.0-or-later
"""cross-domain (issue 22 item 3): the two cross-network links and the requirement's
≥ 100 KB/s, in one `run` scenario that starts its own servers.

- Federation (benchmarks.cross_domain, vanilla and ours): two domains on loopback over
  HTTPS; message latency a → b (send → the peer officer's waiting /sync), then the cold
  download rate of b's file through a (a fetches it from b over federation).
- The ministry IM bridge (benchmarks.ministry_im, ours only: vanilla has no bridge): one
  server of ours with the bridge started by the launcher and the reference peer; the
  rate of files each way (SM4-sealed, SM3-checked 256 KiB chunks), then text latency
  each way.

Sizes: small = 20 messages and 2 files of 2 MiB per link; bureau = 40 and 3 of 4 MiB;
`--messages`, `--files` and `--file-mib` override them. A rate is the median of the
files (each one in the note); the lowest of every link is checked against ≥ 100 KB/s."""

import statistics
from typing import Any

from benchmarks import cross_domain, ministry_im
from benchmarks.scenario import Outcome, Sample

REQUIRED_KBS = 100.0
SIZES = {"small": (20, 2.0, 2), "bureau": (40, 4.0, 3)}
KIB = 1024


def rate_sample(metric: str, rates_bps: list[float], note: str) -> Sample:
    kbs = [r / KIB for r in rates_bps]
    return Sample(
        metric,
        value=round(statistics.median(kbs), 1),
        unit="KB/s",
        n=len(kbs),
        note=f"{note}; each file: " + ", ".join(f"{x:.0f}" for x in kbs) + " KB/s",
    )


def requirement(rates: dict[str, list[float]]) -> str:
    lowest = {link: min(r) / KIB for link, r in rates.items() if r}
    if not lowest:
        return "no file measured"
    worst = min(lowest, key=lambda k: lowest[k])
    verdict = "met" if lowest[worst] >= REQUIRED_KBS else "NOT met"
    return (
        f"≥ {REQUIRED_KBS:.0f} KB/s on every link: {verdict} (lowest file: "
        f"{lowest[worst]:.0f} KB/s, {worst})"
    )


def run(engine: str, vanilla: bool, options: dict[str, Any]) -> Outcome:
    messages, file_mib, files = SIZES[str(options.get("size") or "small")]
    messages = int(options.get("messages") or messages)
    file_mib = float(options.get("file_mib") or file_mib)
    files = int(options.get("files") or files)
    size = int(file_mib * KIB * KIB)
    kind = "vanilla" if vanilla else "ours"
    outcome = Outcome(kind)
    fed = cross_domain.run_side(kind, engine, messages, size, files)
    transfers = fed["transfers"]
    outcome.samples.append(
        Sample(
            "federation: message a → b (send → peer's /sync)",
            latencies=fed["latencies"],
            note="one at a time, the peer's long-poll already waiting",
        )
    )
    rates = {"federation b → a": [n / s for n, s in transfers]}
    outcome.samples.append(
        rate_sample(
            "federation: file b → a, cold download",
            rates["federation b → a"],
            f"{file_mib:g} MiB, fetched by a from b over HTTPS",
        )
    )
    if not vanilla:
        bridge = ministry_im.measure(engine, file_mib, files, messages)
        outcome.samples += [
            Sample(
                "bridge: text ministry → Matrix (peer → officer's /sync)",
                latencies=bridge["text_in"],
            ),
            Sample(
                "bridge: text Matrix → ministry (send → peer holds it)",
                latencies=bridge["text_out"],
            ),
        ]
        rates["bridge ministry → Matrix"] = bridge["file_in"]
        rates["bridge Matrix → ministry"] = bridge["file_out"]
        for link in ("bridge ministry → Matrix", "bridge Matrix → ministry"):
            outcome.samples.append(
                rate_sample(
                    link.replace("bridge ", "bridge: file "),
                    rates[link],
                    f"{file_mib:g} MiB, chunked, sealed and checked",
                )
            )
    else:
        outcome.notes.append("the ministry bridge is ours only (vanilla has none)")
    outcome.notes.append(requirement(rates))
    return outcome
