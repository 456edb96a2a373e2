# SPDX-License-Identifier: AGPL-3.0-or-later
"""HTTP API of the audit archive (/_jwwx/admin/v1/audit/...). docs/audit.md has bodies.

Audit admins (the `audit` role, given at run time through admin_api; rights
audit.verify / audit.search / audit.export, which not even the super admin holds —
403 M_FORBIDDEN for anyone else):
  GET  verify?from_seq=&max_records=   → {"ok", "checked", "head_seq", "broken"?,
                                          "next_seq"? (partial walk)}
  POST search/messages {"keyword", "from_ts"?, "to_ts"?, "after_seq"?, "limit"?}
  POST search/files    {"name", "from_ts"?, "to_ts"?, "after_seq"?, "limit"?}
  POST search/media?from_ts=&to_ts=&after_seq=&limit=   body: the image/video bytes
The super admin (right audit.operations, nobody else's):
  GET  operations?log=audit|admin&actor=&action=&target=&from_ts=&to_ts=&after_seq=
       &limit=&format=json|csv   the audit admins' operations (log=audit) or every
                                 admin's writes (log=admin); modules/audit/operations.py
Export (the archive decrypted, redacted content included):
  GET  export/{kind}?limit=N                 a pull consumer with its export credential
                                             (Authorization: Bearer <token>, config
                                             pull_consumers): records after its cursor
  GET  export/{kind}?after_seq=N|consumer=NAME&limit=N   an audit admin: records after
                                             after_seq (or after NAME's cursor), read
                                             only, and archived as an operation; never
                                             kind "audit" (its own role's log)
  PUT  export/{kind}/cursor {"position"}     the consumer's credential only: acknowledge
                                             up to position (forward only, ≤ head)
  POST export/{kind}/cursor/reset {"consumer", "position"}   admin scope
                                             audit.export.reset (the super admin):
                                             move a consumer's cursor BACK
                                             (re-delivery), logged and archived
                                             (visible to the super admin in operations)
  GET  exporters                             (right audit.exporters: audit admins and
                                             the super admin) push exporters, cursors,
                                             backlog — no content
Every action of an audit admin (search, verification, export, exporter status) is
itself archived (kind "audit"), and only the super admin lists those records.
"""

import hashlib
import hmac
import logging
import re
from typing import Any

from synapse.module_api import ModuleApi

from modules.audit import operations, storage
from modules.audit.config import KINDS, AuditConfig, PullConsumer
from modules.audit.exporter import PushExporters
from modules.audit.records import open_record
from modules.audit.search import ArchiveReader, ScanResult
from modules.audit.service import AuditService
from modules.common.admin import has_admin_scope, require_admin
from modules.common.errors import error, forbidden
from modules.common.http import RawBody
from modules.common.resource import query_param, read_body, read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes, SynapseError

