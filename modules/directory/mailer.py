# SPDX-License-Identifier: AGPL-3.0-or-later
"""The initial-password e-mail: settings, rendering and sending over SMTP with Twisted."""

import email.policy
import functools
import io
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from twisted.internet import reactor as _global_reactor
from twisted.internet.defer import Deferred
from twisted.internet.ssl import optionsForClientTLS
from twisted.mail import smtp
from twisted.python.failure import Failure

import jinja2
from OpenSSL import SSL

from modules.common.config import ConfigReader
from modules.common.synapse.errors import ConfigError

PACKAGED_TEMPLATE = Path(__file__).parent / "templates" / "initial_password.txt.j2"
_ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


class MailError(Exception):
    """A mail could not be rendered or sent; the text is a short reason for the admin."""


@dataclass(frozen=True, kw_only=True)
class MailSettings:
    """How initial passwords are mailed (a mapping in the directory module's config).

    Keys:
      smtp_host (string, required): the bureau's SMTP relay.
      smtp_port (int, default 25).
      smtp_username, smtp_password (strings, default none): log in to the relay; give
          both or neither. Without a username no AUTH is attempted.
      starttls (bool, default false): upgrade the connection with STARTTLS (the relay's
          certificate is verified against the system trust store) and refuse to send
          when the relay does not offer it. When false, TLS is never attempted.
      from_address (string, required): the sender, "addr@example" or
          "警务微信 <addr@example>".
      subject (string, default "警务微信账号开通通知").
      template_path (string, default the packaged templates/initial_password.txt.j2):
          an operator's own jinja2 template; it may use name, userid, user_id, password,
          client_download_url and login_url, and nothing else (checked at start-up).
      client_download_url (string, required): where officers download the client.
      login_url (string, required): the server address officers enter in the client.
      timeout_seconds (number, default 30): the most one mail may take, connecting
          included.
    """

    smtp_host: str
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    starttls: bool = False
    from_address: str
    subject: str = "警务微信账号开通通知"
    template_path: str | None = None
    client_download_url: str
    login_url: str
    timeout_seconds: float = 30.0

    @staticmethod
    def parse(raw: Any, module: str) -> "MailSettings":
        reader = ConfigReader(raw, module)
        settings = MailSettings(
            smtp_host=reader.string("smtp_host", required=True),
            smtp_port=reader.integer("smtp_port", 25, minimum=1, maximum=65535),
            smtp_username=reader.optional_string("smtp_username"),
            smtp_password=reader.optional_string("smtp_password"),
            starttls=reader.boolean("starttls", False),
            from_address=reader.string("from_address", required=True),
            subject=reader.string("subject", "警务微信账号开通通知", required=True),
            template_path=reader.optional_string("template_path"),
            client_download_url=reader.string("client_download_url", required=True),
            login_url=reader.string("login_url", required=True),
            timeout_seconds=reader.number("timeout_seconds", 30.0, minimum=1.0),
        )
        reader.finish()
        settings._check(module)
        return settings

    def _check(self, module: str) -> None:
        def fail(key: str, problem: str) -> ConfigError:
            return ConfigError(f"{module}.{key}: {problem}")

        if (self.smtp_username is None) != (self.smtp_password is None):
            raise fail("smtp_password", "give smtp_username and smtp_password together")
        if not _ADDRESS.fullmatch(parseaddr(self.from_address)[1]):
            raise fail("from_address", f"not an e-mail address: {self.from_address!r}")
        for key in ("client_download_url", "login_url"):
            if not re.match(r"https?://\S+$", getattr(self, key)):
                raise fail(key, "must be an http:// or https:// URL")
        try:
            # A template mistake must stop the start-up, not the first import.
            render_initial_password_mail(
                self,
                name="测试",
                userid="test",
                user_id="@test:localhost",
                password="x",
            )
        except MailError as error:
            raise fail("template_path", str(error)) from None


@functools.lru_cache(maxsize=8)
def _template(path: str) -> jinja2.Template:
    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MailError(f"无法读取邮件模板 {path}：{error}") from None
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
    )
    try:
        return environment.from_string(source)
    except jinja2.TemplateSyntaxError as error:
        raise MailError(
            f"邮件模板 {path} 第 {error.lineno} 行有语法错误：{error.message}"
        ) from None


