# SPDX-License-Identifier: AGPL-3.0-or-later
"""Raw-bytes media requests (the harness client speaks JSON): upload with a content
type, download the exact bytes."""

from typing import Any
from urllib.parse import quote

from twisted.internet import reactor
from twisted.web.client import HTTPConnectionPool

import treq

_pool = HTTPConnectionPool(reactor, persistent=False)


async def upload(
    client: Any, data: bytes, content_type: str, filename: str = "file"
) -> str:
    """Upload through the ordinary client API; return the mxc URI."""
    response = await treq.post(
        f"{client.base_url}/_matrix/media/v3/upload?filename={quote(filename)}",
        data=data,
        headers={
            "Authorization": [f"Bearer {client.token}"],
            "Content-Type": [content_type],
        },
        pool=_pool,
    )
    body = await response.json()
    if response.code != 200:
        raise AssertionError(f"upload → {response.code}: {body}")
    return str(body["content_uri"])


async def get_bytes(
    base_url: str, path: str, token: str | None = None
) -> tuple[int, bytes, str]:
    """(status, body bytes, content type) of a GET."""
    headers = {"Authorization": [f"Bearer {token}"]} if token else {}
    response = await treq.get(base_url + path, headers=headers, pool=_pool)
    content = await response.content()
    types = response.headers.getRawHeaders("content-type") or [""]
    return response.code, bytes(content), types[0]


def media_path(mxc: str, kind: str = "download") -> str:
    server, media_id = mxc[len("mxc://") :].split("/", 1)
    return f"/_matrix/client/v1/media/{kind}/{server}/{media_id}"
