# SPDX-License-Identifier: AGPL-3.0-or-later
"""pubaccount (ours only: vanilla Synapse has no public accounts): officers who are
directory members, all long-polling /sync, subscribed to one public account through
their department (docs/pubaccounts.md).

Setup: the account is created and its rooms filled (the time that takes is a metric).
Measured: one article pushed until the last officer's /sync shows the card; the
article page read by 50 concurrent readers (each with its own token; latency per
page), then, as the reference on the same server and load, the same readers fetching
their own copy of the card with Synapse's GET /rooms/{id}/event/{id} (what any page of
a homeserver costs at least: its HTTP, authentication and metrics); the push withdrawn until the last officer's /sync shows the redaction of its
copy. Issue 21's targets (2 cores): 10,000 subscribers (`--size bureau`) published and
withdrawn in under 60 s each, the page p99 under 50 ms.

With `--workers PROFILE` the officers are set up on one process (the deployment's
database and nginx), up to their initial syncs, then the server is restarted as the
worker deployment on the same database (`BenchServer.hand_over`) and the long-polls and
every measured phase run there; `--setup-on workers` sets them up on the workers (slow:
benchmarks/README.md, "Set-up on the monolith"). Checks: every subscriber's /sync shows
the card exactly once (a second card counts as an error) and, after the withdraw, the
redaction of its copy exactly once."""

import asyncio
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks import officers as directory_officers
from benchmarks import syncer
from benchmarks.aclient import CLIENT, Http, MatrixUser
from benchmarks.profile import Profiler
from benchmarks.profile import summary as profile_summary
from benchmarks.scenario import SETTLE_CORES, Context, Sample
from benchmarks.servers import server_cpu_by_process
from benchmarks.stats import percentile

ACCOUNTS = "/_jwwx/admin/v1/pubaccounts/accounts"
PAGES = "/_jwwx/client/v1/pubaccounts/articles"
CARD = "cn.jwwx.pubaccount"
FILL_BUDGET_S = 3600.0
DELIVERY_BUDGET_S = 600.0
# Two long-polls (30 s each, or --poll-timeout) and some: every officer's poll times out
# and is answered at least once even when the server computes the 2,000+ timeouts'
# answers late (at 2,000 on a loaded machine, 35 s saw 8 answers).
IDLE_EXTRA_S = 5.0


def idle_seconds() -> float:
    return 2 * syncer.LONG_POLL_MS / 1000 + IDLE_EXTRA_S


# What a timed-out long-poll costs the server at least (cpu-s; measured 2-6 cpu-ms on
# the monolith and the workers, sessions 13-15): with everyone long-polling, a settle
# waits for the CPU to fall below SETTLE_CORES plus the population's own cost, not
# below SETTLE_CORES alone (at 10,000 officers the population alone is ≈ 0.7-2 cores,
# so each such settle would wait its full 180 s).
POLL_CPU_S = 0.002


def settle_cores(officers: int) -> float:
    return SETTLE_CORES + officers * POLL_CPU_S / (syncer.LONG_POLL_MS / 1000)


BODY = "<h2>通报</h2>" + "<p>各单位请注意近期安全形势，落实值班制度。</p>" * 40


@dataclass(frozen=True)
class PubSize:
    subscribers: int
    readers: int  # concurrent page readers
    reads_each: int


SIZES = {"small": PubSize(200, 50, 20), "bureau": PubSize(10_000, 50, 40)}


