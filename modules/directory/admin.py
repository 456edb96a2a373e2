# SPDX-License-Identifier: AGPL-3.0-or-later
"""Admin operations on the directory, and keeping Matrix accounts in step with them."""

import logging
from collections.abc import Callable, Mapping
from typing import Any

from synapse.module_api import ModuleApi, UserID

from modules.common.storage import Txn
from modules.common.synapse.accounts import (
    clear_password_and_sign_out,
    deactivate_user,
    set_avatar_url,
    set_user_locked,
)
from modules.common.synapse.database import run_serialized_write, vacuum_analyze
from modules.common.synapse.errors import SynapseError
from modules.directory import admin_reads, bodies, errors
from modules.directory.admin_reads import QuotaExceededError
from modules.directory.config import FIELD_CHOICES
from modules.directory.errors import DirectoryError
from modules.directory.exporter import export_directory_xlsx
from modules.directory.exporting import export_records_txn
from modules.directory.importer import parse_departments, parse_members, parse_tags
from modules.directory.importing import (
    apply_departments_txn,
    apply_members_txn,
    apply_tags_txn,
    department_problems_txn,
    member_problems_txn,
    tag_problems_txn,
)
from modules.directory.provisioning import Provisioner
from modules.directory.reader import VISIBLE_FIELDS_SETTING, DirectoryReader
from modules.directory.records import (
    DEPARTMENT_COLUMNS,
    MEMBER_COLUMNS,
    TAG_COLUMNS,
    ImportRejectedError,
    MemberRecord,
    merge_problems,
)
from modules.directory.storage import departments as dept_store
from modules.directory.storage import members as member_store
from modules.directory.storage import ordering, social
from modules.directory.storage import provisioning as prov_store
from modules.directory.storage.bulk import DIRECTORY_TABLES
from modules.directory.storage.members import Member, Membership
from modules.directory.tabular import read_rows
from modules.directory.views import department_json

logger = logging.getLogger(__name__)

IMPORT_KINDS: dict[
    str, tuple[dict[str, tuple[str, ...]], str, Callable[[Any], list[Any]]]
] = {
    "departments": (DEPARTMENT_COLUMNS, "部门", parse_departments),
    "members": (MEMBER_COLUMNS, "成员", parse_members),
    "tags": (TAG_COLUMNS, "标签", parse_tags),
}
# The database pass of each kind, run on its own when the file has format problems too.
IMPORT_CHECKS: dict[str, Callable[[Txn, Any], list[Any]]] = {
    "departments": department_problems_txn,
    "members": member_problems_txn,
    "tags": tag_problems_txn,
}


def _member_from_record(
    record: MemberRecord, department_ids: list[int], avatar: str | None
) -> Member:
    return Member(
        userid=record.userid,
        name=record.name,
        gender=record.gender,
        mobile=record.mobile or None,
        telephone=record.telephone or None,
        email=record.email or None,
        position=record.position or None,
        avatar=avatar,
        sort_order=record.sort_order,
        hidden=record.hidden,
        enabled=record.enabled,
        memberships=tuple(
            Membership(d, ms.sort_order, ms.is_leader)
            for d, ms in zip(department_ids, record.memberships, strict=True)
        ),
    )


def _counted_as(member: Member) -> tuple[int | None, bool]:
    """(main department, enabled): what unit quotas count a member by."""
    main = member.memberships[0].department_id if member.memberships else None
    return main, member.enabled


def _counted_in(member: Member) -> set[int]:
    """The departments whose member counts include this member (enabled, shown)."""
    return member.department_ids if member.enabled and not member.hidden else set()


def _department_ids(record: MemberRecord) -> list[int]:
    ids = []
    for ms in record.memberships:
        if ms.department.department_id is None:
            raise DirectoryError(errors.INVALID_FIELD, "department 必须是部门ID数组")
        ids.append(ms.department.department_id)
    return ids