def render_initial_password_mail(
    settings: MailSettings, *, name: str, userid: str, user_id: str, password: str
) -> tuple[str, str]:
    """(subject, body) of the mail telling an officer the new account and its password."""
    path = settings.template_path or str(PACKAGED_TEMPLATE)
    try:
        body = _template(path).render(
            name=name,
            userid=userid,
            user_id=user_id,
            password=password,
            client_download_url=settings.client_download_url,
            login_url=settings.login_url,
        )
    except jinja2.UndefinedError as error:
        raise MailError(
            f"邮件模板 {path} 使用了未定义的变量：{error.message}"
        ) from None
    return settings.subject, body


def _message(settings: MailSettings, to_address: str, subject: str, body: str) -> bytes:
    message = EmailMessage(policy=email.policy.default)
    message["From"] = settings.from_address
    message["To"] = to_address
    message["Subject"] = subject  # encoded as RFC 2047 UTF-8 when sent
    message["Date"] = formatdate(localtime=True)
    domain = parseaddr(settings.from_address)[1].rpartition("@")[2]
    message["Message-ID"] = make_msgid(domain=domain)
    # base64 keeps the Chinese body safe on relays without 8BITMIME.
    message.set_content(body, charset="utf-8", cte="base64")
    # "\n" line ends: Twisted's SMTP client turns them into CRLF itself.
    return message.as_bytes()


def _reason(failure: Failure, settings: MailSettings, timed_out: bool) -> str:
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    error = failure.value
    response = getattr(error, "resp", b"")
    if isinstance(response, bytes):
        response = response.decode("utf-8", "replace")
    if timed_out or isinstance(error, smtp.SMTPTimeoutError):
        return f"连接邮件服务器 {where} 超时"
    if isinstance(error, smtp.TLSRequiredError):
        return f"邮件服务器 {where} 不支持 STARTTLS"
    if isinstance(error, smtp.AUTHRequiredError):
        return f"邮件服务器 {where} 不支持用户名密码认证"
    if isinstance(error, smtp.AUTHDeclinedError):
        return f"邮件服务器 {where} 拒绝了用户名或密码"
    if isinstance(error, smtp.SMTPConnectError) and isinstance(
        error.__cause__, SSL.Error
    ):
        return f"邮件服务器 {where} 的证书验证失败或 TLS 握手失败：{error.__cause__}"
    if isinstance(error, smtp.SMTPConnectError):
        return f"无法连接邮件服务器 {where}：{error.__cause__ or response}"
    if isinstance(error, smtp.SMTPClientError):
        return f"邮件服务器 {where} 拒绝发送：{error.code} {response}".strip()
    return f"发送邮件失败：{error}"


async def send_mail(
    settings: MailSettings, to_address: str, subject: str, body: str
) -> None:
    """Send one mail; raises MailError with a short reason. Never blocks the reactor."""
    if not to_address.isascii() or not _ADDRESS.fullmatch(to_address):
        raise MailError(f"收件人邮箱地址无效：{to_address}")
    try:
        message = _message(settings, to_address, subject, body)
    except ValueError as error:  # e.g. a line break in the subject
        raise MailError(f"邮件内容无效：{error}") from None
    reactor: Any = _global_reactor
    done: Deferred[object] = Deferred()
    use_auth = settings.smtp_username is not None
    factory = smtp.ESMTPSenderFactory(
        settings.smtp_username.encode() if settings.smtp_username else None,
        settings.smtp_password.encode() if settings.smtp_password else None,
        parseaddr(settings.from_address)[1],
        [to_address],
        io.BytesIO(message),
        done,
        retries=0,
        timeout=settings.timeout_seconds,
        # No context means no STARTTLS at all, as configured.
        contextFactory=optionsForClientTLS(settings.smtp_host)
        if settings.starttls
        else None,
        heloFallback=not (use_auth or settings.starttls),
        requireAuthentication=use_auth,
        requireTransportSecurity=settings.starttls,
    )
    connector = reactor.connectTCP(
        settings.smtp_host,
        settings.smtp_port,
        factory,
        timeout=settings.timeout_seconds,
    )
    timed_out = False

    def give_up() -> None:
        # Dropping the connection makes the factory fail `done`; abort, because a
        # stalled server would keep a polite close waiting.
        nonlocal timed_out
        timed_out = True
        if connector.state == "connected":
            connector.transport.abortConnection()
        else:
            connector.disconnect()

    deadline = reactor.callLater(settings.timeout_seconds, give_up)
    try:
        await done
    except Exception:
        raise MailError(_reason(Failure(), settings, timed_out)) from None
    finally:
        if deadline.active():
            deadline.cancel()