class Watch:
    """When each officer's /sync first showed the card of an article (the push is sent
    before its request answers: cards are matched by the article, known before), and
    the redaction of that officer's copy. Two kinds of duplicate, each an error:
    `duplicate_*`, a second, distinct event (another card of the article, another
    redaction event of the copy: the server sent it twice), and `repeated_*`, the
    same event id in a later /sync answer of the officer (the server delivered one
    event twice)."""

    def __init__(self) -> None:
        self.article_id = 0
        self.cards: dict[str, tuple[str, float]] = {}  # user → (event id, seen at)
        self.rooms: dict[str, str] = {}  # user → the room of that copy
        self.redacted: dict[str, float] = {}
        self.card_ids: dict[str, set[str]] = {}  # user → card events of the article
        self.redaction_ids: dict[str, set[str]] = {}  # user → redactions of its copy
        self.duplicate_cards = 0
        self.repeated_cards = 0
        self.duplicate_redactions = 0
        self.repeated_redactions = 0
        self.warmup_id = 0  # the set-up's push, delivered before the measured phases
        self.warmed: set[str] = set()

    def seen(self, user: str, room_id: str, event: dict[str, Any], at: float) -> None:
        content = event.get("content") or {}
        card = content.get(CARD)
        articles = card.get("articles") if isinstance(card, dict) else None
        event_id = str(event.get("event_id"))
        if articles and articles[0].get("id") == self.warmup_id:
            self.warmed.add(user)
        elif articles and articles[0].get("id") == self.article_id:
            if "m.relates_to" in content:
                return
            ids = self.card_ids.setdefault(user, set())
            if event_id in ids:
                self.repeated_cards += 1
            elif ids:
                self.duplicate_cards += 1
            else:
                self.cards[user] = (event_id, at)
                self.rooms[user] = room_id
            ids.add(event_id)
        elif event.get("type") == "m.room.redaction" and user in self.cards:
            redacts = event.get("redacts") or content.get("redacts")
            if redacts == self.cards[user][0]:
                ids = self.redaction_ids.setdefault(user, set())
                if event_id in ids:
                    self.repeated_redactions += 1
                elif ids:
                    self.duplicate_redactions += 1
                else:
                    self.redacted[user] = at
                ids.add(event_id)

    def duplicates_note(self, what: str) -> str:
        """The phase's duplicates, by kind."""
        if what == "cards":
            distinct, repeated = self.duplicate_cards, self.repeated_cards
        else:
            distinct, repeated = self.duplicate_redactions, self.repeated_redactions
        return (
            f"{distinct} duplicate {what} (a second event), {repeated} repeated "
            f"(one event in two /sync answers)"
        )


class SetupClock:
    """The set-up's steps: wall seconds and the server's CPU by process of each
    (where a worker deployment's set-up time goes), one note at the end."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.steps: list[str] = []
        self._mark()

    def _mark(self) -> None:
        self._wall = time.perf_counter()
        self._split = server_cpu_by_process(self.ctx.server)

    def step(self, name: str) -> float:
        wall = time.perf_counter() - self._wall
        split = server_cpu_by_process(self.ctx.server)
        spent = {k: v - self._split.get(k, 0.0) for k, v in split.items()}
        ranked = sorted(spent.items(), key=lambda kv: -kv[1])
        shown = ", ".join(f"{k} {v:.0f}" for k, v in ranked if v >= 0.5)
        self.steps.append(
            f"{name} {wall:.0f} s ({sum(spent.values()):.0f} cpu-s: {shown or '-'})"
        )
        self._mark()
        return wall

    def note(self) -> str:
        return "set-up steps (wall, server cpu-s by process): " + "; ".join(self.steps)


async def _until(check: Any, budget_s: float) -> bool:
    deadline = time.perf_counter() + budget_s
    while time.perf_counter() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return bool(check())


async def _admin(http: Http, ctx: Context, method: str, path: str, body: Any) -> Any:
    answer = await http.request(method, path, body, token=ctx.admin_token, timeout=600)
    if not answer.ok:
        raise RuntimeError(f"{method} {path}: {answer.error()}")
    return answer.body


@dataclass
class PageReads:
    """Each page's latency with its reader's ordinal (0: the reader's first page of
    the article, nothing kept for it yet) and when it began (s into the phase)."""

    latencies: list[float] = field(default_factory=list)
    ordinals: list[int] = field(default_factory=list)
    began: list[float] = field(default_factory=list)
    # Of each latency: the load generator's creation of a new connection (0: reused).
    connects: list[float] = field(default_factory=list)
    # Of each latency: until the load generator handed the request to the socket (its
    # own queueing among the readers, the connection's set-up, the request's writing).
    sents: list[float] = field(default_factory=list)
    errors: int = 0

    def of(self, first: bool) -> list[float]:
        return [
            s
            for s, n in zip(self.latencies, self.ordinals, strict=True)
            if (n == 0) == first
        ]

    def after_connect(self, first: bool) -> list[float]:
        return [
            s - c
            for s, c, n in zip(
                self.latencies, self.connects, self.ordinals, strict=True
            )
            if (n == 0) == first
        ]

    def after_sent(self, first: bool) -> list[float]:
        """From the request handed to the socket to the page read: what the server
        and the way back take, without the load generator's work before sending."""
        return [
            s - w
            for s, w, n in zip(self.latencies, self.sents, self.ordinals, strict=True)
            if (n == 0) == first
        ]

    def slowest(self, count: int = 5) -> str:
        ranked = sorted(
            zip(self.latencies, self.ordinals, self.began, strict=True), reverse=True
        )[:count]
        return ", ".join(
            f"{1000 * s:.0f} ms (page {n + 1}, at {t:.2f} s)" for s, n, t in ranked
        )


