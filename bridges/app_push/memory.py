# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the bridge must remember across a restart: the nonces of the last clock-skew
window (a replayed request stays refused) and the answer to each msgid of the last
`msgid_window_seconds` (a sender's retry is answered again, not delivered twice).

Both live in memory and in a journal file (`state_file`, one JSON array per line,
appended and fsync'ed before the answer leaves): `["n", app, nonce, t]` and
`["m", app, msgid, t, answer]` with t in unix seconds. At start the journal is read
(a torn last line is skipped), what is still inside its window is kept and the file is
rewritten with only that; it is rewritten the same way whenever it has grown to twice
what is live. One bridge process owns the file.

The window of a delivered push starts when its answer is remembered: a crash between
the open API's answer and the journal write (one fsync) forgets it, and a retry then
delivers again (at least once, never silently dropped)."""

import json
import logging
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any, TextIO

logger = logging.getLogger(__name__)

MAX_NONCES_PER_APP = 100_000
MAX_ANSWERS = 200_000


class PushMemory:
    def __init__(
        self,
        path: Path | None,
        skew_seconds: int,
        msgid_seconds: int,
        now: float,
    ) -> None:
        self._path = path
        self._nonce_seconds = 2 * skew_seconds
        self._msgid_seconds = msgid_seconds
        self._nonces: dict[str, OrderedDict[str, float]] = {}
        self._answers: OrderedDict[tuple[str, str], tuple[float, dict[str, Any]]] = (
            OrderedDict()
        )
        self._file: TextIO | None = None
        self._lines = 0
        if path is not None:
            self._load(path, now)
            self._rewrite()

    # The journal.

    def _load(self, path: Path, now: float) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        for number, line in enumerate(text.splitlines(), start=1):
            try:
                entry = json.loads(line)
                kind, app_id, key, when = entry[0], entry[1], entry[2], float(entry[3])
            except (ValueError, IndexError, TypeError):
                logger.warning("%s line %d: not a journal entry, skipped", path, number)
                continue
            if kind == "n":
                self._add_nonce(app_id, key, when, now)
            elif kind == "m" and isinstance(entry[4], dict):
                self._add_answer(app_id, key, when, entry[4], now)

    def _live(self) -> list[list[Any]]:
        entries: list[list[Any]] = []
        for app_id, seen in self._nonces.items():
            entries += [["n", app_id, nonce, when] for nonce, when in seen.items()]
        entries += [
            ["m", app_id, msgid, when, answer]
            for (app_id, msgid), (when, answer) in self._answers.items()
        ]
        return entries

    def _rewrite(self) -> None:
        assert self._path is not None
        if self._file is not None:
            self._file.close()
        self._path.parent.mkdir(parents=True, exist_ok=True)
        entries = self._live()
        tmp = self._path.with_name(self._path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for entry in entries:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self._path)
        self._lines = len(entries)
        self._file = open(self._path, "a", encoding="utf-8")  # noqa: SIM115 - kept open

    def _append(self, entry: list[Any]) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._lines += 1
        live = sum(len(s) for s in self._nonces.values()) + len(self._answers)
        if self._lines > 2 * live + 1000:
            self._rewrite()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    # Nonces.

    def _add_nonce(self, app_id: str, nonce: str, when: float, now: float) -> bool:
        seen = self._nonces.setdefault(app_id, OrderedDict())
        while seen and (
            next(iter(seen.values())) < now - self._nonce_seconds
            or len(seen) >= MAX_NONCES_PER_APP
        ):
            seen.popitem(last=False)
        if nonce in seen or when < now - self._nonce_seconds:
            return False
        seen[nonce] = when
        return True

    def claim(self, app_id: str, nonce: str, now: float) -> bool:
        """True the first time a nonce of this app is seen within the window."""
        if not self._add_nonce(app_id, nonce, now, now):
            return False
        self._append(["n", app_id, nonce, now])
        return True

    # Answers to msgids.

    def _add_answer(
        self, app_id: str, msgid: str, when: float, answer: dict[str, Any], now: float
    ) -> None:
        self._forget_answers(now)
        if when >= now - self._msgid_seconds:
            self._answers[(app_id, msgid)] = (when, answer)
            self._answers.move_to_end((app_id, msgid))

    def _forget_answers(self, now: float) -> None:
        while self._answers:
            when, _answer = next(iter(self._answers.values()))
            if when >= now - self._msgid_seconds and len(self._answers) < MAX_ANSWERS:
                break
            self._answers.popitem(last=False)

    def answer(self, app_id: str, msgid: str, now: float) -> dict[str, Any] | None:
        """The answer given to this msgid of this app within the window, if any."""
        self._forget_answers(now)
        found = self._answers.get((app_id, msgid))
        return None if found is None else found[1]

    def remember(
        self, app_id: str, msgid: str, answer: dict[str, Any], now: float
    ) -> None:
        self._add_answer(app_id, msgid, now, answer, now)
        self._append(["m", app_id, msgid, now, answer])
