# SPDX-License-Identifier: AGPL-3.0-or-later
"""`create-admin`: create, or reset, the bootstrap super admin through the running server.

Creation uses Synapse's shared-secret registration. If the account already exists, the
admin_api module's bootstrap endpoint (authenticated by the same shared secret) hands out
a short-lived token with which Synapse's own admin API resets the password.
"""

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import quote

from homeserver.config_file import ServerConfig
from homeserver.errors import LauncherError
from homeserver.http import HttpError, request_json

BOOTSTRAP_PATH = "/_jwwx/admin/v1/bootstrap/token"


def password_file(config: ServerConfig, localpart: str = "admin") -> Path:
    return config.data_dir / "keys" / f"{localpart}_password"


def shared_secret_mac(secret: str, fields: list[str]) -> str:
    """HMAC-SHA1 over NUL-separated fields, as Synapse's shared-secret registration wants."""
    data = b"\x00".join(f.encode("utf-8") for f in fields)
    return hmac.new(secret.encode("utf-8"), data, hashlib.sha1).hexdigest()


def bootstrap_mac(secret: str, nonce: str, user: str) -> str:
    data = f"{nonce}\x00{user}".encode()
    return hmac.new(secret.encode("utf-8"), data, hashlib.sha256).hexdigest()


def _write_secret_file(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    os.replace(tmp, path)


def register_user(
    config: ServerConfig, localpart: str, password: str, admin: bool
) -> str:
    """Register through /_synapse/admin/v1/register; return the access token."""
    base = config.client_base_url
    secret = config.secret("registration_shared_secret")
    nonce = request_json("GET", base + "/_synapse/admin/v1/register")["nonce"]
    body = {
        "nonce": nonce,
        "username": localpart,
        "password": password,
        "admin": admin,
        "mac": shared_secret_mac(
            secret, [nonce, localpart, password, "admin" if admin else "notadmin"]
        ),
    }
    result = request_json("POST", base + "/_synapse/admin/v1/register", body)
    return str(result["access_token"])


def bootstrap_grant(config: ServerConfig, localpart: str) -> dict[str, str]:
    """A new session of the (existing) account, made a server admin, through admin_api's
    bootstrap endpoint (proof: the registration shared secret). It counts as having
    passed the admin API's second factor: {user_id, device_id, access_token}."""
    base = config.client_base_url
    secret = config.secret("registration_shared_secret")
    nonce = request_json("GET", base + BOOTSTRAP_PATH)["nonce"]
    grant = request_json(
        "POST",
        base + BOOTSTRAP_PATH,
        {
            "user": localpart,
            "nonce": nonce,
            "mac": bootstrap_mac(secret, nonce, localpart),
        },
    )
    return {k: str(v) for k, v in grant.items()}


def _reset_existing(config: ServerConfig, localpart: str, password: str) -> None:
    base = config.client_base_url
    grant = bootstrap_grant(config, localpart)
    user_id = f"@{localpart}:{config.server_name}"
    request_json(
        "PUT",
        base + "/_synapse/admin/v2/users/" + quote(user_id),
        {"password": password, "admin": True, "logout_devices": True},
        token=grant["access_token"],
    )


def create_admin(config: ServerConfig, localpart: str, only_if_missing: bool) -> str:
    """Create or reset the admin; return a human-readable report."""
    path = password_file(config, localpart)
    user_id = f"@{localpart}:{config.server_name}"
    if only_if_missing and path.exists():
        return f"管理员账号 {user_id} 已存在，密码见 {path}"
    password = secrets.token_urlsafe(18)
    try:
        register_user(config, localpart, password, admin=True)
        action = "已创建"
    except HttpError as e:
        errcode = e.body.get("errcode") if isinstance(e.body, dict) else None
        if errcode != "M_USER_IN_USE":
            raise LauncherError(f"cannot create {user_id}: {e}") from e
        try:
            _reset_existing(config, localpart, password)
        except HttpError as e2:
            raise LauncherError(f"cannot reset {user_id}: {e2}") from e2
        action = "已重置密码"
    except OSError as e:
        raise LauncherError(
            f"server at {config.client_base_url} does not answer: {e}"
        ) from e
    _write_secret_file(path, password)
    return f"管理员账号 {user_id} {action}；密码见 {path}"