async def _read_pages(
    officers: list[MatrixUser],
    path_of: Callable[[MatrixUser], str],
    size: PubSize,
    ordinals: range,
    reads: PageReads | None = None,
) -> PageReads:
    """The readers' pages `ordinals` (0: each reader's first), all readers at once."""
    reads = reads if reads is not None else PageReads()
    start = time.perf_counter()

    async def reader(officer: MatrixUser) -> None:
        path = path_of(officer)
        for ordinal in ordinals:
            began = time.perf_counter() - start
            answer = await officer.call("GET", path)
            if answer.status == 200:
                reads.latencies.append(answer.seconds)
                reads.ordinals.append(ordinal)
                reads.began.append(began)
                reads.connects.append(answer.connect_seconds)
                reads.sents.append(answer.sent_seconds)
            else:
                reads.errors += 1

    await asyncio.gather(*(reader(o) for o in officers[: size.readers]))
    return reads


# py-spy's rate in the first pages' phase (`--profile`): it lasts 50-200 ms.
FIRST_PAGES_PROFILE_RATE = 1000
PROFILER_LEAD_S = 2.0


async def _read_in_two_phases(
    ctx: Context,
    officers: list[MatrixUser],
    path_of: Callable[[MatrixUser], str],
    size: PubSize,
    label: str,
) -> tuple[PageReads, Any]:
    """Every reader's first page (all readers at once: a burst of new connections and
    first requests) in a phase of its own, counted apart (server CPU, transactions,
    new connections), then the later pages; (all pages, the two phases as one)."""
    profiler: Any = nullcontext()
    folder = ctx.options.get("profile")
    if folder:
        # Attached a moment before the burst (attaching costs the server CPU) and
        # kept out of the phase's own profiler; the idle long-polls add few samples.
        slug = "page" if label == "article page" else "reference"
        out = Path(folder) / f"{ctx.scenario}-{ctx.label}-{slug}-first-pages.txt"
        profiler = Profiler(
            ctx.server,
            out,
            FIRST_PAGES_PROFILE_RATE,
            bool(ctx.options.get("timeline")),
        )
    with profiler:
        if folder:
            await asyncio.sleep(PROFILER_LEAD_S)
        with ctx.phase(profile_rate=0) as first:
            reads = await _read_pages(officers, path_of, size, range(1))
    if isinstance(profiler, Profiler):
        for name, path in profiler.outputs.items():
            ctx.notes.append(
                f"profile of {label}'s first pages ({name}, {PROFILER_LEAD_S:.0f} s "
                f"before them included) {path}: "
                + profile_summary(path, rate=FIRST_PAGES_PROFILE_RATE)
            )
    firsts = max(len(reads.latencies), 1)
    connects = [c for c in reads.connects if c > 0]
    after = reads.after_connect(first=True)
    before = [w for w, n in zip(reads.sents, reads.ordinals, strict=True) if n == 0]
    with ctx.phase() as later:
        await _read_pages(officers, path_of, size, range(1, size.reads_each), reads)
    ctx.notes.append(
        f"{label}: each reader's first page (its own phase): server "
        f"{1000 * first.server_cpu / firsts:.2f} cpu-ms per first page, "
        f"{first.wall * 1000:.0f} ms for all {firsts}; {len(connects)} new "
        f"connections (the load generator's connection set-up p50 / max "
        f"{_ms(connects, 0.5)} / {_ms(connects, 1.0)} ms; the page after it p50 / max "
        f"{_ms(after, 0.5)} / {_ms(after, 1.0)} ms; the request sent after p50 / max "
        f"{_ms(before, 0.5)} / {_ms(before, 1.0)} ms)" + _db_all(first, firsts)
    )
    return reads, _Phases(first, later)


