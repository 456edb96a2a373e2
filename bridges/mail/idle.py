# SPDX-License-Identifier: AGPL-3.0-or-later
"""IMAP IDLE (RFC 2177): one session kept open per bound mailbox, so that the bridge
hears of a new mail the moment the server has it instead of at the next poll.

A session logs in (STARTTLS or TLS as `imap.security` says), asks CAPABILITY, EXAMINEs
the mailbox (read-only: nothing is marked) and sends IDLE; the server then tells of
new mail with an untagged `* n EXISTS`, which calls `on_new(user_id)` (the bridge then
checks the mailbox as a poll would: a header fetch in a session of its own). The IDLE
is ended (DONE) and sent again every `idle_renew_seconds` (servers drop an IDLE after
30 minutes; an answer missing for `timeout_seconds` ends the connection, which is how a
connection that died silently is found). A lost connection is opened again after 2, 4
… seconds (at most poll_interval_seconds); meanwhile the mailbox is polled. A login
the server refuses ends the session for good (the poll reports it; binding again
starts a new one); a server without IDLE ends every session (polling only).

Nothing of a mail passes through here: the session reads only the server's counts.
Twisted's own protocol, not the standard library's imaplib: thousands of open sessions
in one process, not a thread each."""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer, endpoints, protocol, ssl, task
from twisted.protocols.basic import LineReceiver

from bridges.mail.config import ServerConfig

logger = logging.getLogger(__name__)

_EXISTS = re.compile(rb"^\* (\d+) EXISTS\b", re.IGNORECASE)
_LITERAL = re.compile(rb"\{(\d+)\+?\}$")
_CAPABILITY = re.compile(rb"CAPABILITY ([^\]]*)", re.IGNORECASE)
BACKOFF_FIRST_S = 2.0


class IdleSessionError(Exception):
    """kind: "auth" (login refused), "no_idle" (the server has no IDLE),
    "error" (anything else: the session is opened again later)."""

    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind
        super().__init__(f"{kind}: {detail}")


def quoted(text: str) -> bytes:
    """An IMAP quoted string (as imaplib sends a login)."""
    if any(c in text for c in "\r\n\0"):
        raise IdleSessionError("auth", "a login or password with a line break")
    return b'"' + text.replace("\\", "\\\\").replace('"', '\\"').encode() + b'"'


class ImapIdleProtocol(LineReceiver):
    """The client side of one session: tagged commands answered by Deferreds,
    untagged EXISTS reported, literals in answers skipped (none is asked for)."""

    delimiter = b"\r\n"
    MAX_LENGTH = 65536

    def __init__(self, on_exists: Callable[[int], None]) -> None:
        self.on_exists = on_exists
        self.greeting: defer.Deferred[bytes] = defer.Deferred()
        self.capabilities: set[bytes] = set()
        self.lost: defer.Deferred[None] = defer.Deferred()
        self._tags = 0
        self._pending: dict[bytes, defer.Deferred[tuple[bytes, bytes]]] = {}
        self._continuation: defer.Deferred[bytes] | None = None
        self._skip = 0

    def lineReceived(self, line: bytes) -> None:
        literal = _LITERAL.search(line)
        if literal is not None:
            self._skip = int(literal.group(1))
            self.setRawMode()
        if not self.greeting.called:
            self.greeting.callback(line)
            return
        if line.startswith(b"+"):
            continued, self._continuation = self._continuation, None
            if continued is not None:
                continued.callback(line)
            return
        if line.startswith(b"* "):
            self._untagged(line)
            return
        tag, _, rest = line.partition(b" ")
        status, _, text = rest.partition(b" ")
        # A command answered instead of continued (e.g. IDLE refused).
        going_on, self._continuation = self._continuation, None
        if going_on is not None:
            going_on.errback(IdleSessionError("error", f"refused: {rest[:80]!r}"))
        waiter = self._pending.pop(tag, None)
        if waiter is not None:
            waiter.callback((status.upper(), text))

    def _untagged(self, line: bytes) -> None:
        exists = _EXISTS.match(line)
        if exists is not None:
            self.on_exists(int(exists.group(1)))
            return
        found = _CAPABILITY.search(line)
        if found is not None:
            self.capabilities = {c.upper() for c in found.group(1).split()}

    def rawDataReceived(self, data: bytes) -> None:
        if len(data) <= self._skip:
            self._skip -= len(data)
            return
        rest, self._skip = data[self._skip :], 0
        self.setLineMode(rest)

    def lineLengthExceeded(self, line: bytes) -> None:
        self.close()

    def connectionLost(self, reason: Any = protocol.connectionDone) -> None:
        failure = IdleSessionError("error", f"connection lost: {reason.value}")
        waiters = list(self._pending.values())
        if self._continuation is not None:
            waiters.append(self._continuation)  # type: ignore[arg-type]
        self._pending, self._continuation = {}, None
        for waiter in waiters:
            waiter.errback(failure)
        if not self.greeting.called:
            self.greeting.errback(failure)
        self.lost.callback(None)

    def send(self, command: bytes) -> "defer.Deferred[tuple[bytes, bytes]]":
        """Send `command` under a new tag: its (status, text) when answered."""
        self._tags += 1
        tag = b"j%d" % self._tags
        waiter: defer.Deferred[tuple[bytes, bytes]] = defer.Deferred()
        self._pending[tag] = waiter
        self.sendLine(tag + b" " + command)
        return waiter

    def expect_continuation(self) -> "defer.Deferred[bytes]":
        self._continuation = defer.Deferred()
        return self._continuation

    def close(self) -> None:
        transport: Any = self.transport
        if transport is not None:
            transport.loseConnection()


