# SPDX-License-Identifier: AGPL-3.0-or-later
"""`check`: is the server answering, and does every module report healthy?"""

import time
from typing import Any

from homeserver.config_file import ServerConfig
from homeserver.http import HttpError, request_json

HEALTH_PATH = "/_jwwx/client/v1/health"


def probe(config: ServerConfig) -> tuple[bool, str]:
    """One look: (healthy, a one-line explanation)."""
    base = config.client_base_url
    try:
        request_json("GET", base + "/_matrix/client/versions", timeout=5)
    except HttpError as e:
        return False, f"/_matrix/client/versions answered HTTP {e.status}"
    except OSError as e:
        return False, f"{base} does not answer ({e})"
    try:
        health = request_json("GET", base + HEALTH_PATH, timeout=5)
    except HttpError as e:
        health = e.body
    except OSError as e:
        return False, f"{HEALTH_PATH}: {e}"
    if not isinstance(health, dict) or "modules" not in health:
        return False, f"{HEALTH_PATH} gave no module report: {health!r}"
    bad = {n: m for n, m in health["modules"].items() if m.get("status") != "ok"}
    if bad:
        detail = ", ".join(
            f"{n}: {m.get('status')} {_why(m)}".strip() for n, m in bad.items()
        )
        return False, f"modules not healthy: {detail}"
    names = ", ".join(sorted(health["modules"]))
    return True, f"ok: {base} answers; modules healthy: {names}"


def _why(module: dict[str, Any]) -> str:
    alerts = module.get("alerts")
    texts = list(alerts.values()) if isinstance(alerts, dict) else []
    return "; ".join([str(module.get("detail") or ""), *map(str, texts)]).strip("; ")


def wait_healthy(config: ServerConfig, timeout: float) -> tuple[bool, str]:
    deadline = time.monotonic() + timeout
    while True:
        healthy, why = probe(config)
        if healthy or time.monotonic() >= deadline:
            return healthy, why
        time.sleep(0.25)
