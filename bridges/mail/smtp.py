# SPDX-License-Identifier: AGPL-3.0-or-later
"""Quick replies through the bureau's SMTP submission server (the standard library's
SMTP client, blocking: called in a thread), sent as the officer with his own login."""

import contextlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid

from bridges.mail.config import ServerConfig
from bridges.mail.imap import MailError


def reply_to(original: EmailMessage, sender: str, text: str) -> EmailMessage:
    """A reply to `original` from `sender`: to its Reply-To (or From), "Re: " subject,
    threaded by In-Reply-To and References."""
    answer = EmailMessage()
    recipients = original.get("Reply-To") or original.get("From") or ""
    addresses = [a for _name, a in getaddresses([str(recipients)]) if a]
    if not addresses:
        raise MailError("not_found", "the mail has no sender to reply to")
    subject = str(original.get("Subject", ""))
    if not subject.lower().startswith("re:"):
        subject = "Re: " + subject
    answer["From"] = sender
    answer["To"] = ", ".join(addresses)
    answer["Subject"] = subject
    answer["Date"] = formatdate(localtime=True)
    answer["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message_id = original.get("Message-ID")
    if message_id:
        answer["In-Reply-To"] = str(message_id)
        references = str(original.get("References", "")).split()
        answer["References"] = " ".join([*references, str(message_id)])
    answer.set_content(text)
    return answer


def send(server: ServerConfig, login: str, password: str, mail: EmailMessage) -> None:
    try:
        if server.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                server.host,
                server.port,
                timeout=server.timeout_seconds,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(
                server.host, server.port, timeout=server.timeout_seconds
            )
    except OSError as e:
        raise MailError("unavailable", f"SMTP {server.host}:{server.port}: {e}") from e
    try:
        if server.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        client.ehlo_or_helo_if_needed()
        if client.has_extn("auth"):
            client.login(login, password)
        client.send_message(mail)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as e:
        raise MailError("rejected", f"SMTP refused the mail: {e}") from e
    except smtplib.SMTPAuthenticationError as e:
        raise MailError("auth", f"SMTP login of {login!r} refused") from e
    except (smtplib.SMTPException, OSError) as e:
        raise MailError("unavailable", f"SMTP: {e}") from e
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            client.quit()
