# SPDX-License-Identifier: AGPL-3.0-or-later
"""OCR of image messages over HTTP on both engines: an ID card photographed into a
chat read into its fields and forwarded to another chat in the same call; a driving
licence; and the refusals (not a message for him, not an image, burn-after-read, a
forward target he is not in — checked before anything is read)."""

import random
from typing import Any

from benchmarks.ocr_cards import (
    back_fields,
    degrade,
    person,
    png,
    render_driving_licence,
    render_id_card,
    render_id_card_back,
)
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.modules.openapi.helpers import create_app, token_for, upload

OCR = "/_jwwx/client/v1/ocr/recognise"
OCR_ADMIN = "/_jwwx/admin/v1/ocr"
UPLOAD = "/_matrix/media/v3/upload?filename=card.png"
# OCR is CPU-bound: on a loaded 2-core machine one image can take several seconds.
SLOW = 240.0


class OcrTests:
    user: Any
    assertEqual: Any
    assertIn: Any
    assertTrue: Any
    assertErrcode: Any

    async def _image(
        self, client: MatrixClient, room: str, data: bytes, **extra: Any
    ) -> str:
        status, uploaded = await client.request("POST", UPLOAD, raw=data)
        self.assertEqual(status, 200, uploaded)
        content = {
            "msgtype": "m.image",
            "body": "card.png",
            "url": uploaded["content_uri"],
            "info": {"mimetype": "image/png", "size": len(data)},
            **extra,
        }
        status, sent = await client.send(room, content)
        self.assertEqual(status, 200, sent)
        return str(sent["event_id"])

    async def _chat(self) -> tuple[MatrixClient, MatrixClient, str]:
        alice, bob = self.user("ocra"), self.user("ocrb")
        room = await alice.create_room(preset="private_chat", invite=[bob.user_id])
        await bob.join(room)
        return alice, bob, room

    async def test_id_card_read_and_forwarded(self) -> None:
        alice, bob, room = await self._chat()
        group = await bob.create_room(preset="private_chat", name="专案组")
        who = person(random.Random(11))
        data = degrade(render_id_card(who), random.Random(2), quality=80)
        event_id = await self._image(alice, room, data)
        status, answer = await bob.request(
            "POST",
            OCR,
            {
                "room_id": room,
                "event_id": event_id,
                "kind": "idcard",
                "forward_to": [group],
            },
            timeout=SLOW,
        )
        self.assertEqual(status, 200, answer)
        fields = answer["fields"]
        self.assertEqual(
            (fields["name"], fields["sex"], fields["id_number"]),
            (who.name, who.sex, who.number),
            answer["text"],
        )
        self.assertTrue(fields["id_number_valid"] and fields["consistent"], fields)
        self.assertEqual(
            (fields["side"], fields["birth"]), ("front", who.birth.isoformat())
        )
        self.assertIn(who.number, answer["text"])
        # The text is now Bob's own message in the group.
        [forwarded] = answer["forwarded"]
        self.assertEqual(forwarded["room_id"], group)
        timeline = await bob.messages(group)
        sent = next(e for e in timeline if e["event_id"] == forwarded["event_id"])
        self.assertEqual(
            (sent["sender"], sent["content"]["body"]), (bob.user_id, answer["text"])
        )

    async def test_refusals_read_nothing(self) -> None:
        alice, bob, room = await self._chat()
        stranger = self.user("ocrc")
        image = png(render_id_card(person(random.Random(5))))
        event_id = await self._image(alice, room, image)
        status, text = await alice.send_text(room, "不是图片")
        self.assertEqual(status, 200)
        broken = await self._image(alice, room, b"not an image at all")
        burn = await self._image(
            alice, room, image, **{"org.matrix.self_destruct": 60000}
        )
        elsewhere = await stranger.create_room(preset="private_chat")
        cases = [
            (stranger, {"room_id": room, "event_id": event_id}, 404, "M_NOT_FOUND"),
            (bob, {"room_id": room, "event_id": "$nope"}, 404, "M_NOT_FOUND"),
            (
                bob,
                {"room_id": room, "event_id": text["event_id"]},
                400,
                "CN_JWWX_OCR_NOT_AN_IMAGE",
            ),
            (
                bob,
                {"room_id": room, "event_id": broken},
                400,
                "CN_JWWX_OCR_NOT_AN_IMAGE",
            ),
            (
                bob,
                {"room_id": room, "event_id": burn},
                403,
                "CN_JWWX_OCR_BURN_AFTER_READ",
            ),
            (
                bob,
                {"room_id": room, "event_id": event_id, "kind": "passport"},
                400,
                "M_INVALID_PARAM",
            ),
            (
                bob,
                {"room_id": room, "event_id": event_id, "forward_to": [elsewhere]},
                403,
                "M_FORBIDDEN",
            ),
            (
                bob,
                {"room_id": room, "event_id": event_id, "forward_to": "x"},
                400,
                "M_INVALID_PARAM",
            ),
            (bob, {"room_id": room}, 400, "M_INVALID_PARAM"),
        ]
        for client, body, status_code, errcode in cases:
            self.assertErrcode(
                await client.request("POST", OCR, body, timeout=SLOW),
                status_code,
                errcode,
            )
        # Nothing was forwarded anywhere.
        self.assertEqual(
            [
                e
                for e in await stranger.messages(elsewhere)
                if e["type"] == "m.room.message"
            ],
            [],
        )


