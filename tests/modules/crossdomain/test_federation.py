# SPDX-License-Identifier: AGPL-3.0-or-later
"""Cross-domain IM between police domains: real servers of ours federating over HTTPS
(tests/harness/federation.py), officers on real Matrix clients (matrix-nio).

Domains a and b allow-list each other (on both engines); on SQLite, c allow-lists a,
but a does not allow-list c. In a: 刑侦支队 may talk with b and is published to it (fields: position), 后勤处 is
neither. In b: 治安支队 may talk with a, 交警支队 may not.
"""

import json
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from twisted.internet import reactor
from twisted.internet import ssl as twisted_ssl
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, HTTPConnectionPool

import signedjson.key
import signedjson.sign
import treq

from tests.harness.federation import FederationCase
from tests.harness.nio_client import RoomInviteResponse, RoomSendResponse
from tests.modules.audit.helpers import query, wait_for
from tests.modules.crossdomain.helpers import (
    ADMIN,
    CLIENT,
    FEDERATION,
    FORBIDDEN,
    Domain,
    invite,
    make_domain,
    make_officer,
    names,
    put_policy,
    search_peer,
)
from tests.modules.groups.helpers import GROUPS, SETTINGS
from tests.modules.openapi.helpers import create_app, wecom

KEYWORD = "跨域测试敏感词"
BURN_FIELD = "org.matrix.self_destruct"
AUDIT = "/_jwwx/admin/v1/audit"


