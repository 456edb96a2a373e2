# SPDX-License-Identifier: AGPL-3.0-or-later
"""Unit information, the client splash image and the profile fields officers may edit
(admin_api/organisation.py) over HTTP: set by the super admin, computed counts, shown in
the client config, enforced on Synapse's profile API, logged. Bound to both engines in
test_sessions.py (one server per engine for both)."""

import io
import time
from typing import Any
from urllib.parse import quote

from PIL import Image

from tests.harness.client import MatrixClient
from tests.modules.directory.helpers import department, member
from tests.modules.watermark.media_http import upload

ORGANISATION = "/_jwwx/admin/v1/organisation"
CLIENT_CONFIG = "/_jwwx/client/v1/client_config"
LOCKED = "CN_JWWX_PROFILE_FIELD_LOCKED"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


class OrganisationTests:
    # AdminSessionTests.operation_log (the class these are bound with)
    operation_log: Any

    async def _profile_put(
        self, officer: MatrixClient, field: str, value: str
    ) -> tuple[int, Any]:
        path = f"/_matrix/client/v3/profile/{quote(officer.user_id)}/{field}"
        return await officer.request("PUT", path, {field: value})

    async def test_unit_information_splash_and_profile_fields(self) -> None:
        boss = self.user("unitboss", admin=True)
        officer = self.user("unitofficer")
        # Other tests of the class may have built departments already: counts are
        # compared with what was there before, the creation time with the first one.
        before = (await officer.ok("GET", CLIENT_CONFIG))["unit"]
        started = int(time.time() * 1000)
        root = await department(boss, "示例市公安局", None)
        await department(boss, "东城分局", root)
        await member(boss, "unitmember1", "张三", [root])
        finished = int(time.time() * 1000)

        # Nothing set yet: computed facts, defaults.
        config = await officer.ok("GET", CLIENT_CONFIG)
        self.assertEqual(config["splash"], {"image": None})
        self.assertEqual(config["profile"], {"editable": ["avatar_url"]})
        unit = config["unit"]
        self.assertEqual((unit["short_name"], unit["logo"]), (None, None))
        self.assertEqual(
            (unit["member_count"], unit["department_count"]),
            (before["member_count"] + 1, before["department_count"] + 2),
        )
        if before["department_count"]:
            self.assertEqual(unit["created_ts"], before["created_ts"])
        else:
            self.assertTrue(started - 1000 <= unit["created_ts"] <= finished + 1000)

        logo = await upload(boss, _png(), "image/png", "logo.png")
        splash = await upload(boss, _png(), "image/png", "splash.png")
        text = await upload(boss, b"not an image", "text/plain", "a.txt")
        wanted = {
            "short_name": "示例市局",
            "full_name": "示例市公安局",
            "domain": "GAJ.Example.gov.cn",
            "logo": logo,
            "splash": splash,
        }
        done = await boss.ok("PUT", f"{ORGANISATION}/unit", wanted)
        self.assertEqual(done["domain"], "gaj.example.gov.cn")
        self.assertEqual((done["logo"], done["splash"]), (logo, splash))
        self.assertEqual(done["updated_by"], boss.user_id)

        # Bad input and callers: a clear error, nothing changed.
        server = self.server.server_name
        for bad, status in (
            ({"domain": "not a domain"}, 400),
            ({"logo": "mxc://elsewhere.example/abc"}, 400),
            ({"logo": text}, 400),
            ({"splash": f"mxc://{server}/NoSuchMedia"}, 404),
            ({"short_name": "长" * 33}, 400),
            ({"short_name": ""}, 400),
            ({"colour": "red"}, 400),
        ):
            code, answer = await boss.request("PUT", f"{ORGANISATION}/unit", bad)
            self.assertEqual(code, status, (bad, answer))
        self.assertErrcode(
            await officer.request("PUT", f"{ORGANISATION}/unit", {"short_name": "x"}),
            403,
            "M_FORBIDDEN",
        )
        after = await boss.ok("GET", f"{ORGANISATION}/unit")
        self.assertEqual(
            {k: after[k] for k in wanted}, {**wanted, "domain": "gaj.example.gov.cn"}
        )
        config = await officer.ok("GET", CLIENT_CONFIG)
        self.assertEqual(config["unit"]["short_name"], "示例市局")
        self.assertEqual(config["unit"]["logo"], logo)
        self.assertEqual(config["splash"], {"image": splash})

        # Profile fields: the name locked, the avatar free (today's behaviour) ...
        self.assertErrcode(
            await self._profile_put(officer, "displayname", "自己改的名"), 403, LOCKED
        )
        status, _ = await self._profile_put(officer, "avatar_url", logo)
        self.assertEqual(status, 200)
        # ... then the other way round.
        for bad in ({"editable": ["nickname"]}, {"editable": "displayname"}, {}):
            code, answer = await boss.request(
                "PUT", f"{ORGANISATION}/profile_fields", bad
            )
            self.assertEqual(code, 400, (bad, answer))
        turned = await boss.ok(
            "PUT", f"{ORGANISATION}/profile_fields", {"editable": ["displayname"]}
        )
        self.assertEqual(turned["editable"], ["displayname"])
        status, _ = await self._profile_put(officer, "displayname", "自己改的名")
        self.assertEqual(status, 200)
        profile = await officer.ok(
            "GET", f"/_matrix/client/v3/profile/{quote(officer.user_id)}"
        )
        self.assertEqual(profile["displayname"], "自己改的名")
        body = self.assertErrcode(
            await self._profile_put(officer, "avatar_url", splash), 403, LOCKED
        )
        self.assertEqual(body["field"], "avatar_url")
        config = await officer.ok("GET", CLIENT_CONFIG)
        self.assertEqual(config["profile"], {"editable": ["displayname"]})
        await boss.ok(
            "PUT", f"{ORGANISATION}/profile_fields", {"editable": ["avatar_url"]}
        )

        # Every change is in the operation log, with before and after.
        found = await self.operation_log(
            boss, boss.user_id, ("admin.unit.", "admin.profile_fields."), 3
        )
        actions = [r["action"] for r in found]
        self.assertEqual(actions.count("admin.unit.update"), 1, actions)
        self.assertEqual(actions.count("admin.profile_fields.update"), 2, actions)
        unit_record = found[actions.index("admin.unit.update")]
        self.assertEqual(unit_record["after"]["logo"], logo)
        self.assertEqual(unit_record["before"], {})
