# SPDX-License-Identifier: AGPL-3.0-or-later
"""Officers' clients under /_jwwx/client/v1/openapi (a Matrix access token):

POST jsapi/verify  {agentid?, timestamp, nonceStr, signature, url}
    → {"valid": true, "agentid": …}: the signature an H5 page passed to wx.config
    (no agentid: the corp ticket) or wx.agentConfig (agentid: that app's ticket) is right.
    400 CN_JWWX_JSAPI_SIGNATURE_INVALID otherwise. A client's JS bridge asks this before
    letting the page call the JS-SDK.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.errors import error
from modules.common.inputs import decimal
from modules.common.resource import read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes
from modules.openapi.jsapi import CORP, JsApi

CLIENT_PREFIX = "/_jwwx/client/v1/openapi"
SIGNATURE_INVALID = "CN_JWWX_JSAPI_SIGNATURE_INVALID"


class OpenApiClientResource(Router):
    prefix = CLIENT_PREFIX

    def __init__(self, api: ModuleApi, runtime: ModuleRuntime, jsapi: JsApi) -> None:
        super().__init__(api)
        self._runtime = runtime
        self._jsapi = jsapi
        self.route("POST", "jsapi/verify", self.verify)

    async def verify(self, request: Any) -> tuple[int, Any]:
        await self.requester_id(request)
        await self._runtime.ready()
        body = read_json_object(request)
        agentid = body.get("agentid", CORP)
        if isinstance(agentid, str) and decimal(agentid, 12) is not None:
            agentid = int(agentid)
        if isinstance(agentid, bool) or not isinstance(agentid, int):
            raise error(400, Codes.INVALID_PARAM, "agentid 必须是整数")
        fields = {}
        for key in ("timestamp", "nonceStr", "signature", "url"):
            value = body.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str) or not value:
                raise error(400, Codes.MISSING_PARAM, f"缺少 {key}")
            fields[key] = value
        valid = await self._jsapi.verify(
            agentid,
            fields["nonceStr"],
            fields["timestamp"],
            fields["url"],
            fields["signature"],
        )
        if not valid:
            raise error(400, SIGNATURE_INVALID, "JS-SDK 签名无效或票据已过期")
        return 200, {"valid": True, "agentid": agentid}