class PeerTests:
    """Between a and b (both engines: the policies and the directory are stored)."""

    _world: ClassVar[dict[str, Domain] | None] = None
    _app: ClassVar[dict[str, Any]] = {}  # a's open-API app published to b

    def tearDown(self) -> None:
        super().tearDown()
        if type(self)._servers is None:
            type(self)._world = None

    def name(self, label: str) -> str:
        return self.server(label).server_name

    async def world(self) -> dict[str, Domain]:
        cls = type(self)
        if cls._world is not None:
            return cls._world
        a = await make_domain(
            self, "a", "甲市公安局", {"刑侦支队": {}, "后勤处": {}, "隐藏组": {}}
        )
        b = await make_domain(self, "b", "乙市公安局", {"治安支队": {}, "交警支队": {}})
        await make_officer(
            self,
            a,
            "zhang",
            "张三丰",
            "刑侦支队",
            position="侦查员",
            mobile="13800000001",
        )
        await make_officer(self, a, "li", "李四海", "后勤处")
        await make_officer(self, a, "wang", "王五岳", "刑侦支队", hidden=True)
        await make_officer(self, b, "zhao", "赵六合", "治安支队")
        await make_officer(self, b, "sun", "孙七星", "交警支队")
        cls._app = await create_app(
            a.boss, name="跨域案件协查", redirect_domain="h5.a.example"
        )
        code, body = await put_policy(
            a,
            self.name("b"),
            {
                "units": [a.units["刑侦支队"]],
                "apps": [cls._app["agentid"]],
                "directory": {
                    "departments": [a.units["刑侦支队"]],
                    "fields": ["position", "departments"],
                },
            },
        )
        self.assertEqual(code, 200, body)
        code, body = await put_policy(
            b,
            self.name("a"),
            {
                "units": [b.units["治安支队"]],
                "directory": {"departments": [b.units["root"]], "fields": []},
            },
        )
        self.assertEqual(code, 200, body)
        await a.boss.ok(
            "PUT", "/_jwwx/admin/v1/policy/keywords", {"keywords": [KEYWORD]}
        )
        cls._world = {"a": a, "b": b}
        if "c" in self.domains:
            c = await make_domain(self, "c", "丙市公安局", {"特警支队": {}})
            await make_officer(self, c, "zhou", "周八方", "特警支队")
            await put_policy(c, self.name("a"), {"units": "*"})
            cls._world["c"] = c
        return cls._world

    # Messages both ways, over HTTPS, with real clients.

    async def test_officers_of_permitted_units_talk_both_ways(self) -> None:
        world = await self.world()
        zhang = world["a"].officers["zhang"]
        zhao = world["b"].officers["zhao"]
        room_id = await zhang.nio.create_room(invite=[zhao.user_id])
        await zhao.nio.join(room_id)
        sent = await zhao.nio.send_text(room_id, "乙市治安支队收到")
        self.assertIsInstance(sent, RoomSendResponse)
        seen = await zhang.nio.wait_for_event(
            room_id, lambda e: e.get("content", {}).get("body") == "乙市治安支队收到"
        )
        self.assertEqual(seen["sender"], zhao.user_id)
        await zhang.nio.send_text(room_id, "甲市刑侦支队回复")
        back = await zhao.nio.wait_for_event(
            room_id, lambda e: e.get("content", {}).get("body") == "甲市刑侦支队回复"
        )
        self.assertEqual(back["sender"], zhang.user_id)

    async def test_keyword_filter_applies_to_remote_messages(self) -> None:
        """b has no such keyword and sends it; a's spam checker sees the federated
        event too: a stores it redacted and marked spam, its officers never get it."""
        world = await self.world()
        zhang = world["a"].officers["zhang"]
        zhao = world["b"].officers["zhao"]
        room_id = await zhang.nio.create_room(invite=[zhao.user_id])
        await zhao.nio.join(room_id)
        await zhao.nio.send_text(room_id, f"含{KEYWORD}的消息")
        await zhao.nio.send_text(room_id, "之后的正常消息")
        await zhang.nio.wait_for_event(
            room_id, lambda e: e.get("content", {}).get("body") == "之后的正常消息"
        )
        events = await zhang.client.messages(room_id)
        self.assertTrue(all(KEYWORD not in str(e) for e in events), events)
        from_b = [
            e["content"].get("body")
            for e in events
            if e["sender"] == zhao.user_id and e["type"] == "m.room.message"
        ]
        self.assertEqual(from_b, ["之后的正常消息"])
        # Its own copy at b is unfiltered: the rule is the receiving bureau's.
        at_b = await zhao.client.messages(room_id)
        self.assertTrue(any(KEYWORD in str(e["content"]) for e in at_b))

    async def test_state_rules_apply_to_remote_joins(self) -> None:
        """A remote join is checked by our state rules too (Synapse runs none on
        federated joins): b renames its invited officer to a name with a keyword
        filtered at a; the join a receives is refused and a's room never has him."""
        world = await self.world()
        b = world["b"]
        zhang = world["a"].officers["zhang"]
        qing = await make_officer(self, b, "qing", "钱清白", "治安支队")
        room_id = await zhang.client.create_room(preset="private_chat")
        await zhang.client.ok(
            "POST",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/invite",
            {"user_id": qing.user_id},
        )

        async def invited() -> bool:
            sync = await qing.client.sync(timeout_ms=1000)
            return room_id in sync.get("rooms", {}).get("invite", {})

        await wait_for(invited, attempts=200)
        await b.boss.ok(
            "PUT",
            f"/_jwwx/admin/v1/directory/members/{qing.userid}",
            {"name": f"钱{KEYWORD}"},
        )
        code, body = await qing.client.request(
            "POST", f"/_matrix/client/v3/join/{quote(room_id)}", {}
        )
        self.assertEqual(code, 403, body)
        members = await zhang.client.ok(
            "GET", f"/_matrix/client/v3/rooms/{quote(room_id)}/joined_members"
        )
        self.assertNotIn(qing.user_id, members["joined"])
        self.assertNotIn(KEYWORD, str(await zhang.client.messages(room_id)))

    async def test_group_rules_hold_for_remote_members(self) -> None:
        """A group started at a (its groups API) with officers of b: a's group rules
        count them like its own — past the size cap a's invite of one more officer of
        b is refused with CN_JWWX_GROUP_FULL, and nothing reaches b."""
        world = await self.world()
        a, b = world["a"], world["b"]
        zhang, zhao = a.officers["zhang"], b.officers["zhao"]
        more = [
            await make_officer(self, b, f"g{k}", f"群员{k}", "治安支队") for k in (1, 2)
        ]
        await a.boss.ok("PUT", SETTINGS, {"max_members": 3, "whitelist": []})
        try:
            created = await zhang.client.ok(
                "POST", GROUPS, {"name": "跨域专案组", "invite": [zhao.user_id]}
            )
            room_id = str(created["room_id"])

            async def joined() -> bool:
                code, _ = await zhao.client.request(
                    "POST", f"/_matrix/client/v3/join/{quote(room_id)}", {}
                )
                return code == 200

            await wait_for(joined)
            code, body = await invite(zhang.client, room_id, more[0].user_id)
            self.assertEqual(code, 200, body)
            code, body = await invite(zhang.client, room_id, more[1].user_id)
            self.assertEqual(
                (code, body.get("errcode")), (403, "CN_JWWX_GROUP_FULL"), body
            )
            info = await zhang.client.ok("GET", f"{GROUPS}/{quote(room_id, safe='')}")
            self.assertEqual(info["max_members"], 3)
            sync = await more[1].client.sync(timeout_ms=0)
            self.assertNotIn(room_id, sync.get("rooms", {}).get("invite", {}))
        finally:
            await a.boss.ok("PUT", SETTINGS, {"max_members": 500, "whitelist": []})

    async def test_burn_after_read_burns_the_receiving_copy(self) -> None:
        """A burn message from b is tracked by a too: a's officer reads it and a purges
        its own stored copy (not waiting for b's redaction, which would leave a's
        copy in the database for Synapse's redaction retention period)."""
        world = await self.world()
        zhang = world["a"].officers["zhang"]
        zhao = world["b"].officers["zhao"]
        room_id = await zhang.nio.create_room(invite=[zhao.user_id])
        await zhao.nio.join(room_id)
        secret = "跨域阅后即焚内容"
        status, sent = await zhao.client.send(
            room_id, {"msgtype": "m.text", "body": secret, BURN_FIELD: 500}
        )
        self.assertEqual(status, 200, sent)
        event_id = sent["event_id"]
        await zhang.nio.wait_for_event(room_id, lambda e: e["event_id"] == event_id)
        server_a = self.server("a")

        def stored() -> dict[str, Any] | None:
            rows = query(
                server_a, "SELECT json FROM event_json WHERE event_id = ?", (event_id,)
            )
            return dict(json.loads(rows[0][0])["content"]) if rows else None

        self.assertEqual((stored() or {}).get("body"), secret)
        await zhang.client.ok(
            "POST",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/receipt/m.read/"
            f"{quote(event_id)}",
            {},
        )

        async def purged() -> bool:
            return stored() == {}

        try:
            # Generous: CI runs two jobs on a loaded machine (a 30-s wait failed there).
            await wait_for(purged, attempts=400)
        except AssertionError as e:
            tracked = query(
                server_a,
                "SELECT read_ts, burn_at, burned_ts, stream_ordering"
                " FROM jwwx_burn_messages WHERE event_id = ?",
                (event_id,),
            )
            receipts = query(
                server_a,
                "SELECT user_id, receipt_type, event_stream_ordering"
                " FROM receipts_linearized WHERE room_id = ?",
                (room_id,),
            )
            burn_log = [
                line
                for line in server_a.log_text().splitlines()
                if "modules.burn" in line or event_id in line
            ]
            raise AssertionError(
                f"{e}; tracked {tracked}; receipts {receipts};"
                f" burn log {burn_log[-20:]}"
            ) from e

    async def test_audit_records_show_the_remote_side(self) -> None:
        world = await self.world()
        a = world["a"]
        zhang = a.officers["zhang"]
        zhao = world["b"].officers["zhao"]
        auditor = self.user("a", "auditor")
        await a.boss.ok(
            "PUT",
            f"/_jwwx/admin/v1/admins/roles/{quote(auditor.user_id)}",
            {"roles": ["audit"]},
        )
        room_id = await zhang.nio.create_room(invite=[zhao.user_id])
        await zhao.nio.join(room_id)
        status, sent = await zhao.client.send_text(room_id, "审计可见的跨域消息")
        self.assertEqual(status, 200, sent)

        async def archived() -> dict[str, Any] | None:
            page = await auditor.ok(
                "GET", f"{AUDIT}/export/message?after_seq=0&limit=500"
            )
            for record in page["records"]:
                if record["record"].get("event_id") == sent["event_id"]:
                    return dict(record["record"])
            return None

        record = await wait_for(archived)
        self.assertEqual(record["sender"], zhao.user_id)
        self.assertEqual(record["origin"], self.name("b"))
        self.assertEqual(record["remote_domains"], [self.name("b")])
        self.assertIn(zhang.user_id, record["recipients"])

    # Units not permitted.

    async def test_unit_not_permitted_cannot_invite_across(self) -> None:
        world = await self.world()
        li = world["a"].officers["li"]
        zhao = world["b"].officers["zhao"]
        room_id = await li.client.create_room()
        answer = await li.nio.invite(room_id, zhao.user_id)
        self.assertNotIsInstance(answer, RoomInviteResponse)
        code, body = await invite(li.client, room_id, zhao.user_id)
        self.assertEqual((code, body.get("errcode")), (403, FORBIDDEN), body)

    async def test_unit_not_permitted_cannot_be_invited_across(self) -> None:
        """b refuses the invite of its 交警支队 officer; a's inviter gets b's answer."""
        world = await self.world()
        zhang = world["a"].officers["zhang"]
        sun = world["b"].officers["sun"]
        room_id = await zhang.client.create_room()
        code, body = await invite(zhang.client, room_id, sun.user_id)
        self.assertEqual((code, body.get("errcode")), (403, FORBIDDEN), body)
        members = await zhang.client.ok(
            "GET", f"/_matrix/client/v3/rooms/{quote(room_id)}/joined_members"
        )
        self.assertNotIn(sun.user_id, members["joined"])

    # 通讯录互见: the federated directory query.

    async def test_peer_finds_published_officers_by_name_and_pinyin(self) -> None:
        world = await self.world()
        zhao = world["b"].officers["zhao"]
        code, found = await search_peer(zhao, self.name("a"), "张三丰")
        self.assertEqual(code, 200, found)
        self.assertEqual(names(found), ["张三丰"])
        person = found["results"][0]
        self.assertEqual(person["user_id"], world["a"].officers["zhang"].user_id)
        self.assertEqual(person["position"], "侦查员")
        self.assertNotIn("mobile", person)  # not a published field
        self.assertEqual([d["name"] for d in person["departments"]], ["刑侦支队"])
        code, by_pinyin = await search_peer(zhao, self.name("a"), "zhangsanfeng")
        self.assertEqual((code, names(by_pinyin)), (200, ["张三丰"]), by_pinyin)

    async def test_peer_lists_and_opens_published_apps(self) -> None:
        """应用互通: b's officer lists the apps a publishes to b and opens one; a's app
        redeems the code as his openid (no member of a); other apps, other units and
        untrusted pages are refused."""
        world = await self.world()
        zhao, sun = world["b"].officers["zhao"], world["b"].officers["sun"]
        a = self.name("a")
        app = type(self)._app
        listed = await zhao.client.ok(
            "GET", f"{CLIENT}/apps?{urlencode({'server': a})}"
        )
        self.assertEqual(
            listed["apps"], [{"agentid": app["agentid"], "name": "跨域案件协查"}]
        )

        async def open_app(who: Any, agentid: int, url: str) -> tuple[int, Any]:
            body = {"server": a, "agentid": agentid, "url": url}
            return await who.client.request("POST", f"{CLIENT}/apps/open", body)

        page = "https://h5.a.example/case?from=peer"
        code, opened = await open_app(zhao, app["agentid"], page)
        self.assertEqual(code, 200, opened)
        parts = urlsplit(opened["url"])
        self.assertEqual((parts.netloc, parts.path), ("h5.a.example", "/case"))
        params = dict(parse_qsl(parts.query))
        self.assertEqual(params["from"], "peer")
        boss = world["a"].boss
        token = await wecom(
            boss, "gettoken", corpid=f"jwwx-{a}", corpsecret=app["secret"]
        )
        info = await wecom(
            boss, "auth/getuserinfo", token["access_token"], code=params["code"]
        )
        self.assertEqual((info["errcode"], info.get("openid")), (0, zhao.user_id), info)
        self.assertNotIn("userid", info)
        again = await wecom(
            boss, "auth/getuserinfo", token["access_token"], code=params["code"]
        )
        self.assertEqual(again["errcode"], 40029)  # single use
        # A visitor is no member: user/get does not know his openid (as WeCom; 60111
        # for an app whose range is the whole directory).
        member = await wecom(
            boss, "user/get", token["access_token"], userid=zhao.user_id
        )
        self.assertEqual(member["errcode"], 60011, member)
        # Not published, not permitted (b refuses its 交警支队), not the app's domain.
        code, body = await open_app(zhao, app["agentid"] + 1000, page)
        self.assertEqual((code, body.get("errcode")), (403, FORBIDDEN), body)
        code, body = await open_app(sun, app["agentid"], page)
        self.assertEqual((code, body.get("errcode")), (403, FORBIDDEN), body)
        code, body = await open_app(zhao, app["agentid"], "https://evil.example/x")
        self.assertEqual((code, body.get("errcode")), (400, "M_INVALID_PARAM"), body)

    async def test_hidden_and_unpublished_stay_hidden(self) -> None:
        world = await self.world()
        zhao = world["b"].officers["zhao"]
        for text in ("王五岳", "李四海", "wangwuyue"):
            code, found = await search_peer(zhao, self.name("a"), text)
            self.assertEqual((code, found["results"]), (200, []), text)
        # b publishes its whole tree to a, but no field beyond the name.
        zhang = world["a"].officers["zhang"]
        code, found = await search_peer(zhang, self.name("b"), "孙七星")
        self.assertEqual(code, 200, found)
        self.assertEqual(sorted(found["results"][0]), ["name", "user_id", "userid"])

    async def test_unit_not_permitted_cannot_search_across(self) -> None:
        world = await self.world()
        sun = world["b"].officers["sun"]
        code, body = await search_peer(sun, self.name("a"), "张三丰")
        self.assertEqual((code, body.get("errcode")), (403, FORBIDDEN), body)

    def _agent(self) -> Agent:
        """An HTTPS client trusting the test CA (a peer server's view)."""
        context = twisted_ssl.optionsForClientTLS(
            "localhost",
            twisted_ssl.Certificate.loadPEM(self.ca_cert.read_bytes()),
        )

        class _Policy(BrowserLikePolicyForHTTPS):
            def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
                return context

        return Agent(
            reactor,
            contextFactory=_Policy(),
            pool=HTTPConnectionPool(reactor, persistent=False),
        )

    async def _signed_get(self, origin: str, target: str, uri: str) -> tuple[int, Any]:
        """GET `uri` of server `target` signed by server `origin`'s own signing key
        (the X-Matrix scheme), as the peer's module would send it."""
        key_file = self.server(origin).data_dir / "keys" / "signing.key"
        key = signedjson.key.read_signing_keys(key_file.read_text().splitlines())[0]
        origin_name, target_name = self.name(origin), self.name(target)
        signed = signedjson.sign.sign_json(
            {
                "method": "GET",
                "uri": uri,
                "origin": origin_name,
                "destination": target_name,
            },
            origin_name,
            key,
        )
        key_id = f"ed25519:{key.version}"
        sig = signed["signatures"][origin_name][key_id]
        header = (
            f'X-Matrix origin="{origin_name}",destination="{target_name}",'
            f'key="{key_id}",sig="{sig}"'
        )
        response = await treq.get(
            self.server(target).https_url + uri,
            agent=self._agent(),
            headers={"Authorization": [header]},
        )
        return response.code, await response.json()

    async def test_federation_endpoint_refuses_unsigned_requests(self) -> None:
        """Only a peer server's signed request is answered, over HTTPS."""
        await self.world()
        agent = self._agent()
        url = f"{self.server('a').https_url}{FEDERATION}/directory/search?q=张三丰"
        response = await treq.get(url, agent=agent)
        body = await response.json()
        self.assertEqual(response.code, 401, body)
        forged = await treq.get(
            url,
            agent=agent,
            headers={
                "Authorization": [
                    f'X-Matrix origin="{self.name("b")}",key="ed25519:a_x",sig="AAAA"'
                ]
            },
        )
        self.assertIn(forged.code, (401, 403), await forged.text())

    # The admin API.

    async def test_policy_admin_api(self) -> None:
        world = await self.world()
        boss = world["a"].boss
        peers = await boss.ok("GET", f"{ADMIN}/peers")
        self.assertEqual([p["domain"] for p in peers["peers"]], [self.name("b")])
        # A policy may wait for the allow-list: it shows as such.
        other = "other.police:8448"
        await boss.ok("PUT", f"{ADMIN}/peers/{other}", {"units": "*"})
        peers = await boss.ok("GET", f"{ADMIN}/peers")
        self.assertEqual(
            {p["domain"]: p["allowed"] for p in peers["peers"]},
            {self.name("b"): True, other: False},
        )
        await boss.ok("DELETE", f"{ADMIN}/peers/{other}")
        code, body = await boss.request("DELETE", f"{ADMIN}/peers/{other}")
        self.assertEqual(code, 404, body)
        code, body = await boss.request("PUT", f"{ADMIN}/peers/bad%20name", {})
        self.assertEqual((code, body.get("errcode")), (400, "M_INVALID_PARAM"), body)
        code, body = await boss.request(
            "PUT", f"{ADMIN}/peers/{quote(self.name('b'))}", {"units": ["x"]}
        )
        self.assertEqual((code, body.get("errcode")), (400, "M_INVALID_PARAM"), body)
        officer = world["a"].officers["li"]
        code, body = await officer.client.request("GET", f"{ADMIN}/peers")
        self.assertEqual(code, 403, body)
        # Bad input changed nothing.
        again = await boss.ok("GET", f"{ADMIN}/peers/{quote(self.name('b'))}")
        self.assertEqual(again["units"], [world["a"].units["刑侦支队"]])

    async def test_policy_change_takes_effect(self) -> None:
        """b withdraws 治安支队's permission: a's officer can no longer invite 赵六合
        (refused by b), and b's directory is closed to a; restored afterwards."""
        world = await self.world()
        b = world["b"]
        zhang = world["a"].officers["zhang"]
        zhao = b.officers["zhao"]
        old = await b.boss.ok("GET", f"{ADMIN}/peers/{quote(self.name('a'))}")
        await b.boss.ok("DELETE", f"{ADMIN}/peers/{quote(self.name('a'))}")
        try:
            room_id = await zhang.client.create_room()
            code, body = await invite(zhang.client, room_id, zhao.user_id)
            self.assertEqual((code, body.get("errcode")), (403, FORBIDDEN), body)
            code, found = await search_peer(zhang, self.name("b"), "赵六合")
            self.assertEqual((code, found.get("results")), (200, []), found)
        finally:
            policy = {k: old[k] for k in ("units", "directory", "apps")}
            await b.boss.ok("PUT", f"{ADMIN}/peers/{quote(self.name('a'))}", policy)

        async def invited() -> bool:
            room = await zhang.client.create_room()
            code, _ = await invite(zhang.client, room, zhao.user_id)
            return code == 200

        # Each process re-reads a policy after policy_cache_seconds at most.
        await wait_for(invited, attempts=180, delay=0.5)


