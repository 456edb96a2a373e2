# SPDX-License-Identifier: AGPL-3.0-or-later
"""The WeCom-compatible calls of the wecom-api scenario: one app's API client (its
latencies and errors per endpoint), the OAuth2 code flow as an H5 page inside a client
would run it, and message/send pushes tracked to the officers' /sync."""

import random
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from benchmarks.aclient import Answer, Http, MatrixUser
from benchmarks.delivery import Tracker, tag
from benchmarks.scenario import Sample

H5 = "h5.bench.example"  # the app's trusted redirect domain (never contacted)


class Api:
    """WeCom calls of one app, with their latencies per endpoint."""

    def __init__(self, http: Http, secret: str, corp: str) -> None:
        self.http, self.secret, self.corp = http, secret, corp
        self.token = ""
        self.latencies: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.first_error: dict[str, str] = {}

    async def call(
        self, name: str, path: str, params: dict[str, Any], body: Any = None
    ) -> Answer:
        query = urlencode(
            {**params, **({"access_token": self.token} if self.token else {})}
        )
        answer = await self.http.request(
            "GET" if body is None else "POST", f"/cgi-bin/{path}?{query}", body
        )
        self.latencies.setdefault(name, []).append(answer.seconds)
        if (
            not answer.ok
            or not isinstance(answer.body, dict)
            or answer.body.get("errcode")
        ):
            self.errors[name] = self.errors.get(name, 0) + 1
            self.first_error.setdefault(name, answer.error())
        return answer

    async def gettoken(self) -> None:
        saved, self.token = self.token, ""
        answer = await self.call(
            "gettoken", "gettoken", {"corpid": self.corp, "corpsecret": self.secret}
        )
        self.token = str((answer.body or {}).get("access_token", "")) or saved

    def sample(self, name: str, metric: str, note: str = "") -> Sample:
        return Sample(
            metric,
            self.latencies.get(name, []),
            errors=self.errors.get(name, 0),
            note=self.first_error.get(name, note)[:80],
        )


async def oauth_code(
    http: Http, officer: MatrixUser, corp: str, agentid: int
) -> Answer:
    params = {
        "appid": corp,
        "redirect_uri": f"https://{H5}/entry",
        "response_type": "code",
        "scope": "snsapi_base",
        "state": "b",
        "agentid": str(agentid),
    }
    return await http.request(
        "GET",
        "/connect/oauth2/authorize?" + urlencode(params),
        token=officer.token,
        redirects=False,
    )


async def oauth_round_trips(
    api: Api, officers: list[MatrixUser], agentid: int, calls: int
) -> list[float]:
    authorize: list[float] = []
    for officer in random.Random(3).choices(officers, k=calls):
        answer = await oauth_code(api.http, officer, api.corp, agentid)
        authorize.append(answer.seconds)
        code = dict(parse_qsl(urlsplit(answer.location).query)).get("code")
        if answer.status != 302 or not code:
            api.errors["authorize"] = api.errors.get("authorize", 0) + 1
            api.first_error.setdefault("authorize", answer.error())
            continue
        got = await api.call("getuserinfo", "auth/getuserinfo", {"code": code})
        expected = officer.user_id[1:].split(":")[0]
        if got.ok and isinstance(got.body, dict) and got.body.get("userid") != expected:
            api.errors["getuserinfo"] = api.errors.get("getuserinfo", 0) + 1
            api.first_error.setdefault("getuserinfo", f"wrong userid {got.body}")
    return authorize


class Pushes:
    def __init__(self, api: Api, agentid: int, tracker: Tracker) -> None:
        self.api, self.agentid, self.tracker = api, agentid, tracker
        self.seq = 0

    async def send(
        self, name: str, key: str, target: dict[str, str], to: set[str]
    ) -> Answer:
        self.seq += 1
        self.tracker.sending(key, to)
        body = {
            **target,
            "msgtype": "text",
            "agentid": self.agentid,
            "text": {"content": f"压测通知 {tag(key, self.seq)}"},
        }
        answer = await self.api.call(name, "message/send", {}, body)
        if not answer.ok or (answer.body or {}).get("errcode"):
            self.tracker.failed(key)
        return answer


def userid_of(user: MatrixUser) -> str:
    return user.user_id[1:].split(":")[0]