async def _first_pages_of(
    ctx: Context, officers: list[MatrixUser], page: str, size: PubSize, label: str
) -> None:
    """Every reader's first page of one more article, all at once; the second
    article's on the connections the pages above left open (in production nginx keeps
    up to 32 idle upstream connections per worker, so Synapse sees few new ones; the
    reader's own TLS connection ends at nginx), the third's on new ones (readers given
    a pool of their own): the same work for the server, so the two differ by the new
    connections alone."""
    with ctx.phase() as phase:
        reads = await _read_pages(officers, lambda _: page, size, range(1))
    made = sum(1 for c in reads.connects if c > 0)
    before = reads.sents
    ctx.add(
        Sample(
            f"article page: first page of {label}",
            latencies=reads.latencies,
            wall=phase.wall,
            errors=reads.errors,
            note=f"{made} new connections; the request sent after p50 / max "
            f"{_ms(before, 0.5)} / {_ms(before, 1.0)} ms; server "
            f"{1000 * phase.server_cpu / max(len(reads.latencies), 1):.2f} cpu-ms per "
            "page (the viewer's watermark tile is usually kept from the first article)"
            + _db_all(phase, len(reads.latencies)),
            comparable=False,
        )
    )
    ctx.add(
        Sample(
            f"article page: first page of {label}, from its request sent",
            latencies=reads.after_sent(first=True),
            comparable=False,
        )
    )


# Pages per reader in the phase that outlasts the opens' coalescing (opens.py: the first
# open waits 0.5 s for others, then the batch is written while readers go on).
SUSTAINED_PAGES = 60


async def _pages_while_opens_written(
    ctx: Context, officers: list[MatrixUser], page: str, size: PubSize
) -> None:
    """The readers go on reading the first article (all later pages) long enough that
    the opens queued meanwhile are written while pages are in flight: the 20 pages
    above may end before the first batch (0.5 s) on a quiet machine, and then its
    writing lands on no page."""
    with ctx.phase() as phase:
        reads = await _read_pages(
            officers, lambda _: page, size, range(1, 1 + SUSTAINED_PAGES)
        )
    ctx.add(
        _pages_sample(
            f"article page: {SUSTAINED_PAGES} later pages each, opens written meanwhile",
            reads,
            phase,
        )
    )


def _ms(seconds: list[float], q: float) -> str:
    return f"{1000 * percentile(seconds, q):.1f}" if seconds else "-"


@dataclass
class _Phases:
    """Two consecutive phases read as one (wall, server CPU, database counts)."""

    first: Any
    later: Any

    @property
    def wall(self) -> float:
        return float(self.first.wall + self.later.wall)

    @property
    def server_cpu(self) -> float:
        return float(self.first.server_cpu + self.later.server_cpu)

    @property
    def db(self) -> Any:
        if self.first.db is None or self.later.db is None:
            return None
        return self.first.db.plus(self.later.db)

    def note(self) -> str:
        return f"first pages {self.first.note()}; later pages {self.later.note()}"


def _db_all(phase: Any, pages: int) -> str:
    """Every transaction of a phase by name, per page, and its written statements."""
    db = phase.db
    if db is None:
        return ""
    named = ", ".join(
        f"{desc} {count:.0f}" for desc, count in sorted(db.txns.items()) if count
    )
    return (
        f"; {db.total_txns()} transactions ({db.total_txns() / max(pages, 1):.2f} per "
        f"page: {named or 'none'}), {db.writes()} written statements; reactor turns "
        f"over 25 / 50 ms: {db.slow_turns(0.025)} / {db.slow_turns(0.05)}; "
        f"GC {db.gc_text() or 'none'}"
    )


def _card_path(watch: Watch, officer: MatrixUser) -> str:
    event_id, _ = watch.cards[officer.user_id]
    room_id = watch.rooms[officer.user_id]
    return f"{CLIENT}/rooms/{quote(room_id)}/event/{quote(event_id)}"


