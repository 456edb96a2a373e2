# SPDX-License-Identifier: AGPL-3.0-or-later
"""OCR for officers under /_jwwx/client/v1/ocr (a Matrix access token), and the admins' grant
of OCR to open-API apps (OcrAdminResource; the apps call /cgi-bin/ocr/*, docs/ocr.md).

POST recognise  {room_id, event_id, kind?, forward_to?}
    kind: general (default), idcard (居民身份证: name, sex, nation, birth, address,
    id_number with its check character verified), driverlicense (机动车驾驶证).
    → {kind, text, lines: [{text, score, box}], fields?, forwarded?}: the text of an
    image message the officer may see; with forward_to (chat ids he is joined to) the
    text is also sent as his own message into each of them, in the same call.
    404 M_NOT_FOUND (no such message for him), 400 CN_JWWX_OCR_NOT_AN_IMAGE,
    400 CN_JWWX_OCR_IMAGE_TOO_LARGE, 403 CN_JWWX_OCR_BURN_AFTER_READ, 403 M_FORBIDDEN
    (a forward target he is not in: checked first, nothing read or sent), 400
    CN_JWWX_OCR_NO_TEXT (forwarding an image without text), 400 M_INVALID_PARAM.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import admin as decide
from modules.common.admin_router import AdminRouter
from modules.common.errors import error
from modules.common.inputs import bounded_str, parse_int
from modules.common.resource import read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes
from modules.ocr.apps import AppOcrService
from modules.ocr.service import OcrService, check_kind
from modules.openapi import public as openapi

CLIENT_PREFIX = "/_jwwx/client/v1/ocr"
ADMIN_PREFIX = "/_jwwx/admin/v1/ocr"
MANAGE = "apps.manage"


class OcrClientResource(Router):
    prefix = CLIENT_PREFIX

    def __init__(self, api: ModuleApi, runtime: ModuleRuntime, ocr: OcrService) -> None:
        super().__init__(api)
        self._runtime = runtime
        self._ocr = ocr
        self.route("POST", "recognise", self.recognise)

    async def recognise(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        await self._runtime.ready()
        body = read_json_object(request)
        room_id = bounded_str(body.get("room_id"), "room_id", 255)
        event_id = bounded_str(body.get("event_id"), "event_id", 255)
        kind = check_kind(body.get("kind"))
        targets = body.get("forward_to")
        rooms = (
            None
            if targets is None
            else await self._ocr.forward_targets(user_id, targets)
        )
        answer = await self._ocr.read_message(user_id, room_id, event_id, kind)
        if rooms is not None:
            answer["forwarded"] = await self._ocr.forward(
                user_id, rooms, answer["text"]
            )
        return 200, answer


class OcrAdminResource(AdminRouter):
    """Admins, /_jwwx/admin/v1/ocr (right apps.manage on the app):
    GET    apps            → {"agentids": [...]} the apps allowed /cgi-bin/ocr/*
    PUT    apps/{agentid}  allow it (404 M_NOT_FOUND for an unknown app)
    DELETE apps/{agentid}  no longer
    Each change is one operation-log record (ocr.app.grant|revoke, target app:{id})."""

    prefix = ADMIN_PREFIX

    def __init__(
        self, api: ModuleApi, runtime: ModuleRuntime, apps: AppOcrService
    ) -> None:
        super().__init__(api, runtime)
        self._apps = apps
        self.route("GET", "apps", self.list_apps)
        self.route("PUT", "apps/{agentid}", self.grant)
        self.route("DELETE", "apps/{agentid}", self.revoke)

    async def list_apps(self, request: Any) -> tuple[int, Any]:
        _admin, scope = await self.admin_scope(request, MANAGE)
        granted = await self._apps.granted()
        if not scope.unrestricted:
            kept = {t.id for t in await scope.filter([decide.app(a) for a in granted])}
            granted = [a for a in granted if str(a) in kept]
        return 200, {"agentids": granted}

    async def _app(self, request: Any, agentid: str) -> tuple[str, int]:
        number = parse_int(agentid, "agentid", 1, 10**12 - 1)
        admin = await self.admin(request, MANAGE, decide.app(number))
        if await openapi.app_name(self.api, number) is None:
            raise error(404, Codes.NOT_FOUND, f"应用 {number} 不存在")
        return admin, number

    async def grant(self, request: Any, agentid: str) -> tuple[int, Any]:
        admin, number = await self._app(request, agentid)
        await self._apps.grant(number, admin)
        await self.log(
            request, admin, "ocr.app.grant", f"app:{number}", None, {"ocr": True}
        )
        return 200, {}

    async def revoke(self, request: Any, agentid: str) -> tuple[int, Any]:
        admin, number = await self._app(request, agentid)
        await self._apps.revoke(number)
        await self.log(request, admin, "ocr.app.revoke", f"app:{number}", {"ocr": True})
        return 200, {}
