# SPDX-License-Identifier: AGPL-3.0-or-later
"""Speech to text for open-API apps over HTTP on both engines, in the shape of WeChat's
voice recognition API (/cgi-bin/media/voice/addvoicetorecofortext, then
queryrecoresultfortext), against the stand-in engine: refused until an admin grants
the app the right "asr" (the open API's one table of app rights, beside "ocr"), the
audio raw or as a form, WeCom errcodes for bad input, another app never reads the
result, the engine down, a revoked app. Then an older install's OCR grants (the former
jwwx_ocr_apps) moved into the shared table on start-up, kept as they were."""

import json
import sqlite3
from typing import Any, ClassVar
from urllib.parse import urlencode

from twisted.internet import reactor, threads
from twisted.web.client import HTTPConnectionPool

import treq

from tests.harness import postgres
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.server import TestServer, free_port
from tests.modules.openapi.helpers import create_app, sleep, token_for

from . import standin
from .test_asr import MAX_AUDIO, voice

ENGINE_PORT = free_port()
ADD = "/cgi-bin/media/voice/addvoicetorecofortext"
QUERY = "/cgi-bin/media/voice/queryrecoresultfortext"
RIGHTS = "/_jwwx/admin/v1"
BOUNDARY = "----jwwxvoice5e1b"
_pool = HTTPConnectionPool(reactor, persistent=False)


async def cgi(
    base: str,
    path: str,
    params: dict[str, str],
    body: bytes = b"",
    content_type: str = "audio/wav",
    field: str | None = None,
) -> dict[str, Any]:
    """POST a /cgi-bin call; with `field`, the audio in a multipart form."""
    if field is not None:
        body = (
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}";'
                f' filename="v.mp3"\r\nContent-Type: {content_type}\r\n\r\n'
            ).encode()
            + body
            + f"\r\n--{BOUNDARY}--\r\n".encode()
        )
        content_type = f"multipart/form-data; boundary={BOUNDARY}"
    response = await treq.post(
        f"{base}{path}?{urlencode(params)}",
        data=body,
        headers={"Content-Type": [content_type]},
        pool=_pool,
    )
    answer = json.loads(await response.content())
    assert response.code == 200, answer
    return dict(answer)


def _sql(server: TestServer, statement: str, args: tuple[Any, ...] = ()) -> list[Any]:
    """Run one statement on the server's database (an older install's leftovers)."""
    if server.engine == "sqlite":
        conn: Any = sqlite3.connect(server.data_dir / "homeserver.db", timeout=30)
    else:
        assert server.pg_database is not None
        conn = postgres.connect(server.pg_database)
        statement = statement.replace("?", "%s")
    try:
        cur = conn.cursor()
        cur.execute(statement, args)
        rows = list(cur.fetchall()) if cur.description else []
        conn.commit()
        return rows
    finally:
        conn.close()


