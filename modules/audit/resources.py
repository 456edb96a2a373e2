# SPDX-License-Identifier: AGPL-3.0-or-later
"""HTTP API of the audit archive (/_jwwx/admin/v1/audit/...). docs/audit.md has bodies.

Audit admins (config audit_admins; 403 M_FORBIDDEN for anyone else, server admins too):
  GET  verify?from_seq=&max_records=   → {"ok", "checked", "head_seq", "broken"?,
                                          "next_seq"? (partial walk)}
  POST search/messages {"keyword", "from_ts"?, "to_ts"?, "after_seq"?, "limit"?}
  POST search/files    {"name", "from_ts"?, "to_ts"?, "after_seq"?, "limit"?}
  POST search/media?from_ts=&to_ts=&after_seq=&limit=   body: the image/video bytes
Synapse server admins (the super admin):
  GET  operations?from_ts=&to_ts=&after_seq=&limit=     audit admins' operations
Export (admin scope audit.export; Synapse server admins until admin roles):
  GET  export/{kind}?consumer=NAME&limit=N   records after the consumer's cursor
  PUT  export/{kind}/cursor {"consumer", "position"}   acknowledge up to position
  GET  exporters                             push exporters, cursors, backlog
Every search and verification is itself archived (kind "audit").
"""

import re
from typing import Any

from synapse.module_api import ModuleApi

from modules.audit import storage
from modules.audit.config import KINDS, AuditConfig
from modules.audit.exporter import PushExporters
from modules.audit.records import open_record
from modules.audit.search import ArchiveReader, ScanResult
from modules.audit.service import AuditService
from modules.common.admin import require_admin
from modules.common.errors import error, forbidden
from modules.common.resource import query_param, read_body, read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes

PREFIX = "/_jwwx/admin/v1/audit"
MAX_LIMIT = 500
MAX_QUERY = 200
MAX_UPLOAD = 100 * 1024 * 1024
_CONSUMER = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def invalid(message: str) -> Any:
    return error(400, Codes.INVALID_PARAM, message)


