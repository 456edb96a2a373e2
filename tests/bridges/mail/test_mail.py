# SPDX-License-Identifier: AGPL-3.0-or-later
"""The mail bridge end to end: started by the launcher (`jwwx_bridges.mail`) beside a
real homeserver, against a stand-in of the bureau's mail system that speaks real IMAP
(twisted.mail's IMAP4Server) and SMTP (aiosmtpd), in a process of its own.

An officer binds his mailbox through the mail API (a wrong password is refused and
nothing kept); the bridge keeps an IMAP IDLE session on it, and a new mail brings a
reminder into his chat with the bot as the server tells of it over IDLE (mail already
there does not; a server without IDLE is polled instead); he lists and reads it live, replies through the API and by a chat
command (the reply arrives, threaded and submitted with his login). Bad input is a 400
before anything else. Afterwards no file of the homeserver or the bridge holds the
mail's body or his password (sealed at rest), and the logs do not either.

SQLite only: the bridge keeps its few rows in a file of its own, never in the
homeserver's database."""

import atexit
import email
import email.policy
import imaplib
import re
import smtplib
import subprocess
import sys
import tempfile
import time
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from twisted.internet import threads

import yaml

from tests.harness.case import SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer, free_port
from tests.modules.openapi.helpers import sleep

ROOT = Path(__file__).resolve().parents[3]
BOT = "jwwx_mail"
SLOW = 120.0
OFFICER = "zhangwei@gat.example.cn"
PASSWORD = "Mail-Pass-7d1f3c"
CHIEF = "chief@gat.example.cn"
CHIEF_PASSWORD = "Chief-Pass-9a2b"
NO_IDLE = "noidle.liqiang@gat.example.cn"  # the stand-in offers him no IDLE
NO_IDLE_PASSWORD = "Mail-Pass-0c4e"
FILES = "files.wangfang@gat.example.cn"  # the attachments' mailbox
FILES_PASSWORD = "Mail-Pass-3b8d"
MAX_ATTACHMENT = 16384  # the bridge's max_attachment_bytes here
BODY_MARK = "正文标记BODY-5e8a1c"
ATTACHMENT_MARK = "ATTACHMENT-MARK-93b1d7"
API = "/_jwwx/mail/v1"


def _deliver(port: int, to: str, subject: str, text: str) -> None:
    """A mail to `to` through the stand-in's SMTP (the bureau's MTA)."""
    mail = EmailMessage()
    mail["From"] = f"指挥中心 <{CHIEF}>"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{time.monotonic_ns()}@gat.example.cn>"
    mail.set_content(text)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.send_message(mail)


def _deliver_attachments(port: int, to: str, files: list[tuple[str, bytes]]) -> None:
    """A mail with a text and an HTML body (multipart/alternative) and these files."""
    mail = EmailMessage()
    mail["From"] = f"指挥中心 <{CHIEF}>"
    mail["To"] = to
    mail["Subject"] = "附件通报"
    mail.set_content("见附件")
    mail.add_alternative("<p>见附件</p>", subtype="html")
    for name, data in files:
        kind = "pdf" if name.endswith(".pdf") else "octet-stream"
        mail.add_attachment(data, maintype="application", subtype=kind, filename=name)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.send_message(mail)


def _download(url: str, token: str) -> tuple[int, Any, bytes]:
    """A GET with the officer's token: status, headers and the exact bytes."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
        return answer.status, answer.headers, answer.read()


def _file_sent(port: int, login: str, password: str, subject: str) -> None:
    """A mail the officer sent, filed in his 已发送 folder (APPEND, as a client does)."""
    mail = EmailMessage()
    mail["From"] = login
    mail["To"] = CHIEF
    mail["Subject"] = subject
    mail.set_content("已发出的邮件正文")
    with imaplib.IMAP4("127.0.0.1", port, timeout=30) as client:
        client.login(login, password)
        # 已发送; flags given: twisted.mail's APPEND fails without any.
        client.append('"&XfJT0ZAB-"', "(\\Seen)", None, mail.as_bytes())


def _inbox(port: int, login: str, password: str) -> list[EmailMessage]:
    """Every mail in the login's INBOX, read over IMAP."""
    with imaplib.IMAP4("127.0.0.1", port, timeout=30) as client:
        client.login(login, password)
        client.select("INBOX", readonly=True)
        _kind, data = client.fetch("1:*", "(BODY.PEEK[])")
        found = []
        for part in data:
            if isinstance(part, tuple):
                parsed = email.message_from_bytes(part[1], policy=email.policy.default)
                assert isinstance(parsed, EmailMessage)
                found.append(parsed)
        return found


