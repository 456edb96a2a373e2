# SPDX-License-Identifier: AGPL-3.0-or-later
"""The AI assistant's overhead on top of the model (issue 24): ours only, a standalone
benchmark like group_receipts.py.

    python -m benchmarks.assistant_overhead [--officers 4] [--questions 5] \
        [--group-questions 2] [--think-ms 300] [--piece-ms 40] [--answer-chars 60] \
        [--edit-interval 1.0] [--engine sqlite|postgres] [--json OUT.json]

A real homeserver (the launcher, SQLite or PostgreSQL) starts the assistant bridge
itself (`jwwx_bridges.assistant` in conf.d/); the model is the tests' stand-in
(tests/bridges/assistant/standin.py: the OpenAI-compatible streaming protocol), which
waits `--think-ms` before its first chunk and `--piece-ms` between pieces of four
characters, and records how long each request took from its arrival to its last byte.
Each officer has a chat of two with the bot and asks his questions one after the
other, all officers at once; then in a group of all of them each officer in turn asks
with an @mention. Round trip: from just before the officer's send to the /sync answer
carrying the bot's final edit (m.replace) of the answer, seen by that officer's own
long-poll; ours' overhead is that minus the model's own time for the same question.
"""

import argparse
import asyncio
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from benchmarks.aclient import CLIENT, Http, MatrixUser
from benchmarks.engine_overhead import (
    Cpu,
    bridge_pid,
    cpu_rows,
    end,
    engine_arguments,
    machine,
    overhead_rows,
    run_against_engine,
)
from benchmarks.report import Report, Row
from benchmarks.syncer import start_all, stop_all
from bridges.assistant.bot import THINKING
from tests.bridges.assistant.standin import KEY, Model
from tests.harness.server import TestServer, free_port

BOT = "jwwx_assistant"
NAME = "警务助手"
WAIT_S = 120.0


@dataclass
class Question:
    asker: str
    tag: str
    sent: float = 0.0
    event_id: str = ""
    done: asyncio.Event = field(default_factory=asyncio.Event)
    finished: float = 0.0
    text: str = ""


class Tracker:
    """Follows the officers' /sync: the bot's reply names the question; its final
    edit (not the placeholder, not a partial text ending in " …") ends the round trip
    for the officer who asked."""

    def __init__(self, bot_id: str) -> None:
        self.bot_id = bot_id
        self.by_event: dict[str, Question] = {}
        self.answers: dict[str, Question] = {}  # answer event id -> question

    def on_event(
        self, recipient: str, _room: str, event: dict[str, Any], arrived: float
    ) -> None:
        if event.get("sender") != self.bot_id:
            return
        content = event.get("content") or {}
        relates = content.get("m.relates_to") or {}
        replied = (relates.get("m.in_reply_to") or {}).get("event_id")
        if replied in self.by_event:
            self.answers[str(event["event_id"])] = self.by_event[replied]
            return
        question = self.answers.get(str(relates.get("event_id")))
        if question is None or recipient != question.asker or question.done.is_set():
            return
        if relates.get("rel_type") != "m.replace":
            return
        body = str((content.get("m.new_content") or {}).get("body", ""))
        if body != THINKING and not body.endswith(" …"):
            question.finished, question.text = arrived, body
            question.done.set()


def _configure(folder: Path, model_port: int, bridge_port: int, args: Any) -> Any:
    def configure(server: TestServer) -> None:
        (folder / "model.key").write_text(KEY)
        config = {
            "server_name": server.server_name,
            "homeserver_url": server.base_url,
            "bridge_url": f"http://127.0.0.1:{bridge_port}",
            "as_token_file": "as_token",
            "hs_token_file": "hs_token",
            "display_name": NAME,
            "questions_per_minute": 600,
            "edit_interval_seconds": args.edit_interval,
            "memory_turns": 4,
            "engine": {
                "base_url": f"http://127.0.0.1:{model_port}/v1",
                "model": "police-llm",
                "api_key_file": "model.key",
                "answer_timeout_seconds": WAIT_S,
            },
        }
        (folder / "assistant.yaml").write_text(
            yaml.safe_dump(config, allow_unicode=True), encoding="utf-8"
        )
        (server.data_dir / "conf.d" / "bridges.yaml").write_text(
            yaml.safe_dump(
                {
                    "jwwx_bridges": {
                        "assistant": {"config": str(folder / "assistant.yaml")}
                    }
                }
            )
        )

    return configure