class _Factory(protocol.ClientFactory):
    def __init__(self, on_exists: Callable[[int], None]) -> None:
        self.on_exists = on_exists

    def buildProtocol(self, addr: Any) -> ImapIdleProtocol:
        built = ImapIdleProtocol(self.on_exists)
        built.factory = self
        return built


@dataclass
class Login:
    login: str
    password: str


class IdleSession:
    """Keeps one mailbox's IDLE open until stop()."""

    def __init__(self, watcher: "IdleWatcher", user_id: str, login: Login) -> None:
        self.watcher = watcher
        self.user_id = user_id
        self.login = login
        self.idling = False
        self.ended: str | None = None  # "auth", "no_idle", "stopped"
        self._protocol: ImapIdleProtocol | None = None
        self._sleep: defer.Deferred[None] | None = None
        self._renew: Any = None

    @property
    def stopped(self) -> bool:
        return self.ended is not None

    def start(self) -> None:
        defer.ensureDeferred(self._run())

    def stop(self) -> None:
        self.ended = "stopped"
        if self._protocol is not None:
            self._protocol.close()
        if self._sleep is not None:
            self._sleep.cancel()

    async def _run(self) -> None:
        watcher = self.watcher
        failures = 0
        while self.ended is None:
            try:
                await self._session()
                failures = 0  # it idled, then the connection went
            except IdleSessionError as e:
                if e.kind != "error":
                    self.ended = e.kind
                    logger.warning("IMAP IDLE of %s ended: %s", self.user_id, e)
                    watcher.ended(self, e.kind)
                    return
                logger.info("IMAP IDLE of %s: %s", self.user_id, e)
            except Exception:
                logger.exception("IMAP IDLE of %s", self.user_id)
            if self.stopped:
                return
            failures += 1
            delay = min(watcher.backoff_max, BACKOFF_FIRST_S * 2 ** (failures - 1))
            self._sleep = task.deferLater(watcher.clock, delay, lambda: None)
            try:
                await self._sleep
            except defer.CancelledError:
                return
            finally:
                self._sleep = None

    async def _session(self) -> None:
        watcher = self.watcher
        server = watcher.server
        await watcher.gate.acquire()  # logins at once are bounded
        try:
            client = await watcher.connect(self._exists)
            self._protocol = client
            if self.ended is not None:
                client.close()
                return
            await self._open(client, server)
        except BaseException:
            if self._protocol is not None:
                self._protocol.close()
            raise
        finally:
            watcher.gate.release()
        try:
            watcher.set_idling(self, True)
            watcher.ready(self)
            while self.ended is None:
                await self._idle(client)
        finally:
            watcher.set_idling(self, False)
            if self._renew is not None and self._renew.active():
                self._renew.cancel()
            client.close()
            self._protocol = None

    async def _answer(
        self, waiter: "defer.Deferred[tuple[bytes, bytes]]", what: str
    ) -> bytes:
        status, text = await self._timed(waiter)
        if status != b"OK":
            kind = "auth" if what == "LOGIN" else "error"
            detail = text.decode("utf-8", "replace")[:200]
            if what == "LOGIN":
                detail = "login refused"  # the server's words may quote the login only
            raise IdleSessionError(kind, f"{what}: {status.decode()} {detail}")
        return text

    async def _timed(self, waiter: "defer.Deferred[Any]") -> Any:
        watcher = self.watcher
        waiter.addTimeout(watcher.server.timeout_seconds, watcher.clock)
        try:
            return await waiter
        except defer.TimeoutError as e:
            raise IdleSessionError("error", "no answer in time") from e

    async def _open(self, client: ImapIdleProtocol, server: ServerConfig) -> None:
        greeting = await self._timed(client.greeting)
        if not greeting.upper().startswith((b"* OK", b"* PREAUTH")):
            raise IdleSessionError("error", f"greeting {greeting[:80]!r}")
        if server.security == "starttls":
            await self._answer(client.send(b"STARTTLS"), "STARTTLS")
            assert client.transport is not None
            client.transport.startTLS(ssl.optionsForClientTLS(server.host))
        if not greeting.upper().startswith(b"* PREAUTH"):
            await self._answer(
                client.send(
                    b"LOGIN "
                    + quoted(self.login.login)
                    + b" "
                    + quoted(self.login.password)
                ),
                "LOGIN",
            )
        await self._answer(client.send(b"CAPABILITY"), "CAPABILITY")
        if b"IDLE" not in client.capabilities:
            raise IdleSessionError("no_idle", f"{server.host} does not offer IDLE")
        await self._answer(client.send(b"EXAMINE " + quoted(server.mailbox)), "EXAMINE")

    async def _idle(self, client: ImapIdleProtocol) -> None:
        """One IDLE, ended by DONE after idle_renew_seconds (or by stop())."""
        watcher = self.watcher
        go_on = client.expect_continuation()
        done = client.send(b"IDLE")
        await self._timed(go_on)  # refused: IdleSessionError from the tagged answer

        def renew() -> None:
            client.sendLine(b"DONE")
            # No answer to DONE in time: the connection is dead.
            done.addTimeout(watcher.server.timeout_seconds, watcher.clock)

        self._renew = watcher.clock.callLater(watcher.renew_seconds, renew)
        try:
            status, text = await done
        except defer.TimeoutError as e:
            raise IdleSessionError("error", "no answer to DONE") from e
        finally:
            if self._renew.active():
                self._renew.cancel()
        if status != b"OK":
            raise IdleSessionError("error", f"IDLE ended: {status.decode()}")

    def _exists(self, count: int) -> None:
        self.watcher.exists(self, count)