class AuditResource(Router):
    prefix = PREFIX

    def __init__(
        self,
        api: ModuleApi,
        config: AuditConfig,
        runtime: ModuleRuntime,
        service: AuditService,
        reader: ArchiveReader,
        exporters: PushExporters,
    ) -> None:
        super().__init__(api)
        self._config = config
        self._runtime = runtime
        self._service = service
        self._reader = reader
        self._exporters = exporters
        self.route("GET", "verify", self.verify)
        self.route("POST", "search/messages", self.search_messages)
        self.route("POST", "search/files", self.search_files)
        self.route("POST", "search/media", self.search_media)
        self.route("GET", "operations", self.operations)
        self.route("GET", "export/{kind}", self.export)
        self.route("PUT", "export/{kind}/cursor", self.commit_cursor)
        self.route("GET", "exporters", self.exporter_status)

    async def _audit_admin(self, request: Any) -> str:
        user_id = await self.requester_id(request)
        if user_id not in self._config.audit_admins:
            raise forbidden("需要审计管理员权限")
        await self._runtime.ready()
        return user_id

    # Audit admins.

    async def verify(self, request: Any) -> tuple[int, Any]:
        actor = await self._audit_admin(request)
        from_seq = self.integer_arg(request, "from_seq", 1, 1, 2**62)
        max_records = self.integer_arg(request, "max_records", 0, 0, 2**62)
        report = await self._reader.verify(from_seq, max_records)
        await self._service.record(
            "audit", {"actor": actor, "action": "verify", "result": report}
        )
        return 200, report

    async def search_messages(self, request: Any) -> tuple[int, Any]:
        actor = await self._audit_admin(request)
        body = read_json_object(request)
        keyword = _text(body, "keyword")
        from_ts, to_ts, after, limit = self._range(body)
        result = await self._reader.messages(keyword, from_ts, to_ts, after, limit)
        query = {"keyword": keyword, "from_ts": from_ts, "to_ts": to_ts}
        return await self._answer(actor, "search.messages", query, result)

    async def search_files(self, request: Any) -> tuple[int, Any]:
        actor = await self._audit_admin(request)
        body = read_json_object(request)
        name = _text(body, "name")
        from_ts, to_ts, after, limit = self._range(body)
        result = await self._reader.files(name, from_ts, to_ts, after, limit)
        query = {"name": name, "from_ts": from_ts, "to_ts": to_ts}
        return await self._answer(actor, "search.files", query, result)

    async def search_media(self, request: Any) -> tuple[int, Any]:
        actor = await self._audit_admin(request)
        data = read_body(request, MAX_UPLOAD)
        if not data:
            raise error(400, Codes.MISSING_PARAM, "请上传要查找的图片或视频文件")
        args = {
            name: query_param(request, name)
            for name in ("from_ts", "to_ts", "after_seq", "limit")
        }
        parsed = {k: _int_text(k, v) for k, v in args.items() if v not in (None, "")}
        from_ts, to_ts, after, limit = self._range(parsed)
        result, prints = await self._reader.media(data, from_ts, to_ts, after, limit)
        query = {"from_ts": from_ts, "to_ts": to_ts, "size": len(data), **prints}
        return await self._answer(actor, "search.media", query, result)

    async def _answer(
        self, actor: str, action: str, query: dict[str, Any], result: ScanResult
    ) -> tuple[int, Any]:
        await self._service.record(
            "audit",
            {
                "actor": actor,
                "action": action,
                "query": query,
                "hits": len(result.hits),
                "scanned": result.scanned,
            },
        )
        return 200, {
            "results": result.hits,
            "scanned": result.scanned,
            "complete": result.complete,
            "next_seq": result.next_seq,
        }

    def _range(self, body: dict[str, Any]) -> tuple[int, int, int, int]:
        now = self.api.get_current_time_msec()
        from_ts = _int_field(body, "from_ts", 0)
        to_ts = _int_field(body, "to_ts", now)
        if from_ts > to_ts:
            raise invalid("from_ts 不能晚于 to_ts")
        after = _int_field(body, "after_seq", 0)
        limit = _int_field(body, "limit", 100)
        if not 1 <= limit <= MAX_LIMIT:
            raise invalid(f"limit 应为 1 到 {MAX_LIMIT} 之间的整数")
        return from_ts, to_ts, after, limit

    # Super admin.

    async def operations(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        if not await self.api.is_user_admin(user_id):
            raise forbidden("需要超级管理员权限")
        await self._runtime.ready()
        args = {
            name: query_param(request, name)
            for name in ("from_ts", "to_ts", "after_seq", "limit")
        }
        parsed = {k: _int_text(k, v) for k, v in args.items() if v not in (None, "")}
        from_ts, to_ts, after, limit = self._range(parsed)
        result = await self._reader.scan(
            "audit", from_ts, to_ts, after, limit, False, lambda r: r.to_json()
        )
        return 200, {
            "operations": result.hits,
            "complete": result.complete,
            "next_seq": result.next_seq,
        }

    # Export.

    async def export(self, request: Any, kind: str) -> tuple[int, Any]:
        await require_admin(self.api, request, "audit.export")
        _check_kind(kind)
        consumer = _consumer(query_param(request, "consumer"))
        limit = self.integer_arg(request, "limit", 100, 1, MAX_LIMIT)
        await self._runtime.ready()
        position = await self.api.run_db_interaction(
            "jwwx_audit_pull_cursor", storage.cursor_txn, f"pull:{consumer}", kind
        )
        rows = await self.api.run_db_interaction(
            "jwwx_audit_pull_read", storage.records_after_txn, position, (kind,), limit
        )
        records = [open_record(self._config.keys, row).to_json() for row in rows]
        return 200, {
            "kind": kind,
            "consumer": consumer,
            "cursor": position,
            "records": records,
            "next_cursor": rows[-1].seq if rows else position,
            "more": len(rows) >= limit,
        }

    async def commit_cursor(self, request: Any, kind: str) -> tuple[int, Any]:
        await require_admin(self.api, request, "audit.export")
        _check_kind(kind)
        body = read_json_object(request)
        consumer = _consumer(body.get("consumer"))
        position = _int_field(body, "position", -1)
        if position < 0:
            raise error(400, Codes.MISSING_PARAM, "缺少 position（已处理到的 seq）")
        await self._runtime.ready()
        head = await self.api.run_db_interaction("jwwx_audit_head", storage.head_txn)
        if position > head.last_seq:
            raise invalid(f"position 超出归档末尾 {head.last_seq}")
        await self.api.run_db_interaction(
            "jwwx_audit_pull_commit",
            storage.set_cursor_txn,
            f"pull:{consumer}",
            kind,
            position,
            self.api.get_current_time_msec(),
        )
        return 200, {"kind": kind, "consumer": consumer, "cursor": position}

    async def exporter_status(self, request: Any) -> tuple[int, Any]:
        await require_admin(self.api, request, "audit.export")
        await self._runtime.ready()
        cursors = await self.api.run_db_interaction(
            "jwwx_audit_cursors", storage.cursors_txn
        )
        head = await self.api.run_db_interaction("jwwx_audit_head", storage.head_txn)
        return 200, {
            "head_seq": head.last_seq,
            "exporters": self._exporters.status(),
            "cursors": [
                {"consumer": c, "kind": k, "position": p, "updated_ts": ts}
                for c, k, p, ts in cursors
            ],
        }


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        raise error(400, Codes.MISSING_PARAM, f"缺少 {key}")
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_QUERY:
        raise invalid(f"{key} 必须是 1 到 {MAX_QUERY} 个字符的字符串")
    return value.strip()


def _int_field(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(f"{key} 必须是非负整数")
    return value


def _int_text(key: str, text: str | None) -> int:
    if text is None or not re.fullmatch(r"[0-9]{1,18}", text):
        raise invalid(f"{key} 必须是非负整数")
    return int(text)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise error(
            404, Codes.NOT_FOUND, f"未知的记录类型 {kind}；可选：{', '.join(KINDS)}"
        )


def _consumer(value: Any) -> str:
    if value is None:
        raise error(400, Codes.MISSING_PARAM, "缺少 consumer（导出方名称）")
    if not isinstance(value, str) or not _CONSUMER.match(value):
        raise invalid("consumer 只能含字母、数字、_ . -，最长 64 个字符")
    return value
