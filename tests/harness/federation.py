# SPDX-License-Identifier: AGPL-3.0-or-later
"""Several police domains on this machine, federating over HTTPS (docs/federation.md).

Each domain is a server of ours started by the launcher (tests/harness/server.py) with
its own server name, signing key and TLS certificate. The server name is an explicit
`localhost:PORT` (the Matrix spec's host:port form: no DNS, SRV or .well-known needed),
PORT being the HTTPS listener Synapse serves itself (`init --tls-port`) with a
certificate from a CA this harness makes (`--federation-ca`: peers trust only it).
`allow` says which domains each one allow-lists (`--federation-allow`).

A FederationCase starts its domains once per class, in parallel:

    class Tests(FederationCase):
        domains = {"a": ("b",), "b": ("a",)}
        def test_x(self):
            alice = self.user("a", "alice") ...
"""

import itertools
import shutil
import ssl
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar
from unittest import TestLoader

from twisted.trial import unittest

from tests.harness import postgres
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer, free_port
from tests.harness.tls import TestPki

_unique = itertools.count(1)


class DomainServer(TestServer):
    """A TestServer named localhost:TLS_PORT, serving HTTPS (client and federation)."""

    def __init__(self, engine: str, label: str, tls_port: int, **kw: Any) -> None:
        super().__init__(engine, **kw)
        self.label = label
        self.tls_port = tls_port
        self.server_name = f"localhost:{tls_port}"
        self.https_url = f"https://localhost:{tls_port}"


def start_domains(
    engine: str,
    allow: dict[str, tuple[str, ...]],
    folder: Path,
    server_class: type[DomainServer] | None = None,
) -> dict[str, DomainServer]:
    """Start one server per label of `allow`, each allow-listing the labels given
    (`server_class`: a DomainServer subclass, e.g. the benchmark's vanilla one)."""
    pki = TestPki(folder / "pki")
    ports = {label: free_port() for label in allow}
    servers: dict[str, DomainServer] = {}
    for label, peers in allow.items():
        cert, key = pki.issue(label)
        args: list[str] = [
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
            "--tls-port",
            str(ports[label]),
            "--federation-ca",
            str(pki.ca_cert),
            "--federation-network",
            "127.0.0.0/8",
        ]
        for peer in peers:
            args += ["--federation-allow", f"localhost:{ports[peer]}"]
        servers[label] = (server_class or DomainServer)(
            engine, label, ports[label], init_args=tuple(args)
        )
    with ThreadPoolExecutor(len(servers)) as pool:
        futures = [pool.submit(s.start) for s in servers.values()]
        errors = [f.exception() for f in futures]
    failed = [e for e in errors if e is not None]
    if failed:
        for server in servers.values():
            server.stop()
        raise failed[0]
    return servers


def client_tls(ca_cert: Path) -> ssl.SSLContext:
    """What an officer's client trusts: the test CA."""
    return ssl.create_default_context(cafile=str(ca_cert))


class FederationCase(unittest.TestCase):
    engine: ClassVar[str] = "sqlite"
    # label -> the labels it allow-lists.
    domains: ClassVar[dict[str, tuple[str, ...]]] = {"a": ("b",), "b": ("a",)}
    _servers: ClassVar[dict[str, DomainServer] | None] = None
    _folder: ClassVar[Path | None] = None
    _done: ClassVar[int] = 0

    def setUp(self) -> None:
        cls = type(self)
        if cls.engine == "postgres":
            postgres.skip_unless_ready(postgres.unavailable_reason(), "PostgreSQL")
        if cls._servers is None:
            cls._folder = Path(tempfile.mkdtemp(prefix="jwwx-fed-"))
            cls._servers = start_domains(cls.engine, cls.domains, cls._folder)
            cls._done = 0

    def tearDown(self) -> None:
        cls = type(self)
        cls._done += 1
        total = len(TestLoader().getTestCaseNames(cls))
        if cls._done >= total and cls._servers is not None:
            for server in cls._servers.values():
                server.stop()
            cls._servers = None
            if cls._folder is not None:
                shutil.rmtree(cls._folder, ignore_errors=True)

    def server(self, label: str) -> DomainServer:
        assert type(self)._servers is not None
        return type(self)._servers[label]

    @property
    def ca_cert(self) -> Path:
        assert type(self)._folder is not None
        return type(self)._folder / "pki" / "ca.pem"

    def user(
        self, label: str, prefix: str = "user", admin: bool = False
    ) -> MatrixClient:
        """A new user of domain `label`, with a client over plain loopback HTTP (the
        admin and directory set-up; officers' traffic in these tests uses HTTPS)."""
        server = self.server(label)
        user_id, token = server.register(f"{prefix}{next(_unique)}", admin=admin)
        return MatrixClient(server.base_url, user_id, token)

    def assertErrcode(self, answer: tuple[int, Any], status: int, errcode: str) -> Any:
        code, body = answer
        self.assertEqual(
            (code, body.get("errcode") if isinstance(body, dict) else body),
            (status, errcode),
            body,
        )
        return body