def _add_pages(
    ctx: Context,
    size: PubSize,
    pages: tuple[PageReads, Any],
    floors: tuple[PageReads, Any],
) -> None:
    """The page's latencies beside the reference's (Synapse's own GET of an event,
    same readers, same pattern, same run): vanilla has no article page, so the
    ratio that says what the page itself adds is to that floor."""
    reference = "GET /rooms/{id}/event/{id} of the card"
    for (reads, phase), label in ((pages, "article page"), (floors, reference)):
        ctx.add(
            _pages_sample(f"{label}, {size.readers} concurrent readers", reads, phase)
        )
        for first, part in ((True, "first page"), (False, "later pages")):
            ctx.add(
                Sample(
                    f"{label}: each reader's {part}",
                    latencies=reads.of(first),
                    comparable=False,
                )
            )
        ctx.add(
            Sample(
                f"{label}: first page after the load generator's new connection",
                latencies=reads.after_connect(first=True),
                comparable=False,
                note="the first page's latency less the load generator's creation of "
                "its connection (one asyncio process opening 50 at once)",
            )
        )
        ctx.add(
            Sample(
                f"{label}: first page from its request sent",
                latencies=reads.after_sent(first=True),
                comparable=False,
                note="the first page's latency less the load generator's work before "
                "the request was on its socket (opening 50 connections one after "
                "another in one asyncio loop, then writing 50 requests): what the "
                "server and the way back take",
            )
        )
    ours, floor = pages[0].latencies, floors[0].latencies
    if ours and floor:
        ctx.notes.append(
            "article page vs Synapse's GET event (same readers, same run): p50 "
            f"{percentile(ours, 0.5) / percentile(floor, 0.5):.2f}x, p99 "
            f"{percentile(ours, 0.99) / percentile(floor, 0.99):.2f}x"
        )


def _per_officer(phase: Any, polls: int, officers: int) -> str:
    """Server CPU and /sync answers per officer in a fan-out phase (an officer's
    long-poll that timed out meanwhile counts too: at 30 s per poll, a phase of T s
    has about T / 30 of those per officer)."""
    n = max(officers, 1)
    return (
        f"server {1000 * phase.server_cpu / n:.1f} cpu-ms per officer, "
        f"{polls / n:.2f} /sync answers per officer"
    )


def _pages_sample(label: str, reads: Any, phase: Any) -> Sample:
    """A phase of page reads: latencies, server CPU per page, the slowest pages."""
    return Sample(
        label,
        latencies=reads.latencies,
        wall=phase.wall,
        errors=reads.errors,
        note=f"server {1000 * phase.server_cpu / max(len(reads.latencies), 1):.2f}"
        f" cpu-ms per page; slowest: {reads.slowest()}" + _db_note(phase),
        comparable=False,
    )


def _db_note(phase: Any) -> str:
    """The phase's transactions (the longest held) and garbage collections: a
    collection stops the process, every page in flight waits for it."""
    db = phase.db
    if db is None:
        return ""
    return (
        f"; {db.total_txns()} transactions, longest held: {db.top(4)}; "
        f"{db.writes()} written statements; reactor turns over 25 / 50 ms: "
        f"{db.slow_turns(0.025)} / {db.slow_turns(0.05)}; GC {db.gc_text()}"
    )


async def _idle(ctx: Context, loops: list[syncer.SyncLoop]) -> None:
    """What the long-polling population alone costs: the load generator's CPU (can
    one Python process hold it?) and the server's, nothing else happening."""
    before = sum(loop.polls for loop in loops)
    with ctx.phase() as idle:
        await asyncio.sleep(idle_seconds())
    polls = sum(loop.polls for loop in loops) - before
    wall = max(idle.wall, 1e-9)
    ctx.add(
        Sample(
            f"{len(loops)} idle long-polls: load generator CPU",
            value=round(100 * idle.loadgen_cpu / wall, 1),
            unit="% of one core",
            n=polls,
            throughput=polls / wall,
            note=f"{1000 * idle.loadgen_cpu / max(polls, 1):.2f} cpu-ms per poll "
            f"answered; server {100 * idle.server_cpu / wall:.0f}% of one core, "
            f"{1000 * idle.server_cpu / max(polls, 1):.1f} cpu-ms per poll",
            comparable=False,
        )
    )
    # Split by process: at 10,000 officers the monolith's one main process must answer
    # these and the fan-out, so its share of the idle cost decides what is left.
    ctx.notes.append(f"{len(loops)} idle long-polls: {idle.note()}")


