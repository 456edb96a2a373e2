# SPDX-License-Identifier: AGPL-3.0-or-later
"""Task blocks (任务) inside a rich document, and the flow of their steps.

A task block is a Tiptap node of the editor (clients/docs/src/task.js), held in the
document's Yjs XML tree like any node:

    <taskBlock taskId="t-…" title="核查车辆" due="2026-12-31" createdBy="@li:bureau"
               steps='[{"title": "初查", "assignee": "@zhang:bureau"}, …]'/>

The server reads the blocks after an edit session ends (the last editor of a session
closes the socket) and when an editor asks (POST {doc_id}/tasks/sync, what the editor
page calls after changing a block), and keeps its task table (storage_flow.py):
a new block becomes a task whose first step is open; its assignee is told by the docs
bot (bot.py). Completing the open step is an HTTP call of that step's assignee; the
flow moves to the next step and its assignee is told; after the last step the task is
done and its creator is told (the block's createdBy, which the editor page sets to
the officer who inserted it; else the officer whose session or request read it). Changing a block keeps the steps already done (by index)
and tells a new assignee of the open step; removing it marks the task removed. The
progress (who completed which step, when; the open step) is written by the server
into the document's map "task_progress" (task id → progress), which editors show and
may not write (gate.py).

A block that does not pass the checks below is left out (the sync's answer lists why).
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, Map, XmlElement, XmlFragment

from modules.docs.storage.flow import Task

TAG = "taskBlock"
PROGRESS = "task_progress"
MAX_TASKS = 200
MAX_STEPS = 20
MAX_TITLE = 200
_TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DUE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Block:
    task_id: str
    title: str
    due: str | None
    steps: tuple[tuple[str, str], ...]  # (title, assignee)
    created_by: str | None = None


@dataclass
class Push:
    """A message for an officer about a task (bot.py sends it)."""

    user_id: str
    kind: str  # assigned | done
    task: Task


def read_blocks(doc: Doc[Any], server_name: str) -> tuple[list[Block], list[str]]:
    """The task blocks of a rich document, and why others were left out."""
    blocks: dict[str, Block] = {}
    problems: list[str] = []
    for element in _elements(doc.get("default", type=XmlFragment)):
        attrs = dict(element.attributes)
        try:
            block = _block(attrs, server_name)
        except ValueError as e:
            problems.append(f"{attrs.get('taskId', '?')}: {e}")
            continue
        if block.task_id in blocks:
            problems.append(f"{block.task_id}: 任务编号重复")
        elif len(blocks) >= MAX_TASKS:
            problems.append(f"{block.task_id}: 每个文档至多 {MAX_TASKS} 个任务")
        else:
            blocks[block.task_id] = block
    return list(blocks.values()), problems


def _elements(node: Any) -> Any:
    for child in node.children:
        if isinstance(child, XmlElement):
            if child.tag == TAG:
                yield child
            else:
                yield from _elements(child)


def _block(attrs: dict[str, Any], server_name: str) -> Block:
    task_id = attrs.get("taskId")
    if not isinstance(task_id, str) or not _TASK_ID.match(task_id):
        raise ValueError("taskId 无效")
    title = attrs.get("title")
    if not isinstance(title, str) or not 0 < len(title.strip()) <= MAX_TITLE:
        raise ValueError(f"标题须为 1..{MAX_TITLE} 个字符")
    due = attrs.get("due") or None
    if due is not None and (not isinstance(due, str) or not _DUE.match(due)):
        raise ValueError("截止日期须为 YYYY-MM-DD")
    raw = attrs.get("steps")
    try:
        steps = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise ValueError("steps 不是 JSON") from None
    if not isinstance(steps, list) or not 0 < len(steps) <= MAX_STEPS:
        raise ValueError(f"须有 1..{MAX_STEPS} 个步骤")
    found = []
    for step in steps:
        if not isinstance(step, dict):
            raise ValueError("步骤须为 {title, assignee}")
        name, who = step.get("title"), step.get("assignee")
        if not isinstance(name, str) or not 0 < len(name.strip()) <= MAX_TITLE:
            raise ValueError("步骤标题无效")
        if not isinstance(who, str) or not _local_user(who, server_name):
            raise ValueError(f"负责人须为本局账号：{who}")
        found.append((name.strip(), who))
    creator = attrs.get("createdBy")
    if not isinstance(creator, str) or not _local_user(creator, server_name):
        creator = None
    return Block(task_id, title.strip(), due, tuple(found), creator)


def _local_user(user_id: str, server_name: str) -> bool:
    return bool(re.match(r"^@[a-z0-9._=\-/]+:", user_id)) and user_id.endswith(
        ":" + server_name
    )


def _steps(block: Block) -> list[dict[str, Any]]:
    return [
        {"title": t, "assignee": a, "done_by": None, "done_ts": None}
        for t, a in block.steps
    ]


def merge(
    doc_id: str,
    blocks: list[Block],
    existing: list[Task],
    actor: str,
    now: int,
) -> tuple[list[tuple[Task, bool]], list[Push]]:
    """What to save ((task, is new)) and whom to tell, for the blocks a document now
    holds against its task table."""
    known = {t.task_id: t for t in existing}
    saves: list[tuple[Task, bool]] = []
    pushes: list[Push] = []
    for block in blocks:
        old = known.pop(block.task_id, None)
        if old is None:
            task = Task(
                doc_id,
                block.task_id,
                block.title,
                block.due,
                _steps(block),
                0,
                "open",
                block.created_by or actor,
                now,
                now,
            )
            saves.append((task, True))
            pushes.append(Push(block.steps[0][1], "assigned", task))
            continue
        steps = _steps(block)
        for i in range(min(old.current, len(steps))):  # what is done stays done
            steps[i]["done_by"] = old.steps[i].get("done_by")
            steps[i]["done_ts"] = old.steps[i].get("done_ts")
        current = min(old.current, len(steps))
        status = "done" if current == len(steps) else "open"
        task = Task(
            doc_id,
            block.task_id,
            block.title,
            block.due,
            steps,
            current,
            status,
            old.created_by,
            old.created_ts,
            now,
        )
        if (
            task.title,
            task.due,
            task.steps,
            task.current,
            task.status,
        ) == (old.title, old.due, old.steps, old.current, old.status):
            continue
        saves.append((task, False))
        who = task.assignee()
        if who is not None and who != old.assignee():
            pushes.append(Push(who, "assigned", task))
    for old in known.values():
        if old.status != "removed":
            old.status, old.updated_ts = "removed", now
            saves.append((old, False))
    return saves, pushes


def complete(task: Task, user_id: str, step: int | None, now: int) -> list[Push]:
    """Complete the open step (ValueError with the reason if it is not this user's
    to complete); whom to tell."""
    if task.status != "open":
        raise ValueError("任务已结束")
    if task.assignee() != user_id:
        raise PermissionError("只有当前步骤的负责人可以完成此步骤")
    if step is not None and step != task.current:
        raise ValueError(f"当前步骤是第 {task.current + 1} 步")
    task.steps[task.current].update(done_by=user_id, done_ts=now)
    task.current += 1
    task.updated_ts = now
    if task.current == len(task.steps):
        task.status = "done"
        return [Push(task.created_by, "done", task)]
    return [Push(str(task.steps[task.current]["assignee"]), "assigned", task)]


def progress(task: Task) -> dict[str, Any]:
    return {
        "status": task.status,
        "current_step": task.current,
        "done": [{"by": s.get("done_by"), "ts": s.get("done_ts")} for s in task.steps],
    }


def write_progress(tasks: list[Task]) -> Any:
    """The edit that makes the document's progress map match the tasks (None when
    it does already)."""

    def differs(live: Doc[Any]) -> bool:
        current = live.get(PROGRESS, type=Map)
        wanted = {t.task_id: progress(t) for t in tasks}
        return {k: _plain(v) for k, v in current.items()} != wanted

    def edit(live: Doc[Any]) -> None:
        current = live.get(PROGRESS, type=Map)
        wanted = {t.task_id: progress(t) for t in tasks}
        with live.transaction():
            for key in [k for k in current if k not in wanted]:
                del current[key]
            for key, value in wanted.items():
                if _plain(current.get(key)) != value:
                    current[key] = value

    return differs, edit


def _plain(value: Any) -> Any:
    """A value read from a Yjs map as plain JSON (pycrdt returns numbers as floats)."""
    return json.loads(json.dumps(value), parse_float=_number)


def _number(text: str) -> Any:
    number = float(text)
    return int(number) if number.is_integer() else number