class CrossDomainSQLiteTest(PeerTests, FederationCase):
    """a and b allow-list each other; c allow-lists a, which does not allow-list c."""

    domains: ClassVar[dict[str, tuple[str, ...]]] = {
        "a": ("b",),
        "b": ("a",),
        "c": ("a",),
    }

    async def test_domain_not_allow_listed_reaches_nothing(self) -> None:
        """c allow-lists a, a does not allow-list c: nothing passes either way."""
        world = await self.world()
        zhou = world["c"].officers["zhou"]
        zhang = world["a"].officers["zhang"]
        room_id = await zhou.client.create_room()
        code, body = await invite(zhou.client, room_id, zhang.user_id)
        self.assertEqual(code, 403, body)
        own = await zhang.client.create_room()
        code, body = await invite(zhang.client, own, zhou.user_id)
        self.assertEqual(code, 403, body)
        code, body = await search_peer(zhou, self.name("a"), "张三丰")
        self.assertEqual(code, 403, body)
        sync = await zhang.client.sync()
        self.assertNotIn(room_id, sync.get("rooms", {}).get("invite", {}))

    async def test_bad_input_from_a_peer(self) -> None:
        """b's signed requests to a: an app opened for a user who is not b's, an
        oversized query or url — refused, nothing issued; a replayed search answers
        the same and changes nothing."""
        world = await self.world()
        agentid = type(self)._app["agentid"]
        page = "https://h5.a.example/case"
        for user_id, status in (
            (world["a"].officers["zhang"].user_id, 403),  # a's own officer
            (f"@nobody:{self.name('c')}", 403),  # another domain's
        ):
            args = urlencode({"agentid": agentid, "user_id": user_id, "url": page})
            code, body = await self._signed_get(
                "b", "a", f"{FEDERATION}/apps/open?{args}"
            )
            self.assertEqual((code, body.get("errcode")), (status, FORBIDDEN), body)
        zhao = world["b"].officers["zhao"].user_id
        args = urlencode(
            {"agentid": agentid, "user_id": zhao, "url": page + "?" + "x" * 2100}
        )
        code, body = await self._signed_get("b", "a", f"{FEDERATION}/apps/open?{args}")
        self.assertEqual((code, body.get("errcode")), (400, "M_INVALID_PARAM"), body)
        code, body = await self._signed_get(
            "b", "a", f"{FEDERATION}/directory/search?{urlencode({'q': '张' * 65})}"
        )
        self.assertEqual((code, body.get("errcode")), (400, "M_INVALID_PARAM"), body)
        uri = f"{FEDERATION}/directory/search?{urlencode({'q': '张三丰'})}"
        first = await self._signed_get("b", "a", uri)
        self.assertEqual(await self._signed_get("b", "a", uri), first)
        self.assertEqual(first[0], 200, first)


class CrossDomainPostgresTest(PeerTests, FederationCase):
    engine = "postgres"
    domains: ClassVar[dict[str, tuple[str, ...]]] = {"a": ("b",), "b": ("a",)}