async def run(ctx: Context) -> None:
    size = SIZES[ctx.size]
    count = int(ctx.options.get("recipients") or size.subscribers)
    # With --workers the server is set up as one process (servers.py, hand_over):
    # everything up to the long-polls' positions, then restarted as the workers.
    monolith_first = bool(getattr(ctx.server, "setting_up", False))
    async with Http(ctx.server.base_url) as http:
        clock = SetupClock(ctx)
        made = await directory_officers.department(http, ctx, "pa", count)
        clock.step("directory import and first logins")
        officers, department = made.users, made.department
        ctx.notes.append(made.note())
        began = time.perf_counter()
        account = await _admin(
            http,
            ctx,
            "POST",
            ACCOUNTS,
            {"name": "压测公众号", "subscribers": {"department_ids": [department]}},
        )
        base = f"{ACCOUNTS}/{account['id']}"

        async def filled() -> bool:
            detail = await _admin(http, ctx, "GET", base, None)
            return int(detail["subscriber_count"]) >= count

        deadline = time.perf_counter() + FILL_BUDGET_S
        while not await filled() and time.perf_counter() < deadline:
            await asyncio.sleep(0.5)
        fill_s = time.perf_counter() - began
        clock.step("rooms filled")
        ctx.add(
            Sample("rooms filled (setup)", value=round(fill_s, 1), unit="s", n=count)
        )
        second = await _admin(
            http, ctx, "POST", f"{base}/articles", {"title": "压测通报二", "body": BODY}
        )
        # Pushed with the second (its card's first article is the second): its first
        # pages come on new connections, the second's on the readers' kept ones.
        third = await _admin(
            http, ctx, "POST", f"{base}/articles", {"title": "压测通报三", "body": BODY}
        )
        article = await _admin(
            http, ctx, "POST", f"{base}/articles", {"title": "压测通报", "body": BODY}
        )
        watch = Watch()
        watch.article_id = int(article["id"])
        watch.warmup_id = int(second["id"])
        await ctx.settle()
        clock.step("articles made, settled")
        started = time.perf_counter()
        # The initial sync only fetches the position: one event per room.
        loops = await syncer.initial_all(officers, watch.seen, initial_limit=1)
        ctx.notes.append(
            f"initial syncs of {count} officers (timeline limit 1): "
            f"{time.perf_counter() - started:.0f} s"
        )
        clock.step("initial syncs")
        if monolith_first:
            # Same data directory and database as the workers: accounts, devices,
            # tokens, rooms and the officers' /sync positions all stay valid.
            took = await asyncio.to_thread(ctx.server.hand_over)
            await http.renew()
            clock.step("hand-over to the workers")
            ctx.notes.append(
                f"set up on one process, then restarted as {ctx.server.label} on the "
                f"same database in {took:.0f} s (stop, render, start)"
            )
        # After the hand-over: the device-list change caches to fill are the workers'.
        ctx.notes.append(await directory_officers.device_change_in_a_room(officers[0]))
        for loop in loops:
            loop.start()
        await ctx.settle(settle_cores(count))
        clock.step("long-polls started, settled")
        await _idle(ctx, loops)
        clock.step("idle phase (measured)")
        # The second article's push: a running server's caches (the rooms' state, the
        # officers' /sync) as the push meets them, freshly started workers' too; and
        # its page's first opens come after the readers' connections exist (below),
        # as behind nginx's upstream pool. Every officer has its card before the
        # publish (a late one would be counted in the publish's phase).
        await _admin(
            http,
            ctx,
            "POST",
            f"{base}/pushes",
            {"article_ids": [second["id"], third["id"]]},
        )
        everyone = {o.user_id for o in officers}
        warmed = await _until(lambda: everyone <= watch.warmed, DELIVERY_BUDGET_S)
        clock.step("warm-up push delivered")
        if not warmed:
            ctx.notes.append(
                f"warm-up push: {len(everyone - watch.warmed)} officers without its "
                f"card after {DELIVERY_BUDGET_S:.0f} s"
            )
        await ctx.settle(settle_cores(count))
        clock.step("settled")
        ctx.notes.append(clock.note())
        polls = sum(loop.polls for loop in loops)
        with ctx.phase() as publish:
            started = time.perf_counter()
            answer = await http.request(
                "POST",
                f"{base}/pushes",
                {"article_ids": [article["id"]]},
                token=ctx.admin_token,
                timeout=DELIVERY_BUDGET_S,
            )
            if not answer.ok:
                raise RuntimeError(f"push: {answer.error()}")
            push = answer.body
            await _until(lambda: everyone <= set(watch.cards), DELIVERY_BUDGET_S)
            publish_s = time.perf_counter() - started
        publish_polls = sum(loop.polls for loop in loops) - polls
        delivered = [at - started for _, at in watch.cards.values()]
        ctx.add(
            Sample(
                "publish: push answered",
                latencies=[answer.seconds],
                note=f"delivered {push['delivered']}",
            )
        )
        ctx.add(
            Sample(
                "publish: card in each /sync",
                latencies=delivered,
                wall=publish_s,
                errors=len(everyone - set(watch.cards))
                + watch.duplicate_cards
                + watch.repeated_cards,
                note=f"last of {count} after {publish_s:.1f} s; "
                f"{watch.duplicates_note('cards')}; "
                + _per_officer(publish, publish_polls, count)
                + _db_note(publish),
            )
        )
        page = f"{PAGES}/{article['id']}"
        # The readers open the page once the push's after-effects are over: every
        # officer's /sync answered with the card asks again at once (session 15's
        # packet captures: all 200 long-polls re-made in the 0.5 s before the first
        # pages, which shared the reactor with them: 1.4 cpu-ms per first page against
        # 0.4 for the third article's); a reader taps a card seconds after it came.
        await ctx.settle(settle_cores(count))
        reads, reading = await _read_in_two_phases(
            ctx, officers, lambda _: page, size, "article page"
        )
        await _pages_while_opens_written(ctx, officers, page, size)
        floors, floor = await _read_in_two_phases(
            ctx,
            officers,
            lambda o: _card_path(watch, o),
            size,
            "GET /rooms/{id}/event/{id}",
        )
        _add_pages(ctx, size, (reads, reading), (floors, floor))
        await _first_pages_of(
            ctx,
            officers,
            f"{PAGES}/{second['id']}",
            size,
            "a second article, kept connections",
        )
        async with Http(ctx.server.base_url) as fresh:
            await _first_pages_of(
                ctx,
                [MatrixUser(fresh, o.user_id, o.token) for o in officers],
                f"{PAGES}/{third['id']}",
                size,
                "a third article, new connections",
            )
        polls = sum(loop.polls for loop in loops)
        with ctx.phase() as withdraw:
            started = time.perf_counter()
            answer = await http.request(
                "POST",
                f"{base}/pushes/{push['id']}/withdraw",
                {},
                token=ctx.admin_token,
                timeout=DELIVERY_BUDGET_S,
            )
            if not answer.ok:
                raise RuntimeError(f"withdraw: {answer.error()}")
            await _until(
                lambda: set(watch.cards) <= set(watch.redacted), DELIVERY_BUDGET_S
            )
            withdraw_s = time.perf_counter() - started
        withdraw_polls = sum(loop.polls for loop in loops) - polls
        ctx.add(
            Sample(
                "withdraw: redaction in each /sync",
                latencies=[at - started for at in watch.redacted.values()],
                wall=withdraw_s,
                errors=len(set(watch.cards) - set(watch.redacted))
                + watch.duplicate_redactions
                + watch.repeated_redactions,
                note=f"last of {len(watch.cards)} after {withdraw_s:.1f} s; "
                f"{watch.duplicates_note('redactions')}; "
                + _per_officer(withdraw, withdraw_polls, len(watch.cards))
                + _db_note(withdraw),
            )
        )
        sync_error = syncer.first_sync_error(loops)
        stats = await syncer.stop_all(loops)
    ctx.notes.append(
        f"{count} subscribers in rooms of the configured room_size; rooms filled in "
        f"{fill_s:.1f} s (setup); publish: {publish.note()}; pages: {reading.note()}; "
        f"reference reads: {floor.note()}; "
        f"withdraw: {withdraw.note()}; sync: {stats}"
        + (f", first sync error: {sync_error}" if sync_error else "")
    )