class IdleWatcher:
    """The sessions of every watched mailbox, by Matrix user id."""

    def __init__(
        self,
        server: ServerConfig,
        renew_seconds: float,
        max_sessions: int,
        login_concurrency: int,
        backoff_max: float,
        on_new: Callable[[str], None],
        clock: Any = None,
    ) -> None:
        if clock is None:
            from twisted.internet import reactor as clock
        self.server = server
        self.renew_seconds = renew_seconds
        self.max_sessions = max_sessions
        self.backoff_max = backoff_max
        self.clock = clock
        self.gate = defer.DeferredSemaphore(login_concurrency)
        self.on_new = on_new
        self.unsupported = False  # the server said it has no IDLE
        self.sessions: dict[str, IdleSession] = {}
        self.on_idling: Callable[[int], None] = lambda count: None
        self.on_wakeup: Callable[[], None] = lambda: None
        self.idling_count = 0

    def connect(
        self, on_exists: Callable[[int], None]
    ) -> "defer.Deferred[ImapIdleProtocol]":
        server = self.server
        endpoint: Any = endpoints.HostnameEndpoint(
            self.clock, server.host, server.port, timeout=server.timeout_seconds
        )
        if server.security == "ssl":
            endpoint = endpoints.wrapClientTLS(
                ssl.optionsForClientTLS(server.host), endpoint
            )
        return endpoint.connect(_Factory(on_exists))

    def idling(self, user_id: str) -> bool:
        session = self.sessions.get(user_id)
        return session is not None and session.idling

    def watch(self, user_id: str, login: str, password: str) -> bool:
        """Keep an IDLE session for this mailbox (a new one when the login changed);
        False when it is polled instead (no IDLE on the server, too many sessions, the
        login refused)."""
        if self.unsupported:
            return False
        wanted = Login(login, password)
        old = self.sessions.get(user_id)
        if old is not None:
            if old.login == wanted and old.ended is None:
                return True
            if old.login == wanted and old.ended == "auth":
                return False  # refused with this password: binding again restarts
            old.stop()
            del self.sessions[user_id]
        if len(self.sessions) >= self.max_sessions:
            return False
        session = IdleSession(self, user_id, wanted)
        self.sessions[user_id] = session
        session.start()
        return True

    def unwatch(self, user_id: str) -> None:
        session = self.sessions.pop(user_id, None)
        if session is not None:
            session.stop()

    def sync(self, accounts: dict[str, tuple[str, str]]) -> None:
        """Sessions for exactly these mailboxes ({user_id: (login, password)})."""
        for user_id in [u for u in self.sessions if u not in accounts]:
            self.unwatch(user_id)
        for user_id, (login, password) in accounts.items():
            self.watch(user_id, login, password)

    def stop_all(self) -> None:
        for user_id in list(self.sessions):
            self.unwatch(user_id)

    # From the sessions.

    def ready(self, session: IdleSession) -> None:
        """Idling (again): what came while nobody listened is checked now."""
        self.on_new(session.user_id)

    def exists(self, session: IdleSession, count: int) -> None:
        if session.idling:
            self.on_wakeup()
            self.on_new(session.user_id)

    def ended(self, session: IdleSession, kind: str) -> None:
        if kind == "no_idle" and not self.unsupported:
            logger.warning(
                "IMAP server %s has no IDLE: every mailbox is polled",
                self.server.host,
            )
            self.unsupported = True
            self.stop_all()

    def set_idling(self, session: IdleSession, idling: bool) -> None:
        if session.idling != idling:
            session.idling = idling
            self.idling_count += 1 if idling else -1
            self.on_idling(self.idling_count)