class DirectoryAdmin:
    def __init__(
        self, api: ModuleApi, reader: DirectoryReader, provisioner: Provisioner
    ) -> None:
        self._api = api
        self._reader = reader
        self._provisioner = provisioner
        # Called after every write (the user-search filter forgets cached viewers).
        self.on_change: list[Callable[[], None]] = []

    async def _db(self, desc: str, fn: Any, *args: Any) -> Any:
        return await self._api.run_db_interaction(f"jwwx_dir_{desc}", fn, *args)

    async def _write(
        self, desc: str, fn: Any, *args: Any, members: list[str] | None = None
    ) -> Any:
        """Directory writes one at a time: they maintain member counts up the
        department chain, which concurrent writers would otherwise fight over.
        `members`: the members the write changes ([] none a scope depends on; None:
        maybe the tree or many), recorded for caches of directory facts (admin_reads)."""

        def write_txn(txn: Any, *args: Any) -> tuple[Any, admin_reads.Written | None]:
            result = fn(txn, *args)
            # Caches of directory facts in other processes (admin_reads) notice this.
            generation = dept_store.record_change_txn(txn, members)
            # This process's caches take the members' departments as written.
            written = (
                admin_reads.written_txn(txn, generation, members) if members else None
            )
            return result, written

        written = None
        try:
            result, written = await run_serialized_write(
                self._api, f"jwwx_dir_{desc}", "jwwx_directory_write", write_txn, *args
            )
            return result
        finally:
            for callback in self.on_change:
                callback()
            admin_reads.changed(self._api, members, written)

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    # Departments.

    async def create_department(self, body: dict[str, Any]) -> dict[str, Any]:
        fields = bodies.department_create(body)
        department = await self._write(
            "create_department",
            lambda txn: dept_store.insert_department_txn(
                txn, now=self._now(), **fields
            ),
        )
        return department_json(department, admin=True)

    async def update_department(
        self, department_id: int, body: dict[str, Any]
    ) -> dict[str, Any]:
        changes = bodies.department_changes(body)
        department = await self._write(
            "update_department",
            dept_store.update_department_txn,
            department_id,
            changes,
            self._now(),
        )
        return department_json(department, admin=True)

    async def delete_department(self, department_id: int) -> None:
        await self._write(
            "delete_department", dept_store.delete_department_txn, department_id
        )

    async def move_in_order(
        self, department_id: int, kind: str, item: str | int, position: int
    ) -> dict[str, Any]:
        """Move a member (kind "member") or sub-department ("department") of a
        department to `position` (0: first) among its siblings; the siblings are
        renumbered in the new order. Answers {kind, id, from, to, count}."""
        now = self._now()

        def move_txn(txn: Txn) -> dict[str, Any]:
            dept_store.require_department_txn(txn, department_id)
            current: list[Any] = (
                ordering.member_order_txn(txn, department_id)
                if kind == "member"
                else ordering.department_order_txn(txn, department_id)
            )
            ids = [i for i, _order in current]
            if item not in ids:
                what = "成员" if kind == "member" else "下级部门"
                raise DirectoryError(
                    errors.INVALID_FIELD, f"{item} 不是部门 {department_id} 的{what}"
                )
            if position >= len(ids):
                raise DirectoryError(
                    errors.INVALID_FIELD,
                    f"position 超出范围：该部门共 {len(ids)} 项，可用 0–{len(ids) - 1}",
                )
            old = ids.index(item)
            ids.remove(item)
            ids.insert(position, item)
            if kind == "member":
                ordering.write_member_order_txn(txn, department_id, current, ids, now)
            else:
                ordering.write_department_order_txn(txn, current, ids, now)
            return {
                "kind": kind,
                "id": item,
                "from": old,
                "to": position,
                "count": len(ids),
            }

        # Order changes no scope and no member's departments (no cache to tell).
        return dict(await self._write("move_in_order", move_txn, members=[]))

    # Members.

    async def get_member(self, userid: str) -> dict[str, Any]:
        def read_txn(txn: Txn) -> dict[str, Any]:
            member = member_store.require_member_txn(txn, userid)
            departments = dept_store.get_departments_txn(
                txn, sorted(member.department_ids)
            )
            from modules.directory.views import member_json

            return member_json(member, departments, None, self._api.server_name)

        return dict(await self._db("get_member", read_txn))

    async def create_member(
        self,
        body: dict[str, Any],
        admin: str,
        quotas: Mapping[int, int] | None = None,
    ) -> dict[str, Any]:
        """`quotas` (admin_api's unit quotas): refused with QuotaExceededError, nothing
        written, when the new member takes its unit or the total beyond its quota."""
        record = bodies.member_record(body)
        member = _member_from_record(
            record, _department_ids(record), bodies.avatar(body, None)
        )
        now = self._now()

        def create_txn(txn: Txn) -> int:
            member_store.insert_member_txn(txn, member, now)
            if quotas:
                exceeded = admin_reads.member_quota_txn(
                    txn, quotas, None, _counted_as(member)
                )
                if exceeded:
                    raise QuotaExceededError(exceeded)
            dept_store.count_member_change_txn(txn, set(), _counted_in(member))
            return prov_store.create_job_txn(txn, "member", [member.userid], admin, now)

        job_id = await self._write("create_member", create_txn, members=[member.userid])
        self._provisioner.kick()
        result = await self.get_member(member.userid)
        result["job_id"] = job_id
        return result

    async def update_member(
        self,
        userid: str,
        body: dict[str, Any],
        quotas: Mapping[int, int] | None = None,
    ) -> dict[str, Any]:
        """`quotas`: as create_member, for enabling a member or moving its main
        department into another unit."""
        if "userid" in body and body["userid"] != userid:
            raise DirectoryError(errors.INVALID_FIELD, "不能修改账号 userid")
        now = self._now()

        def update_txn(txn: Txn) -> tuple[Member, Member]:
            base = member_store.require_member_txn(txn, userid)
            record = bodies.member_record(body, base)
            wanted = _member_from_record(
                record, _department_ids(record), bodies.avatar(body, base)
            )
            changes = {f: getattr(wanted, f) for f in member_store.PROFILE_FIELDS}
            memberships = (
                wanted.memberships
                if "department" in body
                or "order" in body
                or "is_leader_in_dept" in body
                else None
            )
            before, after = member_store.update_member_txn(
                txn, userid, changes, memberships, now
            )
            if quotas:
                exceeded = admin_reads.member_quota_txn(
                    txn, quotas, _counted_as(before), _counted_as(after)
                )
                if exceeded:
                    raise QuotaExceededError(exceeded)
            dept_store.count_member_change_txn(
                txn, _counted_in(before), _counted_in(after)
            )
            return before, after

        before, after = await self._write("update_member", update_txn, members=[userid])
        await self._sync_account(before, after)
        return await self.get_member(userid)

    async def _sync_account(self, before: Member, after: Member) -> None:
        """Mirror a changed name or enabled flag onto the Matrix account, if it exists."""
        if after.account_state != prov_store.CREATED:
            return
        user_id = self._api.get_qualified_user_id(after.userid)
        try:
            if before.name != after.name:
                await self._api.set_displayname(UserID.from_string(user_id), after.name)
            if before.avatar != after.avatar:
                await set_avatar_url(self._api, user_id, after.avatar or "")
            if before.enabled != after.enabled:
                await set_user_locked(self._api, user_id, not after.enabled)
        except SynapseError as e:
            logger.warning("cannot sync account %s: %s", user_id, e)

    async def delete_member(self, userid: str) -> None:
        def delete_txn(txn: Txn) -> Member:
            member = member_store.delete_member_txn(txn, userid)
            dept_store.count_member_change_txn(txn, _counted_in(member), set())
            return member

        member = await self._write("delete_member", delete_txn, members=[userid])
        if member.account_state == prov_store.CREATED:
            await deactivate_user(self._api, self._api.get_qualified_user_id(userid))

    async def reset_initial_password(self, userid: str) -> dict[str, Any]:
        member = await self._db("get_member", member_store.require_member_txn, userid)
        if member.account_state == prov_store.CREATED:
            # A reset replaces the password the officer chose and ends every session, so
            # the new initial password is the only one and must be changed at the next
            # login.
            await clear_password_and_sign_out(
                self._api, self._api.get_qualified_user_id(userid)
            )
        elif not await self._db(
            "credentials_issued", prov_store.credentials_issued_txn, userid
        ):
            # Not issued yet: provisioning issues it within seconds (and mails it).
            raise DirectoryError(errors.INVALID_FIELD, f"成员 {userid} 的账号尚未开通")
        # Issued but the account not created yet: the new password replaces the first
        # one, and the first login with it creates the account (provisioning.py).
        password, mailed = await self._provisioner.issue_initial_password(
            userid, member.name, member.email
        )
        return {"userid": userid, "initial_password": password, "mail_queued": mailed}

    # Tags.

    async def save_tag(
        self, tag_id: int | None, body: dict[str, Any], admin: str
    ) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 32:
            raise DirectoryError(
                errors.INVALID_FIELD, "标签名称不能为空，且不超过 32 个字符"
            )
        userids = body.get("userids", [])
        department_ids = body.get("department_ids", [])
        if not isinstance(userids, list) or not all(
            isinstance(u, str) for u in userids
        ):
            raise DirectoryError(errors.INVALID_FIELD, "userids 必须是字符串数组")
        if not isinstance(department_ids, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) for d in department_ids
        ):
            raise DirectoryError(errors.INVALID_FIELD, "department_ids 必须是整数数组")
        saved_id = await self._write(
            "save_tag",
            social.save_tag_txn,
            tag_id,
            name.strip(),
            tuple(userids),
            tuple(department_ids),
            admin,
            self._now(),
            members=[],
        )
        return await self.get_tag(saved_id)

    async def get_tag(self, tag_id: int) -> dict[str, Any]:
        tag = await self._db("get_tag", social.require_tag_txn, tag_id)
        return {
            "id": tag.id,
            "name": tag.name,
            "userids": list(tag.userids),
            "department_ids": list(tag.department_ids),
            "updated_by": tag.updated_by,
            "updated_ts": tag.updated_ts,
        }

    async def list_tags(self) -> dict[str, Any]:
        tags = await self._db("list_tags", social.list_tags_txn)
        return {"tags": [{"id": i, "name": n} for i, n in tags]}

    async def delete_tag(self, tag_id: int) -> None:
        await self._write("delete_tag", social.delete_tag_txn, tag_id, members=[])

    # Settings.

    async def get_settings(self) -> dict[str, Any]:
        fields = await self._db("settings", self._reader.visible_fields_txn)
        return {"visible_fields": list(fields), "field_choices": list(FIELD_CHOICES)}

    async def put_settings(self, body: dict[str, Any], admin: str) -> dict[str, Any]:
        fields = body.get("visible_fields")
        if not isinstance(fields, list) or any(f not in FIELD_CHOICES for f in fields):
            raise DirectoryError(
                errors.INVALID_FIELD,
                f"visible_fields 必须是数组，可选：{', '.join(FIELD_CHOICES)}",
            )
        await self._write(
            "put_settings",
            social.put_setting_txn,
            VISIBLE_FIELDS_SETTING,
            sorted(set(fields)),
            admin,
            self._now(),
            members=[],
        )
        return await self.get_settings()

    # Import and export.

    async def import_file(
        self,
        kind: str,
        filename: str,
        data: bytes,
        admin: str,
        quotas: Mapping[int, int] | None = None,
    ) -> dict[str, Any]:
        """Validate the whole file, then apply it in one transaction; ImportRejectedError
        (with every problem and its row) leaves everything as it was. A file with format
        problems is also checked against the database, so both kinds come in one answer."""
        columns, sheet, parse = IMPORT_KINDS[kind]
        rows = read_rows(
            filename,
            data,
            columns,
            sheet if filename.lower().endswith(".xlsx") else None,
        )
        try:
            records = parse(rows)
        except ImportRejectedError as e:
            if not e.records:
                raise
            found = await self._db(
                "import_check_" + kind, IMPORT_CHECKS[kind], e.records
            )
            raise ImportRejectedError(merge_problems(e.errors, found)) from None
        now = self._now()
        if kind == "departments":
            report = await self._write(
                "import_departments", apply_departments_txn, records, now
            )
        elif kind == "tags":
            report = await self._write(
                "import_tags", apply_tags_txn, records, admin, now, members=[]
            )
        else:

            def import_members_txn(txn: Txn) -> dict[str, Any]:
                # Unit quotas (admin_api): the whole file is refused when it takes a
                # unit, or the total, beyond its quota; the report names them.
                before = admin_reads.units_usage_txn(txn) if quotas else None
                applied = apply_members_txn(txn, records, admin, now)
                if quotas and before is not None:
                    exceeded = admin_reads.quotas_exceeded_txn(txn, quotas, before)
                    if exceeded:
                        raise QuotaExceededError(exceeded)
                return applied

            report = await self._write("import_members", import_members_txn)
            changed = report.pop("changed_userids")
            if report["job_id"] is not None:
                self._provisioner.kick()
            self._api.run_as_background_process(
                "jwwx_dir_vacuum", vacuum_analyze, self._api, DIRECTORY_TABLES
            )
            if changed:
                self._api.run_as_background_process(
                    "jwwx_dir_sync_imported", self._sync_imported, changed
                )
        return {"kind": kind, "rows": len(records), **report}

    async def _sync_imported(self, userids: list[str]) -> None:
        found = await self._db("get_members", member_store.get_members_txn, userids)
        for member in found.values():
            if member.account_state != prov_store.CREATED:
                continue
            user_id = self._api.get_qualified_user_id(member.userid)
            try:
                await self._api.set_displayname(
                    UserID.from_string(user_id), member.name
                )
                await set_user_locked(self._api, user_id, not member.enabled)
            except SynapseError as e:
                logger.warning("cannot sync account %s: %s", user_id, e)

    async def export_xlsx(self) -> bytes:
        departments, members, tags = await self._db("export", export_records_txn)
        return await self._api.defer_to_thread(
            export_directory_xlsx, departments, members, tags
        )

    # Provisioning.

    async def job(self, job_id: int) -> dict[str, Any]:
        progress = await self._db("job", prov_store.job_progress_txn, job_id)
        if progress is None:
            raise DirectoryError(errors.INVALID_FIELD, f"任务 {job_id} 不存在")
        return dict(progress)

    async def jobs(self) -> dict[str, Any]:
        ids = await self._db("jobs", prov_store.list_jobs_txn, 50)
        return {"jobs": [await self.job(i) for i in ids]}

    async def failures(self) -> dict[str, Any]:
        accounts = await self._db(
            "failed_accounts", prov_store.failed_accounts_txn, 1000
        )
        mails = await self._db(
            "failed_mails", prov_store.list_mails_txn, prov_store.MAIL_FAILED, 1000
        )
        return {"accounts": accounts, "mails": mails}

    async def mails(self, state: str | None) -> dict[str, Any]:
        if state not in (
            None,
            prov_store.MAIL_PENDING,
            prov_store.MAIL_SENT,
            prov_store.MAIL_FAILED,
        ):
            raise DirectoryError(
                errors.INVALID_FIELD, "state 只能是 pending、sent 或 failed"
            )
        return {
            "mails": await self._db("mails", prov_store.list_mails_txn, state, 1000)
        }

    async def retry(self) -> dict[str, Any]:
        accounts = await self._db(
            "retry_accounts", prov_store.retry_failed_accounts_txn
        )
        mails = await self._db(
            "retry_mails", prov_store.retry_failed_mails_txn, self._now()
        )
        self._provisioner.kick()
        self._provisioner.kick_mail()
        return {"pending_accounts": accounts, "pending_mails": mails}
