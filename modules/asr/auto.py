# SPDX-License-Identifier: AGPL-3.0-or-later
"""Automatic transcription (auto_transcribe): voice messages transcribed as they are
sent, so the text is there before anyone asks.

The event stream is read after a durable cursor (a StreamFollower: never on_new_event);
each batch queues the voice messages it finds (local officer, local media, not
burn-after-read) in jwwx_asr_pending and moves the cursor in the same transaction.

A dispatcher hands due messages to the engine, at most auto_concurrency at a time
(outside any transaction); a finished one makes room for the next. A message leaves the
queue only in the transaction that saves its transcript (or finds it needs none), so a
restart while messages are with the engine loses none: the new process finds them due
and sends them again. Which messages are with the engine is known only to this process
(the one running the module's jobs), so one is never sent twice at once. A message
the engine could not do waits auto_retry_seconds × 2^attempts (at most RETRY_MAX_MS)
and is tried again: never dropped, counted by jwwx_asr_pending_messages. While the
engine is thought down (it failed, or this process has not reached it yet), each retry
tick sends the oldest waiting message whatever its delay (one probe, none while others
are with the engine); the first transcript the engine makes again makes every waiting
message due at once, so a backlog goes as soon as the engine is back, not after its
doubled delays (up to an hour). A message
redacted meanwhile (recalled, burned) is dropped from the queue untouched; one an
officer had transcribed by asking (POST transcribe) is dropped without the engine."""

import logging
from typing import Any

from prometheus_client import Gauge
from synapse.module_api import ModuleApi

from modules.asr import storage
from modules.asr.config import AsrConfig
from modules.asr.engine import EngineError, transcribe
from modules.common.jobs import Jobs
from modules.common.mxc import local_media_id
from modules.common.storage import Txn
from modules.common.stream_follower import StreamFollower
from modules.common.synapse.errors import SynapseError
from modules.common.synapse.events import (
    persisted_stream_ordering,
    unredacted_event_ids,
)
from modules.common.synapse.media import read_local_media
from modules.common.synapse.tables import stream_events_after_txn

logger = logging.getLogger(__name__)

POLL_MS = 5000
BATCH = 500
RETRY_MAX_MS = 3_600_000
COUNT_EVERY_MS = 2000  # the pending gauge's count, at most this often while busy
BURN_FIELD = "cn.jwwx.burn_after_read"
PENDING = Gauge(
    "jwwx_asr_pending_messages",
    "Voice messages waiting for automatic transcription (the engine down or slow)",
)
IN_FLIGHT = Gauge(
    "jwwx_asr_auto_in_flight",
    "Voice messages with the engine now (at most auto_concurrency)",
)


def voice_of(event: dict[str, Any], server_name: str) -> tuple[str, str] | None:
    """(media_id, mimetype) of a local officer's voice message stored here."""
    content = event.get("content") or {}
    if (
        event.get("type") != "m.room.message"
        or content.get("msgtype") != "m.audio"
        or BURN_FIELD in content
        or not str(event.get("sender", "")).endswith(":" + server_name)
    ):
        return None
    url = content.get("url")
    media_id = local_media_id(url, server_name) if isinstance(url, str) else None
    if media_id is None:
        return None
    info = content.get("info")
    mimetype = info.get("mimetype") if isinstance(info, dict) else None
    return media_id, str(mimetype or "audio/ogg")


