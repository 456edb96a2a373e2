# SPDX-License-Identifier: AGPL-3.0-or-later
"""The task flow's HTTP side (tasks.py has the rules): reading a document's task
blocks into the task table, completing a step, the task lists; the pushes go through
the docs bot (bot.py), every change to the audit archive (kind "document": actions
task_assign, task_step_done, task_done, task_removed)."""

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from synapse.module_api import ModuleApi

from modules.audit.public import record_document
from modules.common.errors import error
from modules.common.synapse.errors import Codes
from modules.common.synapse.runtime import keyed_lock
from modules.docs import tasks
from modules.docs.bot import DocsBot, card
from modules.docs.storage import flow as storage_flow
from modules.docs.storage.flow import Task

if TYPE_CHECKING:
    from modules.docs.service import DocsService

logger = logging.getLogger(__name__)

TASK_NOT_FOUND = "CN_JWWX_DOC_TASK_NOT_FOUND"
TASK_NOT_YOURS = "CN_JWWX_DOC_TASK_NOT_YOURS"
TASK_STEP = "CN_JWWX_DOC_TASK_STEP"
STATUSES = ("open", "done", "all")


def editor_link(api: ModuleApi, doc_id: str) -> str:
    return f"{api.public_baseurl.rstrip('/')}/_jwwx/docs/app/#doc={quote(doc_id)}"


class TaskService:
    def __init__(self, docs: "DocsService", bot: DocsBot) -> None:
        self.docs = docs
        self.api = docs.api
        self.bot = bot
        self._lock = keyed_lock(self.api, "jwwx_docs_tasks")

    async def sync(self, doc_id: str, actor: str) -> dict[str, Any]:
        """Read the document's task blocks into the task table (an editor's request,
        or the end of an edit session)."""
        room = await self.docs.rooms.open(doc_id)
        try:
            async with self._lock(doc_id):
                blocks, problems = tasks.read_blocks(room.doc, self.api.server_name)
                now = self.api.get_current_time_msec()
                saves, pushes = await self.api.run_db_interaction(
                    "jwwx_docs_sync_tasks", self._sync_txn, doc_id, blocks, actor, now
                )
                found = await self._tasks(doc_id)
                self._write_progress(room, found)
        finally:
            await self.docs.rooms.release(room)
        for task, _ in saves:
            if task.status == "removed":
                await record_document(
                    self.api, actor, "task_removed", doc_id, task_id=task.task_id
                )
        await self._tell(pushes, actor)
        return {"tasks": [t.as_json() for t in found], "problems": problems}

    def _sync_txn(
        self, txn: Any, doc_id: str, blocks: list[tasks.Block], actor: str, now: int
    ) -> tuple[list[tuple[Task, bool]], list[tasks.Push]]:
        existing = storage_flow.doc_tasks_txn(txn, doc_id)
        saves, pushes = tasks.merge(doc_id, blocks, existing, actor, now)
        for task, new in saves:
            storage_flow.save_task_txn(txn, task, new)
        return saves, pushes

    async def _tasks(self, doc_id: str) -> list[Task]:
        found: list[Task] = await self.api.run_db_interaction(
            "jwwx_docs_tasks", storage_flow.doc_tasks_txn, doc_id
        )
        return found

    def _write_progress(self, room: Any, found: list[Task]) -> None:
        differs, edit = tasks.write_progress(found)
        if differs(room.doc):
            room.change(self.bot.user_id, edit)

    async def _tell(self, pushes: list[tasks.Push], actor: str) -> None:
        for push in pushes:
            task = push.task
            if push.kind == "assigned":
                step = task.steps[task.current]
                title = f"任务：{task.title}"
                text = (
                    f"《{task.doc_title}》第 {task.current + 1}/{len(task.steps)} 步"
                    f"「{step['title']}」由你负责"
                    + (f"，截止 {task.due}" if task.due else "")
                )
                action = "task_assign"
            else:
                title = f"任务已完成：{task.title}"
                text = f"《{task.doc_title}》的任务各步骤均已完成"
                action = "task_done"
            try:
                await self.bot.tell(
                    push.user_id,
                    card(title, text, editor_link(self.api, task.doc_id), "查看"),
                )
            except Exception:
                logger.exception(
                    "cannot tell %s of task %s", push.user_id, task.task_id
                )
            await record_document(
                self.api,
                actor,
                action,
                task.doc_id,
                task_id=task.task_id,
                step=task.current,
                to=push.user_id,
            )

    async def complete(
        self, user_id: str, doc_id: str, task_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """The open step done by its assignee: the flow moves on."""
        if set(body) - {"step"}:
            raise error(400, Codes.INVALID_PARAM, "只可有 step")
        step = body.get("step")
        if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
            raise error(400, Codes.INVALID_PARAM, "step 须为整数（从 0 起）")
        async with self._lock(doc_id):
            now = self.api.get_current_time_msec()
            task, pushes = await self.api.run_db_interaction(
                "jwwx_docs_complete_task",
                self._complete_txn,
                doc_id,
                task_id,
                user_id,
                step,
                now,
            )
            room = await self.docs.rooms.open(doc_id)
            try:
                self._write_progress(room, await self._tasks(doc_id))
                await room.flushed()
            finally:
                await self.docs.rooms.release(room)
        await record_document(
            self.api,
            user_id,
            "task_step_done",
            doc_id,
            task_id=task_id,
            step=task.current - 1,
        )
        await self._tell(pushes, user_id)
        return task.as_json()

    def _complete_txn(
        self,
        txn: Any,
        doc_id: str,
        task_id: str,
        user_id: str,
        step: int | None,
        now: int,
    ) -> tuple[Task, list[tasks.Push]]:
        task = storage_flow.get_task_txn(txn, doc_id, task_id)
        if task is None or task.status == "removed":
            raise error(404, TASK_NOT_FOUND, "任务不存在")
        try:
            pushes = tasks.complete(task, user_id, step, now)
        except PermissionError as e:
            raise error(403, TASK_NOT_YOURS, str(e)) from e
        except ValueError as e:
            raise error(409, TASK_STEP, str(e)) from e
        storage_flow.save_task_txn(txn, task, False)
        return task, pushes

    async def doc_tasks(self, user_id: str, doc_id: str) -> dict[str, Any]:
        await self.docs.require(doc_id, user_id, "reader")
        return {"tasks": [t.as_json() for t in await self._tasks(doc_id)]}

    async def mine(self, user_id: str, status: str, limit: int) -> dict[str, Any]:
        if status not in STATUSES:
            raise error(400, Codes.INVALID_PARAM, f"status 可选：{', '.join(STATUSES)}")
        await self.docs.runtime.ready()
        found = await self.api.run_db_interaction(
            "jwwx_docs_my_tasks", storage_flow.officer_tasks_txn, user_id, status, limit
        )
        return {"tasks": [t.as_json() for t in found]}

    async def after_session(self, doc_id: str, kind: str, user_id: str) -> None:
        """An edit session of a rich document ended: read its task blocks."""
        if kind != "rich":
            return
        try:
            await self.sync(doc_id, user_id)
        except Exception:
            logger.exception("document %s: reading its tasks failed", doc_id)
