# SPDX-License-Identifier: AGPL-3.0-or-later
"""Setting up the ministry bridge beside a test server (the tests and
benchmarks.ministry_im): the reference peer, the bridge's config and keys in the data
directory, `jwwx_bridges.ministry_im` in conf.d/, modules.crossdomain naming it."""

from pathlib import Path
from typing import Any

import yaml

from tests.bridges import supervised
from tests.bridges.ministry_im.peer import ReferencePeer
from tests.harness.server import TestServer

DOMAIN = "ministry.example"
OUR_KEY, THEIR_KEY = b"o" * 40, b"t" * 40
SM4 = {"k1": bytes(range(16))}
OUR_ID, PEER_ID = "jwwx-bureau", "mps-im"
CROSSDOMAIN = "modules.crossdomain.CrossDomainModule"
MODULE_CONFIG: dict[str, dict[str, Any]] = {
    CROSSDOMAIN: {
        "bridges": [
            {
                "appservice_id": "jwwx_ministry_im",
                "domain": DOMAIN,
                "user_prefix": "ministry_",
            }
        ]
    }
}


def start_peer(bridge_port: int) -> ReferencePeer:
    peer = ReferencePeer(PEER_ID, THEIR_KEY, OUR_ID, OUR_KEY, SM4, "k1").start()
    peer.bridge_url = f"http://127.0.0.1:{bridge_port}"
    return peer


def configure(server: TestServer, bridge_port: int, peer: ReferencePeer) -> None:
    base = server.data_dir / "ministry_im"
    base.mkdir()
    (base / "ours.key").write_bytes(OUR_KEY)
    (base / "theirs.key").write_bytes(THEIR_KEY)
    (base / "k1.sm4").write_text(SM4["k1"].hex())
    config = base / "ministry_im.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "server_name": server.server_name,
                "homeserver_url": server.base_url,
                "bridge_url": f"http://127.0.0.1:{bridge_port}",
                "as_token_file": "as_token",
                "hs_token_file": "hs_token",
                "system_id": OUR_ID,
                "peer_id": PEER_ID,
                "peer_url": peer.url,
                "signing_key_file": "ours.key",
                "peer_signing_key_file": "theirs.key",
                "sm4_keys": {"k1": "k1.sm4"},
                "sm4_key_id": "k1",
                "retry_min_seconds": 0.2,
                "retry_max_seconds": 2,
                "crash_points_dir": "crash",  # fault injection (test_portal_crash)
            }
        )
    )
    (server.data_dir / "conf.d" / "bridges.yaml").write_text(
        yaml.safe_dump({"jwwx_bridges": {"ministry_im": {"config": str(config)}}})
    )


def bridge_pid(data_dir: Path, port: int, other_than: int | None = None) -> int:
    """The supervised bridge's pid once it answers /health (after a kill: another)."""
    return supervised.bridge_pid(data_dir, "ministry_im", port, other_than)