class AppAsrTests:
    server: Any
    user: Any
    anonymous: Any
    assertEqual: Any
    assertIn: Any
    assertNotIn: Any
    asr_engine: ClassVar[standin.Engine]
    module_config: ClassVar[dict[str, dict[str, Any]]] = {
        "modules.asr.AsrModule": {
            "engine": {"protocol": "openai", "url": f"http://127.0.0.1:{ENGINE_PORT}"},
            "max_audio_bytes": MAX_AUDIO,
        }
    }

    @classmethod
    def prepare_class(cls) -> None:
        cls.asr_engine = standin.Engine(ENGINE_PORT)
        cls.asr_engine.start()

    @classmethod
    def finish_class(cls) -> None:
        cls.asr_engine.stop()

    async def test_a_speech_to_text_for_granted_apps(self) -> None:
        boss = self.user("asrboss", admin=True)
        app = await create_app(boss, name="语音录入应用")
        other = await create_app(boss, name="另一个应用")
        base = self.server.base_url
        token = await token_for(self.anonymous(), app["secret"])
        other_token = await token_for(self.anonymous(), other["secret"])
        audio = voice(0.4, 480)
        type(self).asr_engine.teach(audio, "请立即到现场")

        def call(t: str, **params: str) -> dict[str, str]:
            return {"access_token": t, **params}

        # Not granted: nothing reaches the engine.
        calls = len(type(self).asr_engine.calls)
        refused = await cgi(base, ADD, call(token, voice_id="v1"), audio)
        self.assertEqual(refused["errcode"], 48002, refused)
        self.assertEqual(len(type(self).asr_engine.calls), calls)

        grants = f"{RIGHTS}/asr/apps"
        await boss.ok("PUT", f"{grants}/{app['agentid']}")
        self.assertEqual((await boss.ok("GET", grants))["agentids"], [app["agentid"]])
        # One table, one right per capability: the OCR page does not list it.
        ocr = (await boss.ok("GET", f"{RIGHTS}/ocr/apps"))["agentids"]
        self.assertNotIn(app["agentid"], ocr)

        added = await cgi(base, ADD, call(token, voice_id="v1", lang="zh_CN"), audio)
        self.assertEqual((added["errcode"], added["errmsg"]), (0, "ok"))
        self.assertEqual(type(self).asr_engine.calls[-1]["language"], "zh")
        result = await cgi(base, QUERY, call(token, voice_id="v1"))
        self.assertEqual((result["errcode"], result["result"]), (0, "请立即到现场"))
        # A WeChat SDK's form ("media" field, octet-stream named by format=), English.
        english = voice(0.3, 700)
        type(self).asr_engine.teach(english, "report to the command centre")
        form = await cgi(
            base,
            ADD,
            call(token, voice_id="v-2", lang="en_US", format="mp3"),
            english,
            "application/octet-stream",
            field="media",
        )
        self.assertEqual(form["errcode"], 0, form)
        self.assertEqual(type(self).asr_engine.calls[-1]["language"], "en")
        result = await cgi(base, QUERY, call(token, voice_id="v-2"))
        self.assertEqual(result["result"], "report to the command centre")

        # Bad input: WeCom errcodes, the engine not asked.
        calls = len(type(self).asr_engine.calls)
        for params, body, ctype, errcode in (
            (call(token), audio, "audio/wav", 40058),
            (call(token, voice_id="有空格 的"), audio, "audio/wav", 40058),
            (call(token, voice_id="x" * 129), audio, "audio/wav", 40058),
            (call(token, voice_id="v3", lang="fr_FR"), audio, "audio/wav", 40058),
            (call(token, voice_id="v3", format="exe"), audio, "audio/wav", 40058),
            (call(token, voice_id="v3"), b"", "audio/wav", 41005),
            (call(token, voice_id="v3"), b"\x89PNG....", "image/png", 40005),
            (call(token, voice_id="v3"), b"0" * (MAX_AUDIO + 1), "audio/wav", 40006),
            (call("not-a-token", voice_id="v3"), audio, "audio/wav", 40014),
        ):
            answer = await cgi(base, ADD, params, body, ctype)
            self.assertEqual(answer["errcode"], errcode, (params, answer))
        self.assertEqual(len(type(self).asr_engine.calls), calls)
        missing = await cgi(base, QUERY, call(token, voice_id="never"))
        self.assertEqual(missing["errcode"], 46001, missing)

        # Another app, even granted, never reads this app's results.
        await boss.ok("PUT", f"{grants}/{other['agentid']}")
        theirs = await cgi(base, QUERY, call(other_token, voice_id="v1"))
        self.assertEqual(theirs["errcode"], 46001, theirs)

        # The engine down: system busy, nothing kept; a revoked app is refused.
        type(self).asr_engine.stop()
        try:
            down = await cgi(base, ADD, call(token, voice_id="v4"), voice(0.2, 900))
        finally:
            type(self).asr_engine.start()
        self.assertEqual(down["errcode"], -1, down)
        gone = await cgi(base, QUERY, call(token, voice_id="v4"))
        self.assertEqual(gone["errcode"], 46001)
        await boss.ok("DELETE", f"{grants}/{app['agentid']}")
        for path in (ADD, QUERY):
            answer = await cgi(base, path, call(token, voice_id="v1"), audio)
            self.assertEqual(answer["errcode"], 48002, answer)

    async def test_b_older_ocr_grants_are_moved(self) -> None:
        boss = self.user("ocrlegacy", admin=True)
        app = await create_app(boss, name="老的识别应用")
        # As a server of an earlier session left it: the grant in jwwx_ocr_apps.
        await threads.deferToThread(
            _sql,
            self.server,
            "INSERT INTO jwwx_ocr_apps (agentid, granted_by, granted_ts)"
            " VALUES (?, ?, ?)",
            (app["agentid"], boss.user_id, 1700000000000),
        )
        await threads.deferToThread(self.server.restart)
        for _ in range(400):  # moved in the background once the modules are up
            status, answer = await boss.request("GET", f"{RIGHTS}/ocr/apps")
            if status == 200 and app["agentid"] in answer["agentids"]:
                break
            await sleep(0.25)
        else:
            raise AssertionError(f"the OCR grant was not kept: {answer}")
        rows = await threads.deferToThread(
            _sql,
            self.server,
            "SELECT granted_by, granted_ts FROM jwwx_openapi_app_rights"
            " WHERE agentid = ? AND capability = 'ocr'",
            (app["agentid"],),
        )
        self.assertEqual([tuple(r) for r in rows], [(boss.user_id, 1700000000000)])
        left = await threads.deferToThread(
            _sql, self.server, "SELECT COUNT(*) FROM jwwx_ocr_apps"
        )
        self.assertEqual(left[0][0], 0)


class AppAsrSQLiteTest(AppAsrTests, SQLiteCase):
    pass


class AppAsrPostgresTest(AppAsrTests, PostgresCase):
    pass
