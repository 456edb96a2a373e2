# SPDX-License-Identifier: AGPL-3.0-or-later
"""Debian's nginx for the deployment tests: `nginx -t` on a rendered file and nginx run
in the foreground with it (the Makefile installs nginx-light as root; elsewhere the
tests that need it skip with a message)."""

import http.client
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from twisted.trial import unittest


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        raise unittest.SkipTest(
            "skipped: nginx is not installed (apt-get install nginx-light)"
        )
    return found


def wrapper(
    root: Path, conf: Path, access_log: Path | None = None, connections: int = 0
) -> Path:
    """A whole nginx.conf around the rendered file (included in http {}, as documented);
    with access_log, each request's path and the upstream server that answered it;
    with connections, that many per worker (nginx's default is 512: each long-poll
    holds two, the client's and the upstream's) and the open files they need."""
    logging = "access_log off;"
    if access_log is not None:
        logging = (
            "log_format jwwx_route '$uri $upstream_addr';"
            f" access_log {access_log} jwwx_route;"
        )
    path = root / "nginx.conf"
    events = ""
    limits = ""
    if connections:
        events = f" worker_connections {connections}; "
        limits = f"worker_rlimit_nofile {2 * connections + 1024};\n"
    # Run as root (CI), nginx's workers would be `nobody`: the checkout may sit in a
    # private folder (mktemp -d is 0700) they cannot read the web client's dist/ from.
    user = "user root;\n" if os.geteuid() == 0 else ""
    path.write_text(
        f"{user}error_log {root}/error.log;\npid {root}/nginx.pid;\ndaemon off;\n{limits}"
        f"events {{{events}}}\nhttp {{ {logging} include {conf}; }}\n"
    )
    return path


def check(root: Path, conf: Path) -> "subprocess.CompletedProcess[str]":
    """`nginx -t` on the rendered file."""
    return subprocess.run(
        [nginx_binary(), "-t", "-c", str(wrapper(root, conf)), "-p", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )


@contextmanager
def running(
    root: Path, conf: Path, port: int, access_log: Path | None = None
) -> Iterator[None]:
    """nginx serving the rendered file until the block ends."""
    process = subprocess.Popen(
        [nginx_binary(), "-c", str(wrapper(root, conf, access_log)), "-p", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    assert process.stderr is not None
                    raise AssertionError(
                        f"nginx did not start: {process.stderr.read().decode()}"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def get_status(
    port: int,
    path: str,
    source: str = "127.0.0.1",
    tls: ssl.SSLContext | None = None,
    host: str = "localhost",
) -> int:
    """The status nginx answers a GET with, sent from the loopback address `source`."""
    if tls is None:
        conn: http.client.HTTPConnection = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=10, source_address=(source, 0)
        )
    else:
        conn = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=10, source_address=(source, 0), context=tls
        )
    try:
        conn.request("GET", path, headers={"Host": host})
        return conn.getresponse().status
    finally:
        conn.close()


def get(port: int, path: str, gzip: bool = False) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body) of a GET over plain HTTP."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": "localhost"}
    if gzip:
        headers["Accept-Encoding"] = "gzip"
    try:
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        found = {name.lower(): value for name, value in answer.getheaders()}
        return answer.status, found, answer.read()
    finally:
        conn.close()
