# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reference sender of the app push protocol (docs/app_push.md), standing in for an app
in zone II/III. Standalone on purpose (the standard library and `cryptography` only), so
that it shows all an app needs and checks our side independently.

    python tests/bridges/app_push/sender.py --url https://bridge.example \\
        --app case-system --secret-file case.secret [--method hmac-sm3] \\
        '{"touser": "zhangsan", "msgtype": "text", "text": {"content": "你好"}}'
"""

import argparse
import json
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from cryptography.hazmat.primitives import hashes, hmac

PATH = "/_jwwx/app_push/v1/messages"


def signature(
    method: str, secret: bytes, app: str, stamp: str, nonce: str, body: bytes
) -> str:
    algorithm = {"hmac-sm3": hashes.SM3(), "hmac-sha256": hashes.SHA256()}[method]
    mac = hmac.HMAC(secret, algorithm)
    mac.update(f"POST\n{PATH}\n{app}\n{stamp}\n{nonce}\n".encode() + body)
    return f"{method}={mac.finalize().hex()}"


def signed_request(
    app: str,
    secret: bytes,
    message: dict,
    method: str = "hmac-sm3",
    timestamp: int | None = None,
    nonce: str | None = None,
) -> tuple[dict[str, str], bytes]:
    """(headers, body) of one push."""
    body = json.dumps(message, ensure_ascii=False).encode("utf-8")
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = secrets.token_urlsafe(16) if nonce is None else nonce
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Jwwx-App": app,
        "X-Jwwx-Timestamp": stamp,
        "X-Jwwx-Nonce": nonce,
        "X-Jwwx-Signature": signature(method, secret, app, stamp, nonce, body),
    }
    return headers, body


def push(
    url: str, headers: dict[str, str], body: bytes, cafile: str | None = None
) -> tuple[int, dict]:
    """(HTTP status, JSON answer) of one push."""
    request = urllib.request.Request(
        url.rstrip("/") + PATH, body, headers, method="POST"
    )
    context = (
        ssl.create_default_context(cafile=cafile) if url.startswith("https") else None
    )
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--app", required=True)
    parser.add_argument("--secret-file", type=Path, required=True)
    parser.add_argument(
        "--method", choices=("hmac-sm3", "hmac-sha256"), default="hmac-sm3"
    )
    parser.add_argument("--cafile", help="CA bundle of the bridge's certificate")
    parser.add_argument("message", help="the JSON message")
    args = parser.parse_args()
    secret = args.secret_file.read_bytes().strip()
    headers, body = signed_request(
        args.app, secret, json.loads(args.message), args.method
    )
    status, answer = push(args.url, headers, body, args.cafile)
    print(status, json.dumps(answer, ensure_ascii=False))
    return 0 if status == 200 and answer.get("errcode") == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