class OcrSQLiteTest(OcrTests, SQLiteCase):
    async def test_driving_licence(self) -> None:
        alice, bob, room = await self._chat()  # type: ignore[attr-defined]
        rng = random.Random(7)
        image, expected = render_driving_licence(person(rng), rng)
        event_id = await self._image(alice, room, degrade(image, rng, quality=85))
        status, answer = await bob.request(
            "POST",
            OCR,
            {"room_id": room, "event_id": event_id, "kind": "driverlicense"},
            timeout=SLOW,
        )
        self.assertEqual(status, 200, answer)
        got = {
            k: answer["fields"][k]
            for k in ("licence_number", "name", "class", "valid_to")
        }
        self.assertEqual(got, {k: expected[k] for k in got}, answer["text"])

    async def test_id_card_back(self) -> None:
        # kind idcard on the card's back: its side told, 签发机关 and 有效期限 read.
        alice, bob, room = await self._chat()  # type: ignore[attr-defined]
        rng = random.Random(9)
        back = back_fields(person(rng), rng)
        image = degrade(render_id_card_back(back), rng, quality=80)
        event_id = await self._image(alice, room, image)
        status, answer = await bob.request(
            "POST",
            OCR,
            {"room_id": room, "event_id": event_id, "kind": "idcard"},
            timeout=SLOW,
        )
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["fields"], {"side": "back", **back}, answer["text"])


class OcrPostgresTest(OcrTests, PostgresCase):
    async def test_open_api_ocr_for_granted_apps(self) -> None:
        boss = self.user("ocrboss", admin=True)  # type: ignore[attr-defined]
        app = await create_app(boss, name="核录应用")
        other = await create_app(boss, name="未授权应用")
        base = self.server.base_url  # type: ignore[attr-defined]
        client = self.anonymous()  # type: ignore[attr-defined]
        token = await token_for(client, app["secret"])
        who = person(random.Random(21))
        card = degrade(render_id_card(who), random.Random(4), quality=85)

        async def idcard(t: str, data: bytes) -> dict[str, Any]:
            status, answer = await upload(
                base, t, "image", "card.jpg", data, "image/jpeg", path="ocr/idcard"
            )
            self.assertEqual(status, 200)
            assert answer is not None
            return answer

        # Not granted yet: nothing is read.
        self.assertEqual((await idcard(token, card))["errcode"], 48002)
        grants = f"{OCR_ADMIN}/apps"
        await boss.ok("PUT", f"{grants}/{app['agentid']}")
        self.assertEqual((await boss.ok("GET", grants))["agentids"], [app["agentid"]])
        self.assertErrcode(
            await boss.request("PUT", f"{grants}/987654321"), 404, "M_NOT_FOUND"
        )
        self.assertErrcode(
            await self.user("ocrofficer").request(  # type: ignore[attr-defined]
                "PUT", f"{grants}/{other['agentid']}"
            ),
            403,
            "M_FORBIDDEN",
        )
        answer = await idcard(token, card)
        self.assertEqual(answer["errcode"], 0, answer)
        self.assertEqual(
            (answer["name"], answer["id"], answer["gender"], answer["id_valid"]),
            (who.name, who.number, who.sex, True),
        )
        self.assertEqual((await idcard(token, b"GIF89a-not-really"))["errcode"], 40005)
        # The card's back: WeChat's "Back" answer with its validity, and the office.
        rng = random.Random(13)
        back = back_fields(person(rng), rng)
        answer = await idcard(
            token, degrade(render_id_card_back(back), rng, quality=85)
        )
        self.assertEqual(
            (answer["type"], answer["authority"], answer["valid_to"]),
            ("Back", back["authority"], back["valid_to"]),
            answer,
        )
        compact = back["valid_from"].replace("-", "")
        self.assertTrue(answer["valid_date"].startswith(compact + "-"), answer)
        # The other app was never granted; a revoked one no longer is.
        other_token = await token_for(client, other["secret"])
        self.assertEqual((await idcard(other_token, card))["errcode"], 48002)
        await boss.ok("DELETE", f"{grants}/{app['agentid']}")
        self.assertEqual((await idcard(token, card))["errcode"], 48002)
