# SPDX-License-Identifier: AGPL-3.0-or-later
"""The WeCom-compatible endpoints under /cgi-bin/ (paths, parameters and JSON as WeCom's).

Every answer is HTTP 200 with {"errcode", "errmsg", ...}. Except gettoken, each call
needs ?access_token= and comes from an address in the app's IP allow-list (when it has
one; the client address as Synapse sees it, i.e. X-Forwarded-For only behind a proxy).
"""

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from synapse.module_api import ModuleApi

from modules.asr import public as asr_public
from modules.common import registry
from modules.common.admin import member_quotas
from modules.common.http import WECOM, RawBody, Router
from modules.common.inputs import decimal, parse_json, query_param, read_body
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.http import multipart_content_type
from modules.directory import public as directory_public
from modules.ocr import public as ocr_public
from modules.openapi import directory_api as dapi
from modules.openapi import errors
from modules.openapi.errors import WeComError
from modules.openapi.jsapi import CORP, JsApi
from modules.openapi.media import MediaStore, parse_upload
from modules.openapi.messages import Messenger
from modules.openapi.oauth import OAuth
from modules.openapi.ratelimit import RateLimiter
from modules.openapi.scope import scope_txn
from modules.openapi.storage import App
from modules.openapi.tokens import TokenService

logger = logging.getLogger(__name__)

CGI_PREFIX = "/cgi-bin"
BATCH_DELETE_MAX = 200  # WeCom's limit for user/batchdelete
MAX_UPLOAD_BYTES = 21 * 1024 * 1024
# WeChat's voice recognition (WeCom has none): submit, then fetch the result.
VOICE_ADD = "media/voice/addvoicetorecofortext"
VOICE_QUERY = "media/voice/queryrecoresultfortext"
VOICE_FORMATS = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "amr": "audio/amr",
    "speex": "audio/speex",
    "ogg": "audio/ogg",
    "opus": "audio/opus",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "webm": "audio/webm",
    "flac": "audio/flac",
}
MAX_VOICE_ID = 128

Handler = Callable[[Any, App], Awaitable[Any]]
RouteHandler = Callable[[Any], Awaitable[tuple[int, Any]]]