logger = logging.getLogger(__name__)

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
        self.route("POST", "export/{kind}/cursor/reset", self.reset_cursor)
        self.route("GET", "exporters", self.exporter_status)

    async def _audit_admin(self, request: Any, right: str) -> str:
        """An audit admin's user id (the audit role's `right`), or 401/403."""
        try:
            user_id = await require_admin(self.api, request, right)
        except SynapseError as e:
            if e.code == 403 and e.errcode == Codes.FORBIDDEN:
                raise forbidden("需要审计管理员权限") from None
            raise
        await self._runtime.ready()
        return user_id

    # Audit admins.

    async def verify(self, request: Any) -> tuple[int, Any]:
        actor = await self._audit_admin(request, "audit.verify")
        from_seq = self.integer_arg(request, "from_seq", 1, 1, 2**62)
        max_records = self.integer_arg(request, "max_records", 0, 0, 2**62)
        report = await self._reader.verify(from_seq, max_records)
        await self._service.record(
            "audit", {"actor": actor, "action": "verify", "result": report}
        )
        return 200, report

    async def search_messages(self, request: Any) -> tuple[int, Any]:
        actor = await self._audit_admin(request, "audit.search")
        body = read_json_object(request)
        keyword = _text(body, "keyword")
        from_ts, to_ts, after, limit = self._range(body)
        result = await self._reader.messages(keyword, from_ts, to_ts, after, limit)
        query = {"keyword": keyword, "from_ts": from_ts, "to_ts": to_ts}
        return await self._answer(actor, "search.messages", query, result)

    async def search_files(self, request: Any) -> tuple[int, Any]:
        actor = await self._audit_admin(request, "audit.search")
        body = read_json_object(request)
        name = _text(body, "name")
        from_ts, to_ts, after, limit = self._range(body)
        result = await self._reader.files(name, from_ts, to_ts, after, limit)
        query = {"name": name, "from_ts": from_ts, "to_ts": to_ts}
        return await self._answer(actor, "search.files", query, result)

    async def search_media(self, request: Any) -> tuple[int, Any]:
        actor = await self._audit_admin(request, "audit.search")
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
        await require_admin(self.api, request, "audit.operations")
        query = operations.parse_query(request, self.api.get_current_time_msec())
        await self._runtime.ready()
        result = await self._reader.scan(
            query.log,
            query.from_ts,
            query.to_ts,
            query.after_seq,
            query.limit,
            False,
            operations.matcher(query),
        )
        if query.csv:
            more = b"" if result.complete else str(result.next_seq).encode()
            return 200, RawBody(
                "text/csv; charset=utf-8",
                operations.to_csv(result.hits),
                f"operations-{query.log}.csv",
                headers=((b"X-Jwwx-Next-Seq", more),) if more else (),
            )
        return 200, {
            "log": query.log,
            "filters": query.described(),
            "operations": result.hits,
            "scanned": result.scanned,
            "complete": result.complete,
            "next_seq": result.next_seq,
        }

    # Export.

    def _pull_consumer(self, request: Any) -> PullConsumer | None:
        """The pull consumer whose export credential the request bears, if any."""
        header = request.requestHeaders.getRawHeaders(b"Authorization") or []
        if len(header) != 1 or not header[0].startswith(b"Bearer "):
            return None
        digest = hashlib.sha256(header[0][len(b"Bearer ") :].strip()).digest()
        found = None
        for consumer in self._config.pull_consumers:
            if hmac.compare_digest(consumer.token_sha256, digest):
                found = consumer
        return found

    def _own_name(self, consumer: PullConsumer, given: Any) -> str:
        if given not in (None, "", consumer.name):
            raise forbidden("导出凭据只能读写它自己的游标")
        return consumer.name

    async def _read(
        self, kind: str, after: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        rows = await self.api.run_db_interaction(
            "jwwx_audit_pull_read", storage.records_after_txn, after, (kind,), limit
        )
        records = [open_record(self._config.keys, row).to_json() for row in rows]
        return records, (rows[-1].seq if rows else after)

    async def export(self, request: Any, kind: str) -> tuple[int, Any]:
        _check_kind(kind)
        limit = self.integer_arg(request, "limit", 100, 1, MAX_LIMIT)
        consumer = self._pull_consumer(request)
        if consumer is not None:
            name = self._own_name(consumer, query_param(request, "consumer"))
            await self._runtime.ready()
            position = await self.api.run_db_interaction(
                "jwwx_audit_pull_cursor", storage.cursor_txn, f"pull:{name}", kind
            )
            records, next_cursor = await self._read(kind, position, limit)
            return 200, {
                "kind": kind,
                "consumer": name,
                "cursor": position,
                "records": records,
                "next_cursor": next_cursor,
                "more": len(records) >= limit,
            }
        # Anyone else reads only as an audit admin, without moving any cursor.
        actor = await self._audit_admin(request, "audit.export")
        if kind == "audit":
            raise forbidden(
                "审计管理员的操作记录只有超级管理员可以查看（GET operations）"
            )
        peek = query_param(request, "consumer")
        if peek not in (None, ""):
            after = await self.api.run_db_interaction(
                "jwwx_audit_pull_cursor",
                storage.cursor_txn,
                f"pull:{_consumer(peek)}",
                kind,
            )
        else:
            after = self.integer_arg(request, "after_seq", 0, 0, 2**62)
        records, next_cursor = await self._read(kind, after, limit)
        await self._service.record(
            "audit",
            {
                "actor": actor,
                "action": "export",
                "query": {"kind": kind, "after_seq": after, "limit": limit},
                "hits": len(records),
            },
        )
        return 200, {
            "kind": kind,
            "cursor": after,
            "records": records,
            "next_cursor": next_cursor,
            "more": len(records) >= limit,
        }

    async def commit_cursor(self, request: Any, kind: str) -> tuple[int, Any]:
        _check_kind(kind)
        consumer = self._pull_consumer(request)
        if consumer is None:
            # A Matrix token (any admin included) never moves a consumer's cursor.
            await self.requester_id(request)
            raise forbidden(
                "只有导出方本身（导出凭据）可以前移它的游标；管理员只能回退（cursor/reset）"
            )
        body = read_json_object(request)
        name = self._own_name(consumer, body.get("consumer"))
        position = _int_field(body, "position", -1)
        if position < 0:
            raise error(400, Codes.MISSING_PARAM, "缺少 position（已处理到的 seq）")
        await self._runtime.ready()
        head = await self.api.run_db_interaction("jwwx_audit_head", storage.head_txn)
        if position > head.last_seq:
            raise invalid(f"position 超出归档末尾 {head.last_seq}")
        now = self.api.get_current_time_msec()
        moved = await self.api.run_db_interaction(
            "jwwx_audit_pull_commit",
            storage.advance_cursor_txn,
            f"pull:{name}",
            kind,
            position,
            now,
        )
        if moved is None:
            raise invalid("游标只能前移（position 小于当前游标）")
        return 200, {"kind": kind, "consumer": name, "cursor": position}

    async def reset_cursor(self, request: Any, kind: str) -> tuple[int, Any]:
        actor = await require_admin(self.api, request, "audit.export.reset")
        _check_kind(kind)
        body = read_json_object(request)
        name = _consumer(body.get("consumer"))
        position = _int_field(body, "position", -1)
        if position < 0:
            raise error(400, Codes.MISSING_PARAM, "缺少 position（回退到的 seq）")
        await self._runtime.ready()
        before = await self.api.run_db_interaction(
            "jwwx_audit_pull_cursor", storage.cursor_txn, f"pull:{name}", kind
        )
        if position > before:
            raise invalid(
                f"管理员只能回退游标（当前 {before}）；前移只能由导出方自己确认"
            )
        await self.api.run_db_interaction(
            "jwwx_audit_pull_reset",
            storage.set_cursor_txn,
            f"pull:{name}",
            kind,
            position,
            self.api.get_current_time_msec(),
        )
        logger.warning(
            "audit export cursor of %s (%s) reset by %s: %d -> %d",
            name,
            kind,
            actor,
            before,
            position,
        )
        await self._service.record(
            "audit",
            {
                "actor": actor,
                "action": "export.cursor_reset",
                "query": {"consumer": name, "kind": kind},
                "from": before,
                "to": position,
            },
        )
        return 200, {"kind": kind, "consumer": name, "cursor": position, "was": before}

    async def exporter_status(self, request: Any) -> tuple[int, Any]:
        actor = await require_admin(self.api, request, "audit.exporters")
        await self._runtime.ready()
        if await has_admin_scope(self.api, actor, "audit.search"):  # an audit admin
            await self._service.record(
                "audit", {"actor": actor, "action": "exporters.status"}
            )
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
