# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the web client's browser tests share: one server per class (SQLiteCase), the
client API over HTTP, a group of three officers in the directory, signing in a page."""

import os
from typing import Any
from urllib.parse import quote

from homeserver.http import request_json
from tests.harness.case import SQLiteCase

WEB = "/_jwwx/web/"
DIRECTORY = "/_jwwx/admin/v1/directory"
# Playwright's waits: generous, the machine may be loaded (CI runs two jobs).
WAIT_MS = 90_000


class WebCase(SQLiteCase):
    def _url(self, path: str) -> str:
        return self.server.base_url + path

    def _api(self, method: str, path: str, token: str | None, body: Any = None) -> Any:
        return request_json(method, self._url(path), body, token=token)

    def _group(self) -> tuple[str, dict[str, tuple[str, str]]]:
        """专案组: 李娜 (its owner), 张伟 (刑侦支队) and 王芳 (治安支队), all joined.
        → (room id, {name: (localpart, token)})."""
        suffix = os.urandom(3).hex()
        _admin_id, admin = self.server.register(f"boss{suffix}", admin=True)
        root = self._api(
            "POST",
            f"{DIRECTORY}/departments",
            admin,
            {"name": f"分局{suffix}", "parent_id": None},
        )["id"]
        people = (
            ("lina", "李娜", "刑侦支队"),
            ("zhangwei", "张伟", "刑侦支队"),
            ("wangfang", "王芳", "治安支队"),
        )
        officers: dict[str, tuple[str, str]] = {}
        for key, name, _unit in people:
            localpart = f"{key}{suffix}"
            user_id, token = self.server.register(localpart)
            self._api(
                "PUT",
                f"/_synapse/admin/v2/users/{quote(user_id)}",
                admin,
                {"displayname": name},
            )
            officers[name] = (localpart, token)
        units = {
            unit: self._api(
                "POST",
                f"{DIRECTORY}/departments",
                admin,
                {"name": unit, "parent_id": root},
            )["id"]
            for unit in ("刑侦支队", "治安支队")
        }
        for _key, name, unit in people:
            self._api(
                "POST",
                f"{DIRECTORY}/members",
                admin,
                {
                    "userid": officers[name][0],
                    "name": name,
                    "department": [units[unit]],
                },
            )
        server = self.server.server_name
        room_id = self._api(
            "POST",
            "/_jwwx/client/v1/groups",
            officers["李娜"][1],
            {
                "name": "专案组",
                "invite": [f"@{officers[n][0]}:{server}" for n in ("张伟", "王芳")],
            },
        )["room_id"]
        for name in ("张伟", "王芳"):
            self._api(
                "POST",
                f"/_matrix/client/v3/join/{quote(room_id)}",
                officers[name][1],
                {},
            )
        return room_id, officers

    def _sign_in(self, page: Any, localpart: str, sync: str | None = None) -> None:
        """Signs in; `sync` "v2" has the page use /sync v2 although the server offers
        simplified sliding sync (the mode the client remembers for the tab)."""
        page.goto(self._url(WEB))
        if sync is not None:
            page.evaluate("(m) => sessionStorage.setItem('jwwx.web.sync', m)", sync)
        page.fill("input[name=user]", localpart)
        page.fill("input[name=password]", "pw-" + localpart)
        page.click("form.login-form button[type=submit]")
        page.wait_for_selector("nav.rail")
