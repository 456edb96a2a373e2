# SPDX-License-Identifier: AGPL-3.0-or-later
"""`load-sample`: fill a running server's directory with a small realistic organisation
(generated, deterministic), so a newcomer sees a populated directory in a client."""

import tempfile
from pathlib import Path

from homeserver.admin import bootstrap_grant, password_file
from homeserver.config_file import ServerConfig
from homeserver.errors import LauncherError
from homeserver.http import HttpError, request_json
from modules.directory.sample import generate_directory, write_csv

IMPORT = "/_jwwx/admin/v1/directory/import/"


def _admin_token(config: ServerConfig) -> str:
    """A session of the bootstrap admin through the bootstrap endpoint (the operator
    holds the shared secret): it needs neither the password nor, once the admin has
    enrolled an authenticator, a TOTP code."""
    path = password_file(config)
    if not path.exists():
        raise LauncherError(
            f"{path} is missing: run `python -m homeserver create-admin` first"
        )
    try:
        return bootstrap_grant(config, "admin")["access_token"]
    except HttpError as e:
        raise LauncherError(f"cannot open a session of the admin: {e}") from e


def load_sample(config: ServerConfig, departments: int, members: int, seed: int) -> str:
    token = _admin_token(config)
    records = generate_directory(departments, members, seed=seed)
    reports = []
    with tempfile.TemporaryDirectory() as folder:
        paths = write_csv(records[0], records[1], Path(folder))
        for kind, path in zip(("departments", "members"), paths, strict=True):
            url = f"{config.client_base_url}{IMPORT}{kind}?filename={path.name}"
            try:
                report = request_json(
                    "POST", url, token=token, raw=path.read_bytes(), timeout=600
                )
            except HttpError as e:
                raise LauncherError(f"import of {kind} failed: {e}") from e
            reports.append(
                f"{kind}: {report['created']} created, {report['updated']} updated,"
                f" {report['unchanged']} unchanged"
            )
    return "; ".join(reports) + " (accounts are being created in the background)"