class MailBridgeTest(SQLiteCase):
    folder: ClassVar[Path]
    imap_port: ClassVar[int]
    smtp_port: ClassVar[int]
    bridge_url: ClassVar[str]
    standin: ClassVar[subprocess.Popen[bytes] | None] = None

    @classmethod
    def prepare_class(cls) -> None:
        cls.folder = Path(tempfile.mkdtemp())
        cls.imap_port, cls.smtp_port = free_port(), free_port()
        cls.standin = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.bridges.mail.standin",
                str(cls.imap_port),
                str(cls.smtp_port),
                f"--fetch-log={cls.folder / 'fetch.log'}",
                f"{OFFICER}={PASSWORD}",
                f"{CHIEF}={CHIEF_PASSWORD}",
                f"{NO_IDLE}={NO_IDLE_PASSWORD}",
                f"{FILES}={FILES_PASSWORD}",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # A run of only some of the class's tests (the runner retrying a failed one)
        # never reaches finish_class: the stand-in still ends with the process.
        atexit.register(cls.standin.terminate)

    @classmethod
    def configure_server(cls, server: TestServer) -> None:
        cls.bridge_url = f"http://127.0.0.1:{free_port()}"
        config = {
            "server_name": server.server_name,
            "homeserver_url": server.base_url,
            "bridge_url": cls.bridge_url,
            "as_token_file": "as_token",
            "hs_token_file": "hs_token",
            "seal_key_file": "seal.key",
            "state_database": "mail_state.db",
            "poll_interval_seconds": 5,
            "max_attachment_bytes": MAX_ATTACHMENT,
            "imap": {"host": "127.0.0.1", "port": cls.imap_port, "security": "none"},
            "smtp": {"host": "127.0.0.1", "port": cls.smtp_port, "security": "none"},
        }
        path = cls.folder / "mail.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        # The launcher generates the registration and supervises the bridge.
        (server.data_dir / "conf.d" / "bridges.yaml").write_text(
            yaml.safe_dump({"jwwx_bridges": {"mail": {"config": str(path)}}})
        )

    @classmethod
    def finish_class(cls) -> None:
        if cls.standin is not None:
            cls.standin.terminate()
            cls.standin.wait(30)
            cls.standin = None

    def setUp(self) -> None:
        super().setUp()
        deadline = time.monotonic() + SLOW
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(  # noqa: S310 - our loopback bridge
                    self.bridge_url + "/health", timeout=2
                ) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.fail("the launcher did not start the mail bridge")

    def _api(self, officer: MatrixClient) -> MatrixClient:
        """The officer's client on the mail API as the web client reaches it: on the
        homeserver's origin, which forwards /_jwwx/mail/ to the bridge's registered URL
        (modules/web_client/forward.py), with his own access token."""
        return MatrixClient(self.server.base_url, officer.user_id, officer.token)

    async def _notices(self, officer: MatrixClient, room: str) -> list[str]:
        bot = f"@{BOT}:{self.server.server_name}"
        events = await officer.messages(room, 100)
        return [str(e["content"].get("body")) for e in events if e["sender"] == bot]

    async def _wait_notice(self, officer: MatrixClient, room: str, part: str) -> str:
        deadline = time.monotonic() + SLOW
        while time.monotonic() < deadline:
            for body in await self._notices(officer, room):
                if part in body:
                    return body
            await sleep(0.5)
        self.fail(f"no notice with {part!r}: {await self._notices(officer, room)}")

    async def _wait_inbox(self, login: str, password: str, count: int) -> list[Any]:
        deadline = time.monotonic() + SLOW
        while time.monotonic() < deadline:
            found = await threads.deferToThread(_inbox, self.imap_port, login, password)
            if len(found) >= count:
                return found
            await sleep(0.5)
        self.fail(f"{login} has fewer than {count} mails")

    async def _metric(self, name: str) -> float:
        status, text = await MatrixClient(self.bridge_url).request("GET", "/metrics")
        self.assertEqual(status, 200)
        found = re.search(rf"^{name} (\S+)$", str(text), re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    async def _wait_metric(self, name: str, value: float) -> None:
        deadline = time.monotonic() + SLOW
        while time.monotonic() < deadline:
            if await self._metric(name) == value:
                return
            await sleep(0.3)
        self.fail(f"{name} is {await self._metric(name)}, not {value}")

    async def _refused(
        self, *cases: tuple[str, int, str], api: MatrixClient, path: str
    ) -> None:
        """GET path+suffix is refused with that status and errcode, for each case."""
        for suffix, status, errcode in cases:
            self.assertErrcode(await api.request("GET", path + suffix), status, errcode)

    async def test_a_bad_input_first(self) -> None:
        anonymous = MatrixClient(self.server.base_url)  # through the forward
        # Judged before the token: a 400 whoever asks.
        for method, path, body in (
            ("PUT", f"{API}/account", {"login": OFFICER}),
            ("PUT", f"{API}/account", {"login": "a\r\nb", "password": "x"}),
            ("GET", f"{API}/messages/abc", None),
            ("GET", f"{API}/messages?limit=0", None),
            ("POST", f"{API}/messages/1/reply", {"text": ""}),
        ):
            self.assertErrcode(
                await anonymous.request(method, path, body), 400, "M_INVALID_PARAM"
            )
        self.assertErrcode(
            await anonymous.request("GET", f"{API}/messages"), 401, "M_MISSING_TOKEN"
        )
        self.assertErrcode(
            await anonymous.request("GET", f"{API}/messages", token="nonsense"),
            401,
            "M_UNKNOWN_TOKEN",
        )
        officer = self._api(self.user("mailnobody"))
        self.assertErrcode(
            await officer.request("GET", f"{API}/messages"),
            404,
            "CN_JWWX_MAIL_NOT_BOUND",
        )

    async def test_b_bind_remind_read_reply(self) -> None:
        officer = self.user("mailzhang")
        api = self._api(officer)
        # Mail already there before binding: no reminder for it.
        await threads.deferToThread(
            _deliver, self.smtp_port, OFFICER, "旧通知", "早先的邮件"
        )
        await self._wait_inbox(OFFICER, PASSWORD, 1)
        # A wrong password is refused by the mail server; nothing is kept.
        self.assertErrcode(
            await api.request(
                "PUT", f"{API}/account", {"login": OFFICER, "password": "wrong"}
            ),
            403,
            "CN_JWWX_MAIL_LOGIN_REFUSED",
        )
        self.assertEqual(await api.ok("GET", f"{API}/account"), {"bound": False})
        bound = await api.ok(
            "PUT", f"{API}/account", {"login": OFFICER, "password": PASSWORD}
        )
        room = bound["room_id"]
        await officer.join(room)  # the bot invited him to a chat of two
        await self._wait_notice(officer, room, "已绑定")

        # His mailbox in IDLE (so not polled): the server tells of the next mail.
        await self._wait_metric("jwwx_mail_idle_sessions", 1.0)
        await threads.deferToThread(
            _deliver, self.smtp_port, OFFICER, "案件协查通报", f"请协查。{BODY_MARK}"
        )
        reminder = await self._wait_notice(officer, room, "案件协查通报")
        self.assertIn("编号 2", reminder)
        self.assertIn(CHIEF, reminder)
        self.assertNotIn(BODY_MARK, reminder)
        self.assertFalse(any("旧通知" in n for n in await self._notices(officer, room)))
        self.assertGreaterEqual(await self._metric("jwwx_mail_idle_wakeups_total"), 1)

        listed = await api.ok("GET", f"{API}/messages?limit=10")
        self.assertEqual([m["uid"] for m in listed["messages"]], [2, 1])
        self.assertEqual(listed["messages"][0]["subject"], "案件协查通报")
        self.assertEqual(listed["total"], 2)
        mail = await api.ok("GET", f"{API}/messages/2")
        self.assertIn(BODY_MARK, mail["text"])
        self.assertEqual(mail["subject"], "案件协查通报")
        self.assertErrcode(
            await api.request("GET", f"{API}/messages/99"), 404, "M_NOT_FOUND"
        )

        # A quick reply through the API, then one typed in the chat.
        await api.ok("POST", f"{API}/messages/2/reply", {"text": "收到，马上处理"})
        await officer.send_text(room, "回复 2 已到现场")
        await self._wait_notice(officer, room, "已回复邮件 2")
        replies = await self._wait_inbox(CHIEF, CHIEF_PASSWORD, 2)
        texts = sorted(str(r.get_body().get_content()).strip() for r in replies)
        self.assertEqual(texts, ["已到现场", "收到，马上处理"])
        for reply in replies:
            self.assertEqual(reply["Subject"], "Re: 案件协查通报")
            self.assertEqual(reply["From"], OFFICER)
            self.assertEqual(reply["X-Authenticated-As"], OFFICER)
            self.assertTrue(reply["In-Reply-To"])
        await officer.send_text(room, "回复 77 没有这封")
        await self._wait_notice(officer, room, "没有编号 77")
        await officer.send_text(room, "未读")
        await self._wait_notice(officer, room, "收件箱共 2 封")

        # Nothing of the mail, nor the password, in any file of ours.
        for folder in (self.server.data_dir, self.folder):
            for path in folder.rglob("*"):
                if path.is_file():
                    data = path.read_bytes()
                    self.assertNotIn(BODY_MARK.encode(), data, path)
                    self.assertNotIn(PASSWORD.encode(), data, path)
        self.assertIn(b"mail_accounts", (self.folder / "mail_state.db").read_bytes())

        await api.ok("DELETE", f"{API}/account")
        self.assertEqual(await api.ok("GET", f"{API}/account"), {"bound": False})
        await self._wait_metric("jwwx_mail_idle_sessions", 0.0)  # its session closed

    async def test_d_without_idle_polled_attachment_reminder_choice(self) -> None:
        # Last: a server that does not offer IDLE ends IDLE for every mailbox.
        officer = self.user("mailli")
        api = self._api(officer)
        wakeups = await self._metric("jwwx_mail_idle_wakeups_total")
        bound = await api.ok(
            "PUT", f"{API}/account", {"login": NO_IDLE, "password": NO_IDLE_PASSWORD}
        )
        room = bound["room_id"]
        await officer.join(room)
        await self._wait_notice(officer, room, "已绑定")
        await self._wait_metric("jwwx_mail_idle_sessions", 0.0)
        await threads.deferToThread(
            _deliver, self.smtp_port, NO_IDLE, "无IDLE的提醒", "由轮询发现"
        )
        # The poll round (every 5 s here) finds it instead.
        reminder = await self._wait_notice(officer, room, "无IDLE的提醒")
        self.assertIn("编号 1", reminder)
        self.assertEqual(await self._metric("jwwx_mail_idle_wakeups_total"), wakeups)
        self.assertEqual(await self._metric("jwwx_mail_idle_sessions"), 0.0)

        # His own choice: reminders with only a count (nothing of the mail in chat).
        self.assertEqual((await api.ok("GET", f"{API}/account"))["reminder"], "subject")
        self.assertErrcode(
            await api.request("PUT", f"{API}/account/reminder", {"reminder": "all"}),
            400,
            "M_INVALID_PARAM",
        )
        await officer.send_text(room, "提醒 数量")
        await self._wait_notice(officer, room, "只写封数")
        self.assertEqual((await api.ok("GET", f"{API}/account"))["reminder"], "count")
        await threads.deferToThread(
            _deliver, self.smtp_port, NO_IDLE, "不应出现的主题", "正文"
        )
        await self._wait_notice(officer, room, "您有 1 封新邮件。")
        notices = await self._notices(officer, room)
        self.assertFalse(any("不应出现的主题" in n for n in notices), notices)
        self.assertEqual(
            await api.ok("PUT", f"{API}/account/reminder", {"reminder": "subject"}),
            {"reminder": "subject"},
        )

        # Another folder than INBOX: listed, its mails listed and read.
        await threads.deferToThread(
            _file_sent, self.imap_port, NO_IDLE, NO_IDLE_PASSWORD, "已发出的报告"
        )
        folders = (await api.ok("GET", f"{API}/folders"))["folders"]
        self.assertEqual(sorted(folders), sorted(["INBOX", "已发送"]))
        sent = quote("已发送")
        listed = await api.ok("GET", f"{API}/messages?folder={sent}")
        self.assertEqual(
            [(m["uid"], m["subject"]) for m in listed["messages"]],
            [(1, "已发出的报告")],
        )
        mail = await api.ok("GET", f"{API}/messages/1?folder={sent}")
        self.assertIn("已发出的邮件正文", mail["text"])
        await self._refused(
            (f"?folder={quote('没有这个')}", 404, "M_NOT_FOUND"),
            ("?folder=a%0Db", 400, "M_INVALID_PARAM"),
            api=api,
            path=f"{API}/messages",
        )

    def _fetches(self) -> list[str]:
        """The FETCH commands the stand-in received so far."""
        log = self.folder / "fetch.log"
        return log.read_text().splitlines() if log.exists() else []

    async def test_e_attachments_by_part(self) -> None:
        # Attachments fetched alone (their section, not the whole mail), handed on as
        # downloads, kept nowhere; one above max_attachment_bytes refused unfetched.
        officer = self.user("mailwang")
        api = self._api(officer)
        bound = await api.ok(
            "PUT", f"{API}/account", {"login": FILES, "password": FILES_PASSWORD}
        )
        await officer.join(bound["room_id"])
        await self._wait_notice(officer, bound["room_id"], "已绑定")
        pdf = b"%PDF-1.4 " + ATTACHMENT_MARK.encode() + bytes(range(256)) * 40
        large = bytes(range(256)) * 256  # 64 KiB, above MAX_ATTACHMENT
        small = b"\x00\x01binary\xff" * 10
        await threads.deferToThread(
            _deliver_attachments,
            self.smtp_port,
            FILES,
            [("现场照片说明.pdf", pdf), ("录像.bin", large), ("b.bin", small)],
        )
        await self._wait_notice(officer, bound["room_id"], "附件通报")
        mail = await api.ok("GET", f"{API}/messages/1")
        self.assertEqual(mail["text"].strip(), "见附件")
        self.assertEqual(
            [(a["filename"], a["size"]) for a in mail["attachments"]],
            [
                ("现场照片说明.pdf", len(pdf)),
                ("录像.bin", len(large)),
                ("b.bin", len(small)),
            ],
        )
        before = len(self._fetches())
        status, headers, got = await threads.deferToThread(
            _download,
            f"{self.server.base_url}{API}/messages/1/attachments/0",
            officer.token,
        )
        self.assertEqual((status, got), (200, pdf))
        self.assertEqual(headers["Content-Type"], "application/pdf")
        self.assertIn("filename*=UTF-8''%E7%8E%B0", headers["Content-Disposition"])
        # Parts 1 (the alternative bodies), 2, 3, 4: the PDF is section 2.
        fetched = self._fetches()[before:]
        self.assertEqual(
            fetched,
            [
                "UID FETCH 1 (UID BODYSTRUCTURE)",
                "UID FETCH 1 (UID BODY.PEEK[2.MIME] BODY.PEEK[2])",
            ],
        )
        status, _headers, got = await threads.deferToThread(
            _download,
            f"{self.server.base_url}{API}/messages/1/attachments/2",
            officer.token,
        )
        self.assertEqual((status, got), (200, small))
        before = len(self._fetches())
        await self._refused(
            ("attachments/1", 413, "CN_JWWX_MAIL_ATTACHMENT_TOO_LARGE"),
            ("attachments/3", 404, "M_NOT_FOUND"),
            ("attachments/x", 400, "M_INVALID_PARAM"),
            api=api,
            path=f"{API}/messages/1/",
        )
        # The large one was refused from its size in BODYSTRUCTURE, never fetched.
        self.assertFalse(
            [f for f in self._fetches()[before:] if "BODY.PEEK[3" in f],
            self._fetches()[before:],
        )
        for folder in (self.server.data_dir, self.folder):
            for path in folder.rglob("*"):
                if path.is_file() and path.name != "fetch.log":
                    self.assertNotIn(ATTACHMENT_MARK.encode(), path.read_bytes(), path)

    async def test_c_metrics(self) -> None:
        status, text = await MatrixClient(self.bridge_url).request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn("jwwx_mail_checks_total", str(text))
