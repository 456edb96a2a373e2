# SPDX-License-Identifier: AGPL-3.0-or-later
"""The initial-password mail, sent to a real local SMTP server (aiosmtpd in a thread)."""

import datetime
import email
import email.policy
import ipaddress
import logging
import os
import socket
import ssl
from email.message import EmailMessage
from typing import Any

from twisted.trial import unittest

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from modules.common.synapse.errors import ConfigError
from modules.directory.mailer import (
    MailError,
    MailSettings,
    render_initial_password_mail,
    send_mail,
)

MODULE = "modules.directory.mail"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """aiosmtpd handler keeping every accepted envelope."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def message(self, index: int = 0) -> EmailMessage:
        content = self.envelopes[index].original_content
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def settings(port: int, **changes: Any) -> MailSettings:
    raw: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "from_address": "警务微信 <noreply@gat.example.cn>",
        "client_download_url": "https://im.gat.example.cn/download",
        "login_url": "https://im.gat.example.cn",
        "timeout_seconds": 5,
    }
    raw.update(changes)
    return MailSettings.parse(raw, MODULE)


class SendTests(unittest.TestCase):
    def start_server(self, **smtp_options: Any) -> tuple[Inbox, int]:
        inbox, port = Inbox(), free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **smtp_options)
        controller.start()
        self.addCleanup(controller.stop)
        return inbox, port

    def quiet_server(self) -> None:
        server_log = logging.getLogger("mail.log")
        self.addCleanup(server_log.setLevel, server_log.level)
        server_log.setLevel(logging.CRITICAL)

    async def test_mail_arrives_with_chinese_subject_password_and_account(self) -> None:
        inbox, port = self.start_server()
        config = settings(port)
        subject, body = render_initial_password_mail(
            config,
            name="张三",
            userid="zhangsan",
            user_id="@zhangsan:gat.example.cn",
            password="Xk3#pL9q",
        )
        await send_mail(config, "zhangsan@gat.example.cn", subject, body)
        self.assertEqual(len(inbox.envelopes), 1)
        envelope = inbox.envelopes[0]
        self.assertEqual(envelope.rcpt_tos, ["zhangsan@gat.example.cn"])
        self.assertEqual(envelope.mail_from, "noreply@gat.example.cn")
        message = inbox.message()
        self.assertEqual(message["Subject"], "警务微信账号开通通知")
        self.assertEqual(message["To"], "zhangsan@gat.example.cn")
        self.assertIn("警务微信", str(message["From"]))
        text = message.get_content()
        for expected in (
            "张三",
            "zhangsan",
            "@zhangsan:gat.example.cn",
            "Xk3#pL9q",
            "https://im.gat.example.cn/download",
            "首次登录",
        ):
            self.assertIn(expected, text)

    async def test_login_to_the_relay(self) -> None:
        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            assert isinstance(data, LoginPassword)
            ok = (data.login, data.password) == (b"mailer", b"s3cret")
            return AuthResult(success=ok, handled=False)

        self.quiet_server()  # it warns that AUTH without TLS is unsafe: a test only
        inbox, port = self.start_server(
            authenticator=authenticate, auth_require_tls=False, auth_required=True
        )
        good = settings(port, smtp_username="mailer", smtp_password="s3cret")
        await send_mail(good, "a@gat.example.cn", "主题", "正文")
        self.assertEqual(len(inbox.envelopes), 1)

        bad = settings(port, smtp_username="mailer", smtp_password="wrong")
        with self.assertRaises(MailError) as caught:
            await send_mail(bad, "a@gat.example.cn", "主题", "正文")
        self.assertIn("用户名或密码", str(caught.exception))
        self.assertEqual(len(inbox.envelopes), 1)

    async def test_nothing_listening_raises_mail_error(self) -> None:
        with self.assertRaises(MailError) as caught:
            await send_mail(settings(free_port()), "a@gat.example.cn", "主题", "正文")
        self.assertIn("无法连接邮件服务器", str(caught.exception))

    async def test_server_that_never_answers_times_out(self) -> None:
        silent = socket.socket()
        self.addCleanup(silent.close)
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        config = settings(silent.getsockname()[1], timeout_seconds=1)
        with self.assertRaises(MailError) as caught:
            await send_mail(config, "a@gat.example.cn", "主题", "正文")
        self.assertIn("超时", str(caught.exception))

    async def test_starttls_required_but_not_offered(self) -> None:
        inbox, port = self.start_server()
        with self.assertRaises(MailError) as caught:
            await send_mail(
                settings(port, starttls=True), "a@gat.example.cn", "主题", "正文"
            )
        self.assertIn("STARTTLS", str(caught.exception))
        self.assertEqual(inbox.envelopes, [])

    async def test_bad_recipient_or_subject_is_refused_before_connecting(self) -> None:
        with self.assertRaises(MailError):
            await send_mail(settings(free_port()), "张三@公安.cn", "主题", "正文")
        with self.assertRaises(MailError):
            await send_mail(
                settings(free_port()), "a@gat.example.cn", "主题\nBcc: x@y.cn", "正文"
            )

    async def test_untrusted_certificate_is_refused(self) -> None:
        directory = self.mktemp()
        os.makedirs(directory)
        self.quiet_server()  # it logs the refused handshake with a traceback
        inbox, port = self.start_server(tls_context=self_signed_context(directory))
        with self.assertRaises(MailError) as caught:
            await send_mail(
                settings(port, starttls=True), "a@gat.example.cn", "主题", "正文"
            )
        self.assertIn("证书", str(caught.exception))
        self.assertEqual(inbox.envelopes, [])


class TemplateAndConfigTests(unittest.TestCase):
    def write(self, text: str) -> str:
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        return path

    def test_operator_template(self) -> None:
        path = self.write("{{ name }}同志：账号 {{ userid }}，密码 {{ password }}。\n")
        config = settings(25, template_path=path, subject="开通")
        self.assertEqual(
            render_initial_password_mail(
                config, name="李四", userid="lisi", user_id="@lisi:x", password="pw"
            ),
            ("开通", "李四同志：账号 lisi，密码 pw。\n"),
        )

    def test_undefined_variable_fails_clearly(self) -> None:
        path = self.write("{{ name }} {{ department_name }}")
        with self.assertRaises(ConfigError) as caught:
            settings(25, template_path=path)
        self.assertIn("template_path", str(caught.exception))
        self.assertIn("department_name", str(caught.exception))
        # Settings made without parse meet the same error when rendering.
        config = MailSettings(
            smtp_host="localhost",
            from_address="a@b.cn",
            client_download_url="https://x",
            login_url="https://x",
            template_path=path,
        )
        with self.assertRaises(MailError) as mail_error:
            render_initial_password_mail(
                config, name="n", userid="u", user_id="@u:x", password="p"
            )
        self.assertIn("department_name", str(mail_error.exception))

    def test_broken_or_missing_template(self) -> None:
        for path in (self.write("{% if %}"), self.mktemp()):
            with self.assertRaises(ConfigError) as caught:
                settings(25, template_path=path)
            self.assertIn("template_path", str(caught.exception))

    def test_config_errors_name_the_key(self) -> None:
        cases: list[tuple[dict[str, Any], str]] = [
            ({"smtp_prot": 25}, "smtp_prot"),
            ({"smtp_host": None}, "smtp_host"),
            ({"smtp_port": 0}, "smtp_port"),
            ({"smtp_username": "only-user"}, "smtp_password"),
            ({"from_address": "not-an-address"}, "from_address"),
            ({"login_url": "im.gat.example.cn"}, "login_url"),
            ({"starttls": "yes"}, "starttls"),
            ({"timeout_seconds": 0}, "timeout_seconds"),
        ]
        for changes, key in cases:
            with self.assertRaises(ConfigError, msg=key) as caught:
                settings(25, **changes)
            self.assertIn(key, str(caught.exception))

    def test_defaults(self) -> None:
        config = settings(25)
        self.assertEqual(config.subject, "警务微信账号开通通知")
        self.assertFalse(config.starttls)
        self.assertIsNone(config.smtp_username)
        self.assertIsNone(config.template_path)


def self_signed_context(directory: str) -> ssl.SSLContext:
    """A server TLS context with a throw-away certificate no trust store knows."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = f"{directory}/cert.pem", f"{directory}/key.pem"
    with open(cert_path, "wb") as file:
        file.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as file:
        file.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context