async def _wait_joined(user: MatrixUser, room: str, who: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        answer = await user.call("GET", f"{CLIENT}/rooms/{quote(room)}/joined_members")
        if answer.ok and who in answer.body["joined"]:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{who} did not join {room}")


async def _ask(
    user: MatrixUser,
    room: str,
    tracker: Tracker,
    tag: str,
    filler: str,
    mention: bool,
) -> Question:
    tag = f"【{tag}】"  # brackets: D0-1 is not found inside D0-10
    question = Question(user.user_id, tag)
    extra: dict[str, Any] = {}
    text = f"请回答{tag}{filler}"
    if mention:
        text = f"@{NAME} {text}"
        extra["m.mentions"] = {"user_ids": [tracker.bot_id]}
    question.sent = time.perf_counter()
    answer = await user.send_text(room, text, extra)
    if not answer.ok:
        raise RuntimeError(f"question {tag}: {answer.error()}")
    question.event_id = str(answer.body["event_id"])
    tracker.by_event[question.event_id] = question
    await asyncio.wait_for(question.done.wait(), WAIT_S)
    return question


def _engine_seconds(model: Model, tag: str) -> float:
    """The model's own time for the request whose question carries `tag`."""
    for body, seconds in reversed(model.served):
        if tag in str(body["messages"][-1].get("content", "")):
            return seconds
    raise RuntimeError(f"the model never saw {tag}")


async def _measure(server: TestServer, model: Model, cpu: Cpu, args: Any) -> Report:
    report = Report(
        "assistant_overhead",
        {
            "engine": args.engine,
            "officers": args.officers,
            "questions per officer (chat of two)": args.questions,
            "group questions per officer": args.group_questions,
            "model think ms / ms per 4-character piece": f"{args.think_ms} / {args.piece_ms}",
            "answer characters": args.answer_chars,
            "bridge edit_interval_seconds": args.edit_interval,
        },
        machine(),
    )
    names = [f"officer{i}" for i in range(args.officers)]
    accounts = [server.register(n) for n in names]
    bot_id = f"@{BOT}:{server.server_name}"
    tracker = Tracker(bot_id)
    filler = "值班安排请按时到岗" * (max(args.answer_chars - 16, 0) // 9 + 1)
    filler = filler[: max(args.answer_chars - 16, 1)]
    async with Http(server.base_url) as http:
        users = [MatrixUser(http, uid, token) for uid, token in accounts]
        rooms = []
        for user in users:
            room = await user.create_room(
                preset="trusted_private_chat", is_direct=True, invite=[bot_id]
            )
            rooms.append(room)
        group = await users[0].create_room(
            preset="private_chat",
            name="值班群",
            invite=[u.user_id for u in users[1:]] + [bot_id],
        )
        for user in users[1:]:
            await user.join(group)
        for user, room in [*zip(users, rooms, strict=True), (users[0], group)]:
            await _wait_joined(user, room, bot_id)
        loops = await start_all(users, tracker.on_event)
        # One question each to warm up (connections, caches, the bot's first request).
        await asyncio.gather(
            *(
                _ask(u, r, tracker, f"W{i}", filler, False)
                for i, (u, r) in enumerate(zip(users, rooms, strict=True))
            )
        )

        async def officer(i: int) -> list[Question]:
            return [
                await _ask(users[i], rooms[i], tracker, f"D{i}-{k}", filler, False)
                for k in range(args.questions)
            ]

        cpu0, started = cpu.now(), time.perf_counter()
        direct = [
            q
            for qs in await asyncio.gather(*map(officer, range(len(users))))
            for q in qs
        ]
        direct_wall = time.perf_counter() - started
        group_qs = []
        group_started = time.perf_counter()
        for k in range(args.group_questions):
            for i, user in enumerate(users):
                group_qs.append(
                    await _ask(user, group, tracker, f"G{i}-{k}", filler, True)
                )
        group_wall = time.perf_counter() - group_started
        cpu1 = cpu.now()
        errors = await stop_all(loops)
    for scenario, questions, wall in (
        ("chat of two", direct, direct_wall),
        ("group @mention", group_qs, group_wall),
    ):
        if not questions:
            continue
        incomplete = [q.tag for q in questions if q.tag not in q.text]
        if incomplete:
            raise RuntimeError(f"answers without their question: {incomplete}")
        overhead_rows(
            report,
            scenario,
            [q.finished - q.sent for q in questions],
            [_engine_seconds(model, q.tag) for q in questions],
            wall,
            "send → final edit in the asker's /sync",
        )
    count = len(direct) + len(group_qs)
    cpu_rows(report, "all", cpu1[0] - cpu0[0], cpu1[1] - cpu0[1], count, "question")
    report.add(
        Row(
            "all",
            "questions answered",
            n=count,
            note=", ".join(f"{k} {v}" for k, v in errors.items()),
        )
    )
    end(report)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=4)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--group-questions", type=int, default=2)
    parser.add_argument("--piece-ms", type=float, default=40)
    parser.add_argument("--answer-chars", type=int, default=60)
    parser.add_argument("--edit-interval", type=float, default=1.0)
    engine_arguments(parser, think_ms=300)
    args = parser.parse_args()
    model = Model(free_port())
    model.think_seconds = args.think_ms / 1000
    model.piece_seconds = args.piece_ms / 1000
    model.start()
    folder = Path(tempfile.mkdtemp(prefix="jwwx-bench-assistant-"))
    bridge_port = free_port()
    server = TestServer(
        args.engine, configure=_configure(folder, model.port, bridge_port, args)
    )

    def measure() -> Report:
        pid = bridge_pid(server, "assistant", f"http://127.0.0.1:{bridge_port}")
        return asyncio.run(_measure(server, model, Cpu(server, pid), args))

    run_against_engine(
        server,
        measure,
        args.json,
        model.stop,
        lambda: shutil.rmtree(folder, ignore_errors=True),
    )


if __name__ == "__main__":
    main()