class AutoTranscriber(StreamFollower):
    def __init__(self, api: ModuleApi, config: AsrConfig, jobs: Jobs) -> None:
        super().__init__(api, jobs, "jwwx_asr_auto", POLL_MS)
        self._config = config
        self._limit = config.auto_concurrency
        self._in_flight: set[str] = set()  # event ids with the engine now
        self._dispatching = False
        self._due_again = False
        self._counted_ts = 0
        # The engine failed since its last answer (or none was seen yet): probe it.
        self._engine_suspect = True

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def enable(self) -> None:
        super().enable()
        # What waited in the queue when the process stopped is due now.
        self._jobs.start("jwwx_asr_auto_work", self.work)

    async def step(self) -> bool:
        upto = persisted_stream_ordering(self._api)
        if self._position is not None and upto <= self._position:
            return False
        now = int(self._api.get_current_time_msec())
        server_name = self._api.server_name

        def step_txn(txn: Txn) -> tuple[int, int]:
            after = storage.cursor_txn(txn, upto)
            if upto <= after:
                return after, 0
            batch = stream_events_after_txn(txn, after, upto, BATCH)
            found = []
            for item in batch:
                voice = voice_of(item.event, server_name)
                if voice is not None:
                    found.append((item.event_id, item.room_id, *voice))
            position = batch[-1].stream_ordering if len(batch) >= BATCH else upto
            storage.queue_txn(txn, position, found, now)
            return position, len(found)

        position, queued = await self._api.run_db_interaction(
            "jwwx_asr_auto_read", step_txn
        )
        self._position = position
        if queued:
            self._jobs.start("jwwx_asr_auto_work", self.work)
        return position < upto

    async def work(self) -> None:
        """Hand due messages to the engine until auto_concurrency are with it (or
        none is due); each one finished calls this again for the next."""
        if self._dispatching:
            self._due_again = True  # read again once the running pass ends
            return
        self._dispatching = True
        try:
            while True:
                self._due_again = False
                free = self._limit - len(self._in_flight)
                if free <= 0:
                    break
                now = int(self._api.get_current_time_msec())
                # Those with the engine are still in the queue: read past them.
                due = await self._api.run_db_interaction(
                    "jwwx_asr_auto_due",
                    storage.due_txn,
                    now,
                    free + len(self._in_flight),
                )
                fresh = [item for item in due if item[0] not in self._in_flight]
                for item in fresh[:free]:
                    self._in_flight.add(item[0])
                    self._api.run_as_background_process(
                        "jwwx_asr_auto_one", self._run, item
                    )
                IN_FLIGHT.set(len(self._in_flight))
                if len(fresh) < free and not self._due_again:
                    break  # nothing more is due now
            now = int(self._api.get_current_time_msec())
            if not self._in_flight or now - self._counted_ts >= COUNT_EVERY_MS:
                self._counted_ts = now
                PENDING.set(
                    await self._api.run_db_interaction(
                        "jwwx_asr_auto_count", storage.pending_count_txn
                    )
                )
        finally:
            self._dispatching = False

    async def probe(self) -> None:
        """The retry tick: what is due, and, while the engine is thought down, the
        oldest waiting message even if its delay has not passed."""
        await self.work()
        if not self._engine_suspect or self._in_flight:
            return
        oldest = await self._api.run_db_interaction(
            "jwwx_asr_auto_probe", storage.due_txn, storage.NEVER, 1
        )
        for item in oldest:
            if not self._in_flight:
                self._in_flight.add(item[0])
                self._api.run_as_background_process(
                    "jwwx_asr_auto_one", self._run, item
                )

    async def _run(self, item: tuple[str, str, str, str, int, bool]) -> None:
        event_id = item[0]
        failed = False
        try:
            await self._one(*item)
        except Exception:
            # A database error or a bug: the message stays queued; it is tried again
            # at the next retry tick, not at once by the next finished one.
            failed = True
            logger.exception("voice %s: automatic transcription failed", event_id)
            await self._later(event_id, item[4], "failed")
        finally:
            self._in_flight.discard(event_id)
            IN_FLIGHT.set(len(self._in_flight))
        if not failed:
            await self.work()

    async def _later(self, event_id: str, attempts: int, why: str) -> None:
        """Try the message again after a delay growing with its attempts."""
        first = int(self._config.auto_retry_seconds * 1000)
        delay = min(RETRY_MAX_MS, first * 2**attempts)
        logger.warning("voice %s: %s; again in %d s", event_id, why, delay // 1000)
        now = int(self._api.get_current_time_msec())
        try:
            await self._api.run_db_interaction(
                "jwwx_asr_auto_retry",
                storage.retry_txn,
                event_id,
                attempts + 1,
                now + delay,
            )
        except Exception:
            logger.exception("voice %s: retry not recorded", event_id)

    async def _one(
        self,
        event_id: str,
        room_id: str,
        media_id: str,
        mimetype: str,
        attempts: int,
        transcribed: bool,
    ) -> None:
        engine = self._config.engine
        assert engine is not None  # parse_config requires one
        if transcribed or event_id not in await unredacted_event_ids(
            self._api, [event_id]
        ):
            await self._api.run_db_interaction(
                "jwwx_asr_auto_done", storage.done_txn, event_id
            )
            return
        try:
            data = await read_local_media(self._api, media_id)
            if len(data) > self._config.max_audio_bytes:
                raise ValueError("larger than max_audio_bytes")
            text = await transcribe(engine, data, mimetype, f"{media_id}.audio")
        except (ValueError, SynapseError) as e:  # too large, media gone: never to be
            if isinstance(e, SynapseError) and e.code != 404:
                raise
            logger.info("voice %s not transcribed: %s", event_id, e)
            await self._api.run_db_interaction(
                "jwwx_asr_auto_done", storage.done_txn, event_id
            )
            return
        except EngineError as e:
            self._engine_suspect = True
            await self._later(event_id, attempts, str(e))
            return
        now = int(self._api.get_current_time_msec())
        was_suspect, self._engine_suspect = self._engine_suspect, False

        def save_txn(txn: Txn) -> None:
            storage.put_txn(txn, event_id, room_id, text, engine.url, now)
            storage.done_txn(txn, event_id)
            if was_suspect:  # the engine is back: what waits for it is due now
                storage.all_due_txn(txn, now)

        await self._api.run_db_interaction("jwwx_asr_auto_save", save_txn)
