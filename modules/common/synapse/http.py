# SPDX-License-Identifier: AGPL-3.0-or-later
"""The HTTP request being handled, as Synapse and Twisted keep it."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

# Set by patches.allow_multipart_posts on a request whose multipart Content-Type it set
# aside; read by multipart_content_type.
MULTIPART_ATTR = "jwwx_multipart_content_type"


@dataclass(frozen=True)
class RequestInfo:
    """The HTTP request being handled (from Synapse's logging context)."""

    ip: str
    user_agent: str
    method: str
    path: str


def current_request_info() -> RequestInfo | None:
    """The ContextRequest Synapse keeps on the log context (validate_login gets no
    request object); None outside a request."""
    from urllib.parse import urlsplit

    from synapse.logging.context import current_context

    request = getattr(current_context(), "request", None)
    if request is None:
        return None
    return RequestInfo(
        ip=str(request.ip_address or ""),
        user_agent=str(request.user_agent or ""),
        method=str(request.method or ""),
        path=urlsplit(str(request.url or "")).path,
    )


def requested_by_self(user_id: str) -> bool:
    """Whether the HTTP request being handled is `user_id`'s own: authenticated as him,
    not a server admin puppeting him (Synapse's admin redaction of a user's events,
    an admin's login as the user). False outside a request: background jobs, Synapse's
    task scheduler, our modules' loops. From the ContextRequest Synapse keeps on the log
    context (requester, authenticated_entity); modules.groups' recall window relies on
    it (tests.modules.groups.test_messages pins it)."""
    from synapse.logging.context import current_context

    request = getattr(current_context(), "request", None)
    if request is None:
        return False
    return request.requester == user_id and request.authenticated_entity in (
        None,
        user_id,
    )


def client_disconnected(request: Any) -> bool:
    """True once the client has gone away (Twisted's request then refuses writes)."""
    return bool(getattr(request, "_disconnected", False))


def multipart_content_type(request: Any) -> str | None:
    """The Content-Type set aside by patches.allow_multipart_posts, if any."""
    value = getattr(request, MULTIPART_ATTR, None)
    return value if isinstance(value, str) else None


# Query parameters that carry credentials, redacted from every URI Synapse logs (its
# own redact_uri covers only access_token and client_secret, once):
# patches.redact_credentials_in_request_logs.
CREDENTIAL_PARAMS = frozenset(
    {
        "access_token",
        "corpsecret",
        "secret",
        "code",
        "client_secret",
        "password",
        "token",
        "refresh_token",
        "login_token",
        "ticket",
        "echostr",
    }
)
_REDACTED = "<redacted>"


def redact_query(uri: str, names: frozenset[str] = CREDENTIAL_PARAMS) -> str:
    """uri with the value of every query parameter named in `names` (any case, also
    percent-encoded names; `&` and `;` separate parameters, as Twisted parses them)
    replaced by <redacted>."""
    path, mark, query = uri.partition("?")
    if not mark:
        return uri

    def redact(part: str) -> str:
        name, eq, _ = part.partition("=")
        if unquote(name).strip().lower() in names:
            return f"{name}={_REDACTED}"
        return part

    out = []
    for chunk in query.split("&"):
        out.append(";".join(redact(p) for p in chunk.split(";")))
    return path + "?" + "&".join(out)
