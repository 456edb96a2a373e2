# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.openapi: the WeCom-compatible open API (企业微信服务端API) on the homeserver.

Apps (自建应用) with agentid, secret, visible range, IP allow-list and callback settings;
gettoken and access tokens; the directory APIs (user/*, department/*, tag/*) over
modules.directory; message/send and message/recall delivered by each app's bot account;
media/upload and media/get; OAuth2 web login; JS-SDK tickets; encrypted callbacks of what
officers send to an app, and their passive replies (replies.py). broadcast.py owns each
app's broadcast rooms (pushes to its whole range), joined in the background when the
app's range is set, starting from the spare rooms of pool.py (joined before the apps); conversations.py each app's direct room with an officer. crypto.py is WeCom's callback crypto (AES, and SM4/SM3) as a library app developers
may copy. docs/openapi.md.

    modules:
      - module: modules.openapi.OpenApiModule
        config:
          corpid: jwwx-im.example.cn

Config keys: modules/openapi/config.py. HTTP: resources/cgi.py (/cgi-bin/, integrators),
resources/oauth.py (/connect/oauth2/, browsers), resources/client.py (officers' clients),
resources/admin.py (/_jwwx/admin/v1/openapi/, admins).
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.backlog import count_backlog
from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.patches import (
    allow_multipart_posts,
    redact_credentials_in_request_logs,
)
from modules.openapi import public, storage
from modules.openapi.apps import AppAdmin
from modules.openapi.broadcast import Broadcasts
from modules.openapi.callbacks import Callbacks
from modules.openapi.config import OpenApiConfig
from modules.openapi.conversations import Conversations
from modules.openapi.incoming import MessageTail
from modules.openapi.jsapi import JsApi
from modules.openapi.jumps import Jumps
from modules.openapi.media import MediaStore
from modules.openapi.messages import Messenger
from modules.openapi.oauth import OAuth
from modules.openapi.pacing import Pacer
from modules.openapi.pool import Pool
from modules.openapi.resources.admin import ADMIN_PREFIX, OpenApiAdminResource
from modules.openapi.resources.cgi import CGI_PREFIX, VOICE_ADD, CgiResource
from modules.openapi.resources.client import CLIENT_PREFIX, OpenApiClientResource
from modules.openapi.resources.oauth import OAUTH_PREFIX, OAuthResource
from modules.openapi.rights import AppRights
from modules.openapi.storage import App
from modules.openapi.tokens import TokenService
from modules.openapi.visible_apps import VisibleApps

PURGE_INTERVAL_MS = 3600 * 1000


class OpenApiModule:
    def __init__(self, config: OpenApiConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self.runtime = ModuleRuntime(api, "openapi", __name__, on_ready=self._on_ready)
        # Callback delivery, the message stream reader and the sweeps run on the one
        # process `jobs_instance` names.
        self.jobs = self.runtime.place_jobs(config.jobs_instance)
        self.tokens = TokenService(api, config)
        self.callbacks = Callbacks(
            api, self.jobs, config.corpid, config.callback_concurrency
        )
        self.media = MediaStore(api)
        self.conversations = Conversations(api, config.prepare_concurrency)
        # The pool of spare broadcast rooms apps claim from (pool.py).
        self.pool = (
            Pool(
                api,
                config.broadcast_min_range,
                config.broadcast_room_size,
                config.broadcast_pool_concurrency,
                config.broadcast_pool_refill_delay_seconds,
                config.broadcast_join_concurrency,  # claims: on the app's first push
                config.broadcast_claim_announce_seconds,
            )
            if config.broadcast_rooms and config.broadcast_pool
            else None
        )
        # Pushes into the broadcast rooms, a room at a time (pacing.py).
        self.pacer = Pacer(api, config.broadcast_pace_lag_ms)
        if self.pool is not None:
            self.pool.pacing = self.pacer.stats
        self.broadcasts = Broadcasts(
            api,
            config.broadcast_min_range,
            config.broadcast_room_size,
            config.broadcast_join_concurrency,
            pool=self.pool,
            pacer=self.pacer,
        )
        self.incoming = MessageTail(
            api, self.jobs, self.callbacks.queue_txn, self.callbacks.kick
        )
        self.conversations.on_claimed = self.incoming.conversation_claimed
        self.apps = AppAdmin(
            api,
            config,
            self.tokens.forget_app,
            self.callbacks.verify_url,
            self.prepare_app,
        )
        self.messenger = Messenger(
            api, config, self.media, self.conversations, self.broadcasts
        )
        api.register_spam_checker_callbacks(
            user_may_join_room=self.broadcasts.user_may_join_room
        )
        self.callbacks.on_reply = self.messenger.reply
        self.jsapi = JsApi(api, config)
        self.visible_apps = VisibleApps(api)
        self.oauth = OAuth(api, config.corpid)
        self.jumps = Jumps(api, self.oauth)
        self.rights = AppRights(api)
        registry.publish(api, public.SERVICE, self)
        # WeCom SDKs upload media as multipart/form-data (refused by Synapse otherwise).
        allow_multipart_posts(f"{CGI_PREFIX}/media/upload".encode())
        allow_multipart_posts(f"{CGI_PREFIX}/{VOICE_ADD}".encode())
        # corpsecret=, access_token=, code=, … never reach the logs (issue 15).
        redact_credentials_in_request_logs()
        register_resource(
            api,
            CGI_PREFIX,
            CgiResource(
                api,
                self.runtime,
                self.tokens,
                self.messenger,
                self.media,
                self.jsapi,
                self.oauth,
                config.rate_limit_per_minute,
            ),
        )
        register_resource(
            api,
            ADMIN_PREFIX,
            OpenApiAdminResource(
                api, self.runtime, self.apps, self.callbacks, self.messenger, self.pool
            ),
        )
        register_resource(
            api, OAUTH_PREFIX, OAuthResource(api, self.runtime, self.oauth)
        )
        register_resource(
            api, CLIENT_PREFIX, OpenApiClientResource(api, self.runtime, self.jsapi)
        )
        self.jobs.every(self._deliver_callbacks, 1000, "jwwx_openapi_callbacks")
        if self.pool is not None:
            # Claims whose first push did not come in time (or held before a restart).
            self.jobs.every(
                self._announce_claims,
                max(1, min(config.broadcast_claim_announce_seconds, 5)) * 1000,
                "jwwx_openapi_announce_claims",
            )
        self.incoming.start()
        self.jobs.every(self._purge, PURGE_INTERVAL_MS, "jwwx_openapi_purge_tokens")
        count_backlog(api, self.jobs, "push", storage.push_backlog_txn)
        if (
            config.prepare_conversations or config.broadcast_rooms
        ) and config.prepare_interval_seconds:
            self.jobs.every(
                self._sweep,
                config.prepare_interval_seconds * 1000,
                "jwwx_openapi_prepare_conversations",
            )

    async def _on_ready(self) -> None:
        self.incoming.enable()
        if self.pool is not None and self.jobs.here:
            self.pool.build_in_background()

    async def _announce_claims(self) -> None:
        if self.runtime.is_ready and self.pool is not None:
            await self.pool.announce_due()

    async def _deliver_callbacks(self) -> None:
        if self.runtime.is_ready:
            await self.callbacks.tick()

    def prepare_app(self, app: App) -> None:
        """After the app's range was set (or in the sweep): its broadcast rooms, then its
        conversations, in the background, as configured."""
        prepare = (
            self.conversations.prepare_in_background
            if self._config.prepare_conversations
            else None
        )
        if self._config.broadcast_rooms:
            self.broadcasts.prepare_in_background(app, then=prepare)
        elif prepare is not None:
            prepare(app)

    async def _sweep(self) -> None:
        """Officers who entered or left a range through directory changes."""
        if self.runtime.is_ready:
            if self.pool is not None:
                self.pool.build_in_background()
            apps = await self._api.run_db_interaction(
                "jwwx_openapi_list_apps", storage.list_apps_txn
            )
            for app in apps:
                self.prepare_app(app)

    async def _purge(self) -> None:
        if self.runtime.is_ready:
            await self.tokens.purge()
            await self.media.purge()
            await self.jsapi.purge()
            await self.oauth.purge()

    @staticmethod
    def parse_config(config: Any) -> OpenApiConfig:
        return OpenApiConfig.parse(config)
