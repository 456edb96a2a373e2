# SPDX-License-Identifier: AGPL-3.0-or-later
"""Admin endpoints of the keyword list.

GET /_jwwx/admin/v1/policy/keywords
    → {"keywords": [...stored], "config_keywords": [...], "version", "updated_by", "updated_ts"}
PUT /_jwwx/admin/v1/policy/keywords  {"keywords": ["...", ...]}
    replaces the stored list in one transaction; takes effect at once on this process
    and within reload_interval_seconds on others. → {"count", "version"}
POST /_jwwx/admin/v1/policy/keywords/test  {"text": "...", "html"?: false}
    runs the filter's real normalisation and matching (every view: Traditional/variant
    characters, full-width, invisible characters, display order, HTML's visible text)
    on a sample, as if it were a message body (html: formatted_body). Stores, counts
    and logs nothing (a read). → {"blocked", "keywords": [the listed keywords found],
    "normalised": the text as matched, "message": what the sender would see}
Bad input (not a list, empty or over-long entries, too many) → 400 M_INVALID_PARAM and
nothing changes. Callers need the right settings.keywords (the super admin, security
admins, admin groups holding it; docs/admin.md); every PUT is one operation-log record
(policy.keywords.replace, before/after, the source IP).
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.admin import record_operation, require_admin, setting
from modules.common.errors import error
from modules.common.resource import read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes
from modules.policy.config import PolicyConfig
from modules.policy.handlers import KeywordFilter
from modules.policy.matcher import normalise
from modules.policy.storage import get_keyword_version_txn, replace_keywords_txn

POLICY_PREFIX = "/_jwwx/admin/v1/policy"
KEYWORDS_PATH = f"{POLICY_PREFIX}/keywords"
# A sample for the test box: a long message's worth.
MAX_TEST_TEXT = 20_000
RIGHT = "settings.keywords"
TARGET = setting("keywords")


def validate_keywords(value: Any, config: PolicyConfig) -> list[str]:
    """Trimmed, de-duplicated (by normalised form) keywords, or 400 naming the entry."""
    if not isinstance(value, list):
        raise error(400, Codes.INVALID_PARAM, "keywords 必须是字符串数组")
    if len(value) > config.max_keywords:
        raise error(
            400, Codes.INVALID_PARAM, f"敏感词数量不能超过 {config.max_keywords} 个"
        )
    seen: dict[str, str] = {}
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise error(400, Codes.INVALID_PARAM, f"keywords[{index}] 不是字符串")
        keyword = item.strip()
        if not normalise(keyword):
            raise error(
                400, Codes.INVALID_PARAM, f"keywords[{index}] 为空或只含不可见字符"
            )
        if len(keyword) > config.max_keyword_length:
            raise error(
                400,
                Codes.INVALID_PARAM,
                f"keywords[{index}] 超过 {config.max_keyword_length} 个字符",
            )
        seen.setdefault(normalise(keyword), keyword)
    return sorted(seen.values())


class KeywordsResource(Router):
    prefix = POLICY_PREFIX

    def __init__(
        self,
        api: ModuleApi,
        config: PolicyConfig,
        runtime: ModuleRuntime,
        keywords: KeywordFilter,
    ) -> None:
        super().__init__(api)
        self._config = config
        self._runtime = runtime
        self._keywords = keywords
        self.route("GET", "keywords", self.get_keywords)
        self.route("PUT", "keywords", self.put_keywords)
        self.route("POST", "keywords/test", self.test_text)

    async def get_keywords(self, request: Any) -> tuple[int, Any]:
        await require_admin(self.api, request, RIGHT, TARGET)
        await self._runtime.ready()
        await self._keywords.load()
        version, updated_by, updated_ts = await self.api.run_db_interaction(
            "jwwx_policy_keyword_version", get_keyword_version_txn
        )
        return 200, {
            "keywords": self._keywords.stored,
            "config_keywords": list(self._config.keywords),
            "version": version,
            "updated_by": updated_by,
            "updated_ts": updated_ts,
        }

    async def put_keywords(self, request: Any) -> tuple[int, Any]:
        admin = await require_admin(self.api, request, RIGHT, TARGET)
        body = read_json_object(request)
        if "keywords" not in body:
            raise error(400, Codes.MISSING_PARAM, "缺少 keywords 字段")
        keywords = validate_keywords(body["keywords"], self._config)
        await self._runtime.ready()
        before = list(self._keywords.stored)
        version = await self.api.run_db_interaction(
            "jwwx_policy_replace_keywords",
            replace_keywords_txn,
            keywords,
            admin,
            self.api.get_current_time_msec(),
        )
        self._keywords.install(version, keywords)
        await record_operation(
            self.api,
            request,
            admin,
            "policy.keywords.replace",
            "setting:keywords",
            before,
            keywords,
        )
        return 200, {"count": len(keywords), "version": version}

    async def test_text(self, request: Any) -> tuple[int, Any]:
        await require_admin(self.api, request, RIGHT, TARGET)
        body = read_json_object(request)
        text = body.get("text")
        if not isinstance(text, str) or not text:
            raise error(400, Codes.INVALID_PARAM, "text 必须是非空字符串")
        if len(text) > MAX_TEST_TEXT:
            raise error(
                400, Codes.INVALID_PARAM, f"text 不能超过 {MAX_TEST_TEXT} 个字符"
            )
        as_html = body.get("html", False)
        if not isinstance(as_html, bool):
            raise error(400, Codes.INVALID_PARAM, "html 必须是 true 或 false")
        found = await self._keywords.explain(text, as_html)
        return 200, {
            "blocked": bool(found),
            "keywords": found,
            "normalised": normalise(text),
            "message": self._config.blocked_message if found else None,
        }