class CgiResource(Router):
    prefix = CGI_PREFIX
    dialect = WECOM
    headers = ((b"Cache-Control", b"no-cache, no-store, must-revalidate"),)

    def __init__(
        self,
        api: ModuleApi,
        runtime: ModuleRuntime,
        tokens: TokenService,
        messenger: Messenger,
        media: MediaStore,
        jsapi: JsApi,
        oauth: OAuth,
        rate_limit_per_minute: int = 0,
    ) -> None:
        super().__init__(api)
        self._api = api
        self._runtime = runtime
        self._tokens = tokens
        self._messenger = messenger
        self._media = media
        self._jsapi = jsapi
        self._oauth = oauth
        self._rate_limiter = RateLimiter(api, rate_limit_per_minute)
        self.route("GET", "gettoken", self.gettoken)
        self.route("POST", "gettoken", self.gettoken)
        routes: dict[str, tuple[str, Handler]] = {
            "user/get": ("GET", self.user_get),
            "user/create": ("POST", self.user_create),
            "user/update": ("POST", self.user_update),
            "user/delete": ("GET", self.user_delete),
            "user/batchdelete": ("POST", self.user_batch_delete),
            "user/list": ("GET", self.user_list),
            "user/simplelist": ("GET", self.user_simplelist),
            "department/list": ("GET", self.department_list),
            "department/create": ("POST", self.department_create),
            "department/update": ("POST", self.department_update),
            "department/delete": ("GET", self.department_delete),
            "department/simplelist": ("GET", self.department_simplelist),
            "tag/create": ("POST", self.tag_create),
            "tag/update": ("POST", self.tag_update),
            "tag/delete": ("GET", self.tag_delete),
            "tag/list": ("GET", self.tag_list),
            "tag/get": ("GET", self.tag_get),
            "tag/addtagusers": ("POST", self.tag_add_users),
            "tag/deltagusers": ("POST", self.tag_del_users),
            "message/send": ("POST", self.message_send),
            "message/recall": ("POST", self.message_recall),
            "media/upload": ("POST", self.media_upload),
            "media/get": ("GET", self.media_get),
            "get_jsapi_ticket": ("GET", self.jsapi_ticket),
            "ticket/get": ("GET", self.agent_ticket),
            "auth/getuserinfo": ("GET", self.getuserinfo),
            "user/getuserinfo": ("GET", self.getuserinfo),
            "ocr/idcard": ("POST", self.ocr_idcard),
            "ocr/driverlicense": ("POST", self.ocr_driverlicense),
            "ocr/general": ("POST", self.ocr_general),
            VOICE_ADD: ("POST", self.voice_add),
            VOICE_QUERY: ("POST", self.voice_query),
        }
        for path, (method, handler) in routes.items():
            self.route(method, path, self._as_app(handler))

    def translate_error(self, exc: Exception) -> Exception | None:
        if isinstance(exc, directory_public.DirectoryError):
            return WeComError.from_directory(exc)
        if isinstance(exc, directory_public.QuotaExceededError):
            return WeComError(errors.NO_PRIVILEGE, exc.message)
        return None

    async def gettoken(self, request: Any) -> tuple[int, Any]:
        await self._runtime.ready()
        return 200, await self._tokens.issue(
            query_param(request, "corpid"),
            query_param(request, "corpsecret"),
            lambda app: self._check_ip(request, app),
        )

    def _as_app(self, handler: Handler) -> RouteHandler:
        """The route of an app's call: its access token, IP allow-list, rate limit."""

        async def call(request: Any) -> tuple[int, Any]:
            await self._runtime.ready()
            app = await self._tokens.check(query_param(request, "access_token"))
            self._check_ip(request, app)
            await self._rate_limiter.check(app.agentid)
            return 200, await handler(request, app)

        return call

    @staticmethod
    def _check_ip(request: Any, app: App) -> None:
        if not app.ip_allowlist:
            return
        host = request.getClientAddress().host
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise WeComError(errors.IP_NOT_ALLOWED, f"from ip: {host}") from None
        for entry in app.ip_allowlist:
            if address in ipaddress.ip_network(entry, strict=False):
                return
        raise WeComError(errors.IP_NOT_ALLOWED, f"from ip: {host}")

    # Helpers.

    @staticmethod
    def _json(request: Any) -> dict[str, Any]:
        raw = read_body(request)
        body = parse_json(raw) if raw.strip() else None
        if not isinstance(body, dict):
            raise WeComError(errors.BAD_JSON, "body must be a JSON object")
        return body

    async def _read(self, app: App, fn: Any, *args: Any) -> Any:
        def read_txn(txn: Any) -> Any:
            return fn(txn, scope_txn(txn, app), *args)

        return await self._api.run_db_interaction("jwwx_openapi_read", read_txn)

    @staticmethod
    def _require_write(app: App) -> None:
        if not app.directory_write:
            raise WeComError(errors.API_FORBIDDEN, "no directory write permission")

    # Users.

    async def user_get(self, request: Any, app: App) -> dict[str, Any]:
        userid = query_param(request, "userid")
        if not userid:
            raise WeComError(errors.MISSING_USERID)
        return dict(await self._read(app, dapi.get_user_txn, userid))

    async def _user_list(self, request: Any, app: App, brief: bool) -> dict[str, Any]:
        department_id = dapi.department_id_arg(query_param(request, "department_id"))
        fetch_child = query_param(request, "fetch_child") == "1"
        return dict(
            await self._read(
                app, dapi.list_users_txn, department_id, fetch_child, brief
            )
        )

    async def user_list(self, request: Any, app: App) -> dict[str, Any]:
        return await self._user_list(request, app, brief=False)

    async def user_simplelist(self, request: Any, app: App) -> dict[str, Any]:
        return await self._user_list(request, app, brief=True)

    async def user_create(self, request: Any, app: App) -> dict[str, Any]:
        self._require_write(app)
        body = dapi.member_body(self._json(request), creating=True)
        # Unit quotas (二级单位授权人数), checked in the directory's write transaction.
        quotas = await member_quotas(self._api)
        await self.directory.admin.create_member(body, app.bot_user_id, quotas)
        return {"errmsg": "created"}

    async def user_update(self, request: Any, app: App) -> dict[str, Any]:
        self._require_write(app)
        raw = self._json(request)
        userid = raw.get("userid")
        if not isinstance(userid, str) or not userid:
            raise WeComError(errors.MISSING_USERID)
        body = dapi.member_body(raw, creating=False)
        body.pop("userid", None)
        # Enabling a member, or moving its main department, counts against quotas.
        quotas = await member_quotas(self._api)
        await self.directory.admin.update_member(userid, body, quotas)
        return {"errmsg": "updated"}

    async def user_delete(self, request: Any, app: App) -> dict[str, Any]:
        self._require_write(app)
        userid = query_param(request, "userid")
        if not userid:
            raise WeComError(errors.MISSING_USERID)
        await self.directory.admin.delete_member(userid)
        return {"errmsg": "deleted"}

    async def user_batch_delete(self, request: Any, app: App) -> dict[str, Any]:
        """{"useridlist": [...]} (1 to 200): all exist, or nothing is deleted."""
        self._require_write(app)
        userids = self._json(request).get("useridlist")
        if (
            not isinstance(userids, list)
            or not 1 <= len(userids) <= BATCH_DELETE_MAX
            or any(not isinstance(u, str) or not u for u in userids)
        ):
            raise WeComError(
                errors.INVALID_PARAMETER,
                f"useridlist: 1 to {BATCH_DELETE_MAX} userids",
            )
        userids = list(dict.fromkeys(userids))
        found = await self._api.run_db_interaction(
            "jwwx_openapi_batch_members", directory_public.get_members_txn, userids
        )
        unknown = [u for u in userids if u not in found]
        if unknown:
            raise WeComError(errors.USERID_NOT_FOUND, f"userid {unknown[0]} not found")
        for userid in userids:
            await self.directory.admin.delete_member(userid)
        return {"errmsg": "deleted"}

    # Departments.

    async def department_list(self, request: Any, app: App) -> dict[str, Any]:
        text = query_param(request, "id")
        department_id = dapi.department_id_arg(text) if text else None
        return dict(await self._read(app, dapi.list_departments_txn, department_id))

    async def department_simplelist(self, request: Any, app: App) -> dict[str, Any]:
        listed = await self.department_list(request, app)
        return {
            "department_id": [
                {"id": d["id"], "parentid": d["parentid"], "order": d["order"]}
                for d in listed["department"]
            ]
        }

    async def department_create(self, request: Any, app: App) -> dict[str, Any]:
        self._require_write(app)
        body = dapi.department_body(self._json(request), creating=True)
        created = await self.directory.admin.create_department(body)
        return {"errmsg": "created", "id": created["id"]}

    async def department_update(self, request: Any, app: App) -> dict[str, Any]:
        self._require_write(app)
        raw = self._json(request)
        department_id = raw.get("id")
        if isinstance(department_id, bool) or not isinstance(department_id, int):
            raise WeComError(errors.INVALID_PARAMETER, "id missing")
        body = dapi.department_body(
            {k: v for k, v in raw.items() if k != "id"}, creating=False
        )
        await self.directory.admin.update_department(department_id, body)
        return {"errmsg": "updated"}

    async def department_delete(self, request: Any, app: App) -> dict[str, Any]:
        self._require_write(app)
        department_id = dapi.department_id_arg(query_param(request, "id"))
        await self.directory.admin.delete_department(department_id)
        return {"errmsg": "deleted"}

    # Tags.

    async def tag_list(self, request: Any, app: App) -> dict[str, Any]:
        return dict(
            await self._api.run_db_interaction("jwwx_openapi_tags", dapi.list_tags_txn)
        )

    def _tag_id(self, value: Any) -> int:
        number = decimal(value, 12) if isinstance(value, str) else None
        if number is not None:
            return number
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise WeComError(errors.INVALID_TAGID, "tagid missing or invalid")

    @staticmethod
    def _tag_name(body: dict[str, Any]) -> str:
        name = body.get("tagname")
        if not isinstance(name, str) or not name.strip():
            raise WeComError(errors.INVALID_PARAMETER, "tagname missing")
        return name

    async def tag_create(self, request: Any, app: App) -> dict[str, Any]:
        self._require_write(app)
        body = self._json(request)
        if body.get("tagid") is not None:
            raise WeComError(
                errors.INVALID_PARAMETER, "tagid is assigned by the server"
            )
        tag = await self.directory.admin.save_tag(
            None, {"name": self._tag_name(body)}, app.bot_user_id
        )
        return {"errmsg": "created", "tagid": tag["id"]}

    async def tag_update(self, request: Any, app: App) -> dict[str, Any]:
        self._require_write(app)
        body = self._json(request)
        tag_id = self._tag_id(body.get("tagid"))
        admin = self.directory.admin
        tag = await admin.get_tag(tag_id)
        await admin.save_tag(
            tag_id,
            {
                "name": self._tag_name(body),
                "userids": tag["userids"],
                "department_ids": tag["department_ids"],
            },
            app.bot_user_id,
        )
        return {"errmsg": "updated"}

    async def tag_delete(self, request: Any, app: App) -> dict[str, Any]:
        self._require_write(app)
        await self.directory.admin.delete_tag(
            self._tag_id(query_param(request, "tagid"))
        )
        return {"errmsg": "deleted"}

    async def tag_get(self, request: Any, app: App) -> dict[str, Any]:
        tag_id = self._tag_id(query_param(request, "tagid"))
        return dict(await self._read(app, dapi.get_tag_txn, tag_id))

    async def _change_tag(self, request: Any, app: App, adding: bool) -> dict[str, Any]:
        self._require_write(app)
        body = self._json(request)
        tag_id = self._tag_id(body.get("tagid"))
        users = body.get("userlist", [])
        parties = body.get("partylist", [])
        if not isinstance(users, list) or not all(isinstance(u, str) for u in users):
            raise WeComError(errors.INVALID_PARAMETER, "userlist must be a list")
        if not isinstance(parties, list) or not all(
            isinstance(p, int) and not isinstance(p, bool) for p in parties
        ):
            raise WeComError(errors.INVALID_PARAMETER, "partylist must be a list")
        if not users and not parties:
            raise WeComError(errors.INVALID_PARAMETER, "userlist and partylist empty")
        admin = self.directory.admin
        tag = await admin.get_tag(tag_id)
        known_users, known_parties = await self._api.run_db_interaction(
            "jwwx_openapi_tag_refs", dapi.existing_refs_txn, users, parties
        )
        bad_users = [u for u in users if u not in known_users]
        bad_parties = [p for p in parties if p not in known_parties]
        if len(bad_users) == len(users) and len(bad_parties) == len(parties):
            raise WeComError(
                errors.INVALID_USERID_LIST, "all userlist/partylist invalid"
            )
        good_users = {u for u in users if u in known_users}
        good_parties = {p for p in parties if p in known_parties}
        if adding:
            userids = set(tag["userids"]) | good_users
            department_ids = set(tag["department_ids"]) | good_parties
        else:
            userids = set(tag["userids"]) - good_users
            department_ids = set(tag["department_ids"]) - good_parties
        await admin.save_tag(
            tag_id,
            {
                "name": tag["name"],
                "userids": sorted(userids),
                "department_ids": sorted(department_ids),
            },
            app.bot_user_id,
        )
        answer: dict[str, Any] = {"errmsg": "ok" if adding else "deleted"}
        if bad_users:
            answer["invalidlist"] = "|".join(bad_users)
        if bad_parties:
            answer["invalidparty"] = bad_parties
        return answer

    async def tag_add_users(self, request: Any, app: App) -> dict[str, Any]:
        return await self._change_tag(request, app, adding=True)

    async def tag_del_users(self, request: Any, app: App) -> dict[str, Any]:
        return await self._change_tag(request, app, adding=False)

    # Messages.

    async def message_send(self, request: Any, app: App) -> dict[str, Any]:
        return await self._messenger.send(app, self._json(request))

    async def message_recall(self, request: Any, app: App) -> dict[str, Any]:
        await self._messenger.recall(app, self._json(request))
        return {}

    # Media.

    async def media_upload(self, request: Any, app: App) -> dict[str, Any]:
        # A WeCom SDK's multipart form arrives with its Content-Type set aside (see
        # allow_multipart_posts); a raw file body keeps its own.
        content_type = multipart_content_type(request) or (
            request.getHeader(b"Content-Type") or b""
        ).decode("latin-1")
        request.content.seek(0)
        body = read_body(request, MAX_UPLOAD_BYTES)
        return await self._media.upload(
            app,
            query_param(request, "type"),
            content_type,
            body,
            query_param(request, "filename"),
        )

    async def _ocr(self, request: Any, app: App, kind: str) -> dict[str, Any]:
        """An image as the body (image/*), or {"media_id"} of a file the app uploaded
        through media/upload; modules.ocr reads it if an admin granted the app OCR."""
        content_type = (request.getHeader(b"Content-Type") or b"").decode("latin-1")
        if content_type.startswith("image/"):
            request.content.seek(0)
            data = read_body(request, MAX_UPLOAD_BYTES)
        else:
            _media, data = await self._media.read(
                app, self._json(request).get("media_id")
            )
        try:
            return await ocr_public.read_for_app(self._api, app.agentid, data, kind)
        except ocr_public.OcrRefusedError as e:
            raise WeComError(e.errcode, e.message) from e

    async def ocr_idcard(self, request: Any, app: App) -> dict[str, Any]:
        return await self._ocr(request, app, "idcard")

    async def ocr_driverlicense(self, request: Any, app: App) -> dict[str, Any]:
        return await self._ocr(request, app, "driverlicense")

    async def ocr_general(self, request: Any, app: App) -> dict[str, Any]:
        return await self._ocr(request, app, "general")

    # Speech to text, as WeChat's /cgi-bin/media/voice/* (?voice_id=&lang=&format=).

    @staticmethod
    def _voice_params(request: Any) -> tuple[str, str]:
        voice_id = query_param(request, "voice_id") or ""
        if not (
            0 < len(voice_id) <= MAX_VOICE_ID
            and voice_id.isascii()
            and all(c.isalnum() or c in "_-." for c in voice_id)
        ):
            raise WeComError(
                errors.INVALID_PARAMETER,
                f"voice_id: 1 to {MAX_VOICE_ID} letters, digits, _ - .",
            )
        lang = query_param(request, "lang") or "zh_CN"
        if lang not in asr_public.LANGUAGES:
            raise WeComError(errors.INVALID_PARAMETER, "lang: zh_CN or en_US")
        return voice_id, lang

    async def voice_add(self, request: Any, app: App) -> dict[str, Any]:
        """The audio as the body (Content-Type audio/…, or any type with format=), or
        multipart/form-data with a "media" (or "voice") field, as WeChat SDKs send."""
        voice_id, lang = self._voice_params(request)
        fmt = query_param(request, "format")
        if fmt is not None and fmt not in VOICE_FORMATS:
            raise WeComError(
                errors.INVALID_PARAMETER, f"format: one of {', '.join(VOICE_FORMATS)}"
            )
        content_type = multipart_content_type(request) or (
            request.getHeader(b"Content-Type") or b""
        ).decode("latin-1")
        request.content.seek(0)
        body = read_body(request, MAX_UPLOAD_BYTES)
        if content_type.lower().startswith("multipart/"):
            _name, kind, data = parse_upload(content_type, body, ("media", "voice"))
        else:
            kind, data = content_type.split(";")[0].strip().lower(), body
        if not data:
            raise WeComError(errors.MISSING_MEDIA)
        if fmt is not None and not kind.startswith("audio/"):
            kind = VOICE_FORMATS[fmt]  # an SDK's octet-stream, named by format=
        try:
            await asr_public.recognise_for_app(
                self._api, app.agentid, voice_id, lang, data, kind
            )
        except asr_public.AsrRefusedError as e:
            raise WeComError(e.errcode, e.message) from e
        return {}

    async def voice_query(self, request: Any, app: App) -> dict[str, Any]:
        voice_id, _lang = self._voice_params(request)
        try:
            text = await asr_public.result_for_app(self._api, app.agentid, voice_id)
        except asr_public.AsrRefusedError as e:
            raise WeComError(e.errcode, e.message) from e
        return {"result": text}

    async def getuserinfo(self, request: Any, app: App) -> dict[str, Any]:
        return await self._oauth.redeem(app, query_param(request, "code"))

    async def jsapi_ticket(self, request: Any, app: App) -> dict[str, Any]:
        return await self._jsapi.ticket(CORP)

    async def agent_ticket(self, request: Any, app: App) -> dict[str, Any]:
        if query_param(request, "type") != "agent_config":
            raise WeComError(errors.INVALID_PARAMETER, "type must be agent_config")
        return await self._jsapi.ticket(app.agentid)

    async def media_get(self, request: Any, app: App) -> RawBody:
        media, data = await self._media.read(app, query_param(request, "media_id"))
        # The uploader chose the Content-Type: never let a browser sniff or run it.
        return RawBody(
            media.content_type,
            data,
            media.filename,
            headers=(
                (b"X-Content-Type-Options", b"nosniff"),
                (
                    b"Content-Security-Policy",
                    b"sandbox; default-src 'none'; script-src 'none'",
                ),
            ),
        )

    @property
    def directory(self) -> directory_public.DirectoryService:
        try:
            return registry.lookup(self._api, directory_public.SERVICE)
        except registry.ServiceMissingError as e:
            raise WeComError(errors.SYSTEM_BUSY, "directory module not loaded") from e
