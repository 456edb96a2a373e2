# SPDX-License-Identifier: AGPL-3.0-or-later
"""Collection forms (收集表) through the document API (forms.py has the rules).

A form is drafted by its creator (its unit and department are the creator's, as a
document's), published once — the docs bot (bot.py) then sends each respondent a
card linking to the form page (/_jwwx/docs/form/#form=ID), which opens with the
officer's own session — and answered once per officer (again, as an edit, when the
form is `editable`) until its deadline. The creator, and the document admins of his
unit (right docs.manage over his department, under /_jwwx/admin/v1/docs/forms), see
who answered and who has not, per unit, the summaries per question, remind those who
have not answered, export the answers as .xlsx (XlsxWriter) and turn them into a
sheet document. Answers are SM4-sealed in the database; on an anonymous form they
are kept under a keyed SM3 of the officer (his own edit finds it again; nobody reads
a name from it) and without times. Audited (kind "document", doc_id = the form id):
form_create, form_update, form_delete, form_publish, form_close,
form_share_to_room, form_answer, form_remind, form_results and form_answers (reading
them), form_export, form_to_sheet."""

import base64
import json
import logging
import re
import secrets
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pycrdt import Doc

from modules.audit.public import record_document
from modules.common.errors import error
from modules.common.gm import hmac_sm3, sm4_open, sm4_seal
from modules.common.heavy_imports import import_frozen
from modules.common.http import RawBody
from modules.common.storage import Txn
from modules.common.synapse.errors import Codes
from modules.common.synapse.runtime import keyed_lock
from modules.directory import public as directory
from modules.docs import forms, roles, sheet_export, sheets, units
from modules.docs.bot import card
from modules.docs.storage import forms as store
from modules.docs.storage.forms import Form

if TYPE_CHECKING:
    from modules.docs.bot import DocsBot
    from modules.docs.service import DocsService

logger = logging.getLogger(__name__)

FORM_NOT_FOUND = "CN_JWWX_DOC_FORM_NOT_FOUND"
NOT_RESPONDENT = "CN_JWWX_DOC_FORM_NOT_RESPONDENT"
FORM_CLOSED = "CN_JWWX_DOC_FORM_CLOSED"
ANSWERED = "CN_JWWX_DOC_FORM_ANSWERED"
NOT_PUBLISHED = "CN_JWWX_DOC_FORM_NOT_PUBLISHED"
PUBLISHED = "CN_JWWX_DOC_FORM_PUBLISHED"
FORM_PAGE = "/_jwwx/docs/form/"
MAX_PENDING_LISTED = 500  # names of those who have not answered, per unit
CHINA = timezone(timedelta(hours=8))
_ROOM_ID = re.compile(r"^![^:\s]{1,255}:[^\s]{1,255}$")


def form_link(base_url: str, form_id: str) -> str:
    return f"{base_url.rstrip('/')}{FORM_PAGE}#form={quote(form_id)}"


def show_time(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, CHINA).strftime("%Y-%m-%d %H:%M")


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


class FormService:
    def __init__(self, docs: "DocsService", bot: "DocsBot") -> None:
        self.docs = docs
        self.api = docs.api
        self.bot = bot
        self.server_name = docs.server_name
        self._lock = keyed_lock(self.api, "jwwx_docs_form_answer")

    def _now(self) -> int:
        return int(self.api.get_current_time_msec())

    async def _form(self, form_id: str) -> Form:
        await self.docs.runtime.ready()
        form = await self.api.run_db_interaction(
            "jwwx_docs_form", store.get_txn, form_id
        )
        if form is None:
            raise error(404, FORM_NOT_FOUND, "收集表不存在")
        return form

    async def _own(self, user_id: str, form_id: str) -> Form:
        form = await self._form(form_id)
        if form.creator != user_id:
            if form.status == "draft":
                raise error(404, FORM_NOT_FOUND, "收集表不存在")
            raise error(403, Codes.FORBIDDEN, "只有收集表的创建者可以这样做")
        return form

    # The creator's side

    async def create(self, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
        await self.docs.runtime.ready()
        if set(body) - forms.DEFINITION_KEYS:
            raise forms.invalid(f"只可有 {', '.join(sorted(forms.DEFINITION_KEYS))}")
        now = self._now()
        form = Form(
            "f_" + secrets.token_urlsafe(12),
            forms.title(body.get("title")),
            forms.description(body.get("description")),
            forms.questions(body.get("questions")),
            forms.respondents(body.get("respondents"), self.server_name).as_json(),
            forms.deadline(body.get("deadline"), now),
            forms.flag(body, "editable", False),
            forms.flag(body, "anonymous", False),
            "draft",
            user_id,
            None,
            None,
            now,
            now,
            None,
        )

        def create_txn(txn: Txn) -> None:
            _known_txn(txn, form.respondents)
            form.unit_id, form.department_id = units.place_txn(
                txn, user_id, self.server_name
            )
            store.create_txn(txn, form)

        await self.api.run_db_interaction("jwwx_docs_form_create", create_txn)
        await record_document(
            self.api, user_id, "form_create", form.form_id, title=form.title
        )
        return form.as_json()

    async def update(
        self, user_id: str, form_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A draft: any part of its definition; a published form: its deadline only
        (the questions answered already stay as they were)."""
        form = await self._own(user_id, form_id)
        if set(body) - forms.DEFINITION_KEYS or not body:
            raise forms.invalid(f"只可有 {', '.join(sorted(forms.DEFINITION_KEYS))}")
        now = self._now()
        if form.status != "draft" and set(body) - {"deadline"}:
            raise error(409, PUBLISHED, "收集表已发布：只能修改截止时间")
        if "title" in body:
            form.title = forms.title(body["title"])
        if "description" in body:
            form.description = forms.description(body["description"])
        if "questions" in body:
            form.questions = forms.questions(body["questions"])
        if "respondents" in body:
            form.respondents = forms.respondents(
                body["respondents"], self.server_name
            ).as_json()
        if "deadline" in body:
            form.deadline_ts = forms.deadline(body["deadline"], now)
        form.editable = forms.flag(body, "editable", form.editable)
        form.anonymous = forms.flag(body, "anonymous", form.anonymous)
        form.updated_ts = now

        def update_txn(txn: Txn) -> None:
            if "respondents" in body:
                _known_txn(txn, form.respondents)
            store.update_txn(txn, form)

        await self.api.run_db_interaction("jwwx_docs_form_update", update_txn)
        await record_document(
            self.api, user_id, "form_update", form_id, changed=sorted(body)
        )
        return form.as_json()

    async def delete(self, user_id: str, form_id: str) -> None:
        await self._own(user_id, form_id)
        await self.api.run_db_interaction(
            "jwwx_docs_form_delete", store.delete_txn, form_id, self._now()
        )
        await record_document(self.api, user_id, "form_delete", form_id)

    async def publish(self, user_id: str, form_id: str) -> dict[str, Any]:
        """Open the form for answers and send each respondent its card (in the
        background: a department may hold thousands; a form open to the whole bureau
        is sent to nobody — its creator shares the link)."""
        form = await self._own(user_id, form_id)
        if form.status != "draft":
            raise error(409, PUBLISHED, "收集表已发布")
        now = self._now()
        if form.deadline_ts is not None and form.deadline_ts <= now:
            raise error(409, FORM_CLOSED, "截止时间已过：请先修改截止时间")
        form.status, form.published_ts, form.updated_ts = "published", now, now
        await self.api.run_db_interaction(
            "jwwx_docs_form_publish", store.update_txn, form
        )
        targets: list[str] = []
        if not form.respondents.get("bureau"):
            targets = sorted(await self._expected(form))
        await record_document(
            self.api,
            user_id,
            "form_publish",
            form_id,
            title=form.title,
            respondents=form.respondents,
            pushed=len(targets),
        )
        self.api.run_as_background_process(
            "jwwx_docs_form_push", self._push, form, targets, "收集表"
        )
        answer = form.as_json()
        answer["pushed"] = len(targets)
        answer["link"] = form_link(self.api.public_baseurl, form_id)
        return answer

    async def close(self, user_id: str, form_id: str) -> dict[str, Any]:
        """End the collection now (结束收集): the deadline becomes now."""
        form = await self._own(user_id, form_id)
        if form.status != "published":
            raise error(409, NOT_PUBLISHED, "收集表尚未发布")
        if self._closed(form):
            raise error(409, FORM_CLOSED, "收集表已截止")
        now = self._now()
        form.deadline_ts, form.updated_ts = now, now
        await self.api.run_db_interaction(
            "jwwx_docs_form_close", store.update_txn, form
        )
        await record_document(self.api, user_id, "form_close", form_id)
        answer = form.as_json()
        answer["closed"] = True
        return answer

    async def share_to_room(
        self, user_id: str, form_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """The creator posts, as himself, the form's card into a chat he is in (how a
        form open to the whole bureau reaches its officers): each who opens it
        answers as himself, if he is among the respondents (the card grants
        nothing). Not in the room: Synapse's own 403."""
        form = await self._own(user_id, form_id)
        if form.status != "published":
            raise error(409, NOT_PUBLISHED, "收集表尚未发布")
        if set(body) - {"room_id"}:
            raise forms.invalid("只可有 room_id")
        room_id = body.get("room_id")
        if not isinstance(room_id, str) or not _ROOM_ID.match(room_id):
            raise forms.invalid("room_id 须为房间 ID（!…:…）")
        due = f"，{show_time(form.deadline_ts)} 截止" if form.deadline_ts else ""
        content = card(
            form.title,
            f"收集表 · 点击填写（按你的身份）{due}",
            form_link(self.api.public_baseurl, form_id),
            "填写",
        )
        content["cn.jwwx.form"] = {"form_id": form_id, "title": form.title}
        event = await self.api.create_and_send_event_into_room(
            {
                "type": "m.room.message",
                "room_id": room_id,
                "sender": user_id,
                "content": content,
            }
        )
        await record_document(
            self.api,
            user_id,
            "form_share_to_room",
            form_id,
            room_id=room_id,
            event_id=event.event_id,
        )
        return {"event_id": event.event_id, "room_id": room_id}

    async def _push(self, form: Form, targets: list[str], what: str) -> None:
        due = f"，请于 {show_time(form.deadline_ts)} 前填写" if form.deadline_ts else ""
        content = card(
            f"{what}：{form.title}",
            (form.description[:100] or "请填写收集表") + due,
            form_link(self.api.public_baseurl, form.form_id),
            "填写",
        )
        content["cn.jwwx.form"] = {"form_id": form.form_id, "title": form.title}
        for user_id in targets:
            try:
                await self.bot.tell(user_id, content)
            except Exception:
                logger.exception("cannot tell %s of form %s", user_id, form.form_id)

    async def remind(self, user_id: str, form_id: str, admin: bool) -> dict[str, Any]:
        """A reminder to every expected respondent who has not answered."""
        form = await self._form(form_id) if admin else await self._own(user_id, form_id)
        if form.status != "published":
            raise error(409, NOT_PUBLISHED, "收集表尚未发布")
        if self._closed(form):
            raise error(409, FORM_CLOSED, "收集表已截止")
        answered = await self.api.run_db_interaction(
            "jwwx_docs_form_answered", store.answered_txn, form_id
        )
        pending = sorted((await self._expected(form)) - set(answered))
        await record_document(
            self.api, user_id, "form_remind", form_id, to=len(pending), by_admin=admin
        )
        self.api.run_as_background_process(
            "jwwx_docs_form_remind", self._push, form, pending, "提醒填写收集表"
        )
        return {"reminded": len(pending)}

    # Respondents

    async def _expected(self, form: Form) -> set[str]:
        found: set[str] = await self.api.run_db_interaction(
            "jwwx_docs_form_expected", self._expected_txn, form
        )
        return found

    def _expected_txn(self, txn: Txn, form: Form) -> set[str]:
        """Every officer the form asks (Matrix user ids): the persons named, and the
        enabled directory members of its departments' subtrees and its tags (for a
        form open to the bureau, every member whose account exists)."""
        r = forms.respondents_from_json(form.respondents)
        found = set(r.users)
        userids: set[str] = set()
        department_ids = set(r.departments)
        for tag_id in r.tags:
            tag = directory.get_tag_txn(txn, tag_id)
            if tag is not None:
                userids.update(tag.userids)
                department_ids.update(tag.department_ids)
        departments = directory.get_departments_txn(txn, sorted(department_ids))
        for department in departments.values():
            userids.update(directory.department_userids_txn(txn, department, True))
        if r.bureau:  # every account of the bureau
            everyone = directory.MemberRange(frozenset(), (), True)
            userids.update(directory.deliverable_txn(txn, everyone))
        members = directory.get_members_txn(txn, sorted(userids))
        found.update(
            f"@{u}:{self.server_name}" for u, m in members.items() if m.enabled
        )
        return found

    def _respondent_txn(self, txn: Txn, form: Form, user_id: str) -> bool:
        r = forms.respondents_from_json(form.respondents)
        if user_id in r.users:
            return True
        person = roles.person_txn(txn, user_id, self.server_name)
        if not person.local:
            return False
        if r.bureau or person.departments.intersection(r.departments):
            return True
        return bool(roles.tags_held_txn(txn, person, [str(t) for t in r.tags]))

    def _closed(self, form: Form) -> bool:
        return form.deadline_ts is not None and form.deadline_ts <= self._now()

    # The respondent's side

    async def get(self, user_id: str, form_id: str) -> dict[str, Any]:
        """The form as its creator or a respondent sees it (with his answer)."""
        form = await self._form(form_id)
        answer = form.as_json()
        answer["closed"] = self._closed(form)
        if form.creator == user_id:
            answer["role"] = "creator"
            answer["link"] = form_link(self.api.public_baseurl, form_id)
        else:
            if form.status != "published":
                raise error(404, FORM_NOT_FOUND, "收集表不存在")
            await self._require_respondent(form, user_id)
            answer["role"] = "respondent"
            del answer["respondents"]
        mine = await self._my_answer(form, user_id)
        answer["my_answer"] = mine
        answer["can_answer"] = (
            form.status == "published"
            and not answer["closed"]
            and (mine is None or form.editable)
            and (form.creator != user_id or await self._is_respondent(form, user_id))
        )
        return answer

    async def _is_respondent(self, form: Form, user_id: str) -> bool:
        return bool(
            await self.api.run_db_interaction(
                "jwwx_docs_form_respondent", self._respondent_txn, form, user_id
            )
        )

    async def _require_respondent(self, form: Form, user_id: str) -> None:
        if not await self._is_respondent(form, user_id):
            raise error(403, NOT_RESPONDENT, "你不在此收集表的填写范围内")

    def _answer_keys(self, form: Form, user_id: str) -> list[str]:
        """Where an officer's answer is kept: his user id, or on an anonymous form a
        keyed SM3 of it (one per key, the current one first)."""
        if not form.anonymous:
            return [user_id]
        config = self.docs.config
        ids = [config.current_key_id] + sorted(
            k for k in config.keys if k != config.current_key_id
        )
        data = f"{form.form_id}\n{user_id}".encode()
        return [f"a:{k}:{hmac_sm3(config.keys[k], data).hex()}" for k in ids]

    def _open(self, key_id: str, sealed: str) -> dict[str, Any]:
        body = sm4_open(self.docs.config.keys[key_id], base64.b64decode(sealed))
        found: dict[str, Any] = json.loads(body)
        return found

    async def _my_answer(self, form: Form, user_id: str) -> dict[str, Any] | None:
        def find(txn: Txn) -> tuple[str, tuple[str, str, int, int]] | None:
            if not store.has_answered_txn(txn, form.form_id, user_id):
                return None
            for key in self._answer_keys(form, user_id):
                row = store.get_answer_txn(txn, form.form_id, key)
                if row is not None:
                    return key, row
            return None

        found = await self.api.run_db_interaction("jwwx_docs_form_mine", find)
        if found is None:
            return None
        _, (key_id, sealed, _, _) = found
        return {"answers": self._open(key_id, sealed)}

    async def answer(
        self, user_id: str, form_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """The officer's answer: checked whole against the questions (nothing
        stored otherwise), one per officer, replaced only on an editable form, never
        after the deadline."""
        form = await self._form(form_id)
        if form.status != "published":
            if form.creator != user_id:
                raise error(404, FORM_NOT_FOUND, "收集表不存在")
            raise error(409, NOT_PUBLISHED, "收集表尚未发布")
        await self._require_respondent(form, user_id)
        if self._closed(form):
            raise error(
                409, FORM_CLOSED, f"收集表已于 {show_time(form.deadline_ts)} 截止"
            )
        answers = forms.answer(form.questions, body)
        config = self.docs.config
        sealed = base64.b64encode(
            sm4_seal(config.current_key, json.dumps(answers).encode())
        ).decode()
        keys = self._answer_keys(form, user_id)

        def save_txn(txn: Txn) -> bool:
            key = keys[0]
            if store.has_answered_txn(txn, form_id, user_id):
                if not form.editable:
                    raise error(409, ANSWERED, "你已填写过此收集表（不允许修改）")
                key = next(
                    (k for k in keys if store.get_answer_txn(txn, form_id, k)), key
                )
            unit_id, _ = units.place_txn(txn, user_id, self.server_name)
            return store.save_answer_txn(
                txn,
                form_id,
                user_id,
                unit_id,
                key,
                config.current_key_id,
                sealed,
                self._now(),
                not form.anonymous,
            )

        async with self._lock(f"{form_id}\n{user_id}"):
            try:
                new = await self.api.run_db_interaction(
                    "jwwx_docs_form_answer", save_txn
                )
            except store.AnsweredMeanwhileError:
                raise error(
                    409, ANSWERED, "你的答案已由另一请求提交，请刷新后再试"
                ) from None
        await record_document(
            self.api,
            user_id,
            "form_answer",
            form_id,
            edit=not new,
            questions=len(answers),
        )
        return {"answers": answers, "edited": not new}

    async def listing(self, user_id: str, which: str, limit: int) -> dict[str, Any]:
        """mine: the forms I made; todo: published, open forms I am asked to fill
        in (each with `answered`)."""
        await self.docs.runtime.ready()
        if which == "mine":
            made = await self.api.run_db_interaction(
                "jwwx_docs_forms_mine", store.created_by_txn, user_id, limit
            )
            return {"forms": [f.as_json() for f in made]}

        def todo_txn(txn: Txn) -> list[dict[str, Any]]:
            found = []
            for form in store.open_forms_txn(txn, self._now(), 1000):
                if self._respondent_txn(txn, form, user_id):
                    item = form.as_json()
                    del item["respondents"]
                    item["answered"] = store.has_answered_txn(
                        txn, form.form_id, user_id
                    )
                    found.append(item)
                    if len(found) >= limit:
                        break
            return found

        return {"forms": await self.api.run_db_interaction("jwwx_docs_todo", todo_txn)}

    # Results: the creator's (and his unit's document admins')

    async def viewable(self, user_id: str, form_id: str, admin: bool) -> Form:
        return await self._form(form_id) if admin else await self._own(user_id, form_id)

    async def _rows(self, form: Form) -> list[tuple[str, dict[str, Any], int, int]]:
        """(answer key, answers, created_ts, updated_ts) of every answer."""
        found = await self.api.run_db_interaction(
            "jwwx_docs_form_answers", store.answers_txn, form.form_id
        )
        return [(k, self._open(kid, body), c, u) for k, kid, body, c, u in found]

    async def results(self, user_id: str, form_id: str, admin: bool) -> dict[str, Any]:
        form = await self.viewable(user_id, form_id, admin)
        expected = await self._expected(form)

        def progress_txn(txn: Txn) -> dict[str, Any]:
            answered = store.answered_txn(txn, form_id)
            everyone = sorted(expected | set(answered))
            local = [
                u[1:].partition(":")[0]
                for u in everyone
                if u.partition(":")[2] == self.server_name
            ]
            unit_of = directory.units_of_txn(txn, local)
            names = {
                userid: m.name
                for userid, m in directory.get_members_txn(txn, local).items()
            }
            by_unit: dict[int | None, dict[str, Any]] = {}
            for user in everyone:
                localpart = user[1:].partition(":")[0]
                unit = unit_of.get(localpart)
                row = by_unit.setdefault(
                    unit[0] if unit else None,
                    {
                        "unit_id": unit[0] if unit else None,
                        "name": unit[1] if unit else "（无单位）",
                        "expected": 0,
                        "answered": 0,
                        "pending_count": 0,
                        "pending": [],
                    },
                )
                if user in expected:
                    row["expected"] += 1
                if user in answered:
                    row["answered"] += 1
                else:
                    row["pending_count"] += 1
                    if len(row["pending"]) < MAX_PENDING_LISTED:
                        row["pending"].append(
                            {"user_id": user, "name": names.get(localpart)}
                        )
            return {
                "expected": len(expected),
                "answered": len(answered),
                "pending": len(expected - set(answered)),
                "units": sorted(
                    by_unit.values(),
                    key=lambda r: (r["unit_id"] is None, r["unit_id"] or 0),
                ),
                "answered_users": [
                    {
                        "user_id": u,
                        "name": names.get(u[1:].partition(":")[0]),
                        "answered_ts": answered[u][1],
                    }
                    for u in sorted(answered, key=lambda u: answered[u][1])
                ],
            }

        progress = await self.api.run_db_interaction(
            "jwwx_docs_form_progress", progress_txn
        )
        rows = await self._rows(form)
        await record_document(
            self.api, user_id, "form_results", form_id, by_admin=admin
        )
        return {
            "form_id": form_id,
            "title": form.title,
            "status": form.status,
            "closed": self._closed(form),
            "anonymous": form.anonymous,
            **progress,
            "questions": forms.summary(form.questions, [r[1] for r in rows]),
        }

    async def answers(self, user_id: str, form_id: str, admin: bool) -> dict[str, Any]:
        form = await self.viewable(user_id, form_id, admin)
        found = []
        for key, answers, created, updated in await self._rows(form):
            item: dict[str, Any] = {"answers": answers}
            if not form.anonymous:
                item.update(user_id=key, created_ts=created, updated_ts=updated)
            found.append(item)
        await record_document(
            self.api, user_id, "form_answers", form_id, by_admin=admin
        )
        return {"anonymous": form.anonymous, "answers": found}

    async def _sheets(self, form: Form) -> tuple[list[sheets.Sheet], int]:
        """The answers as a sheet (one row per answer, a column per question) and a
        second sheet of the counts per option."""
        rows = await self._rows(form)
        names: dict[str, str] = {}
        if not form.anonymous:
            local = [k[1:].partition(":")[0] for k, _, _, _ in rows]
            members = await self.api.run_db_interaction(
                "jwwx_docs_form_names", directory.get_members_txn, local
            )
            names = {f"@{u}:{self.server_name}": m.name for u, m in members.items()}
        head = ["序号"]
        if not form.anonymous:
            head += ["填写人", "账号", "提交时间"]
        head += [q["title"] for q in form.questions]
        bold = {"b": True}
        cells: dict[str, dict[str, Any]] = {
            f"{_column(i)}1": {"v": text, "s": bold} for i, text in enumerate(head)
        }
        for number, (key, answers, _, updated) in enumerate(rows, 1):
            line: list[Any] = [number]
            if not form.anonymous:
                line += [names.get(key, key), key, show_time(updated)]
            line += [forms.cell_value(q, answers.get(q["id"])) for q in form.questions]
            for i, value in enumerate(line):
                if value is not None and value != "":
                    cells[f"{_column(i)}{number + 1}"] = {"v": value}
        counts: dict[str, dict[str, Any]] = {
            "A1": {"v": "问题", "s": bold},
            "B1": {"v": "选项", "s": bold},
            "C1": {"v": "人数", "s": bold},
        }
        line_no = 2
        for item in forms.summary(form.questions, [r[1] for r in rows]):
            for option in item.get("options", []):
                counts[f"A{line_no}"] = {"v": item["title"]}
                counts[f"B{line_no}"] = {"v": option["option"]}
                counts[f"C{line_no}"] = {"v": option["count"]}
                line_no += 1
        found = [sheets.Sheet("答卷", cells), sheets.Sheet("选项统计", counts)]
        return found, len(rows)

    async def export(self, user_id: str, form_id: str, admin: bool) -> RawBody:
        form = await self.viewable(user_id, form_id, admin)
        found, count = await self._sheets(form)
        import_frozen("xlsxwriter")
        data = await self.api.defer_to_thread(sheet_export.to_xlsx, found)
        await record_document(
            self.api,
            user_id,
            "form_export",
            form_id,
            format="xlsx",
            answers=count,
            by_admin=admin,
        )
        return RawBody(sheet_export.XLSX_TYPE, data, filename=f"{form.title}.xlsx")

    async def to_sheet(
        self, user_id: str, form_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A new sheet document of the caller's holding the answers (unit quotas
        apply as to any new document)."""
        form = await self._own(user_id, form_id)
        if set(body) - {"title"}:
            raise forms.invalid("只可有 title")
        title = forms.title(body.get("title", f"{form.title}（汇总）"))
        found, _ = await self._sheets(form)
        doc: Doc[Any] = Doc()
        sheets.write(doc, found)
        answer = await self.docs.create_with(user_id, title, "sheet", doc.get_update())
        await record_document(
            self.api, user_id, "create", answer["doc_id"], title=title, form=form_id
        )
        await record_document(
            self.api, user_id, "form_to_sheet", form_id, doc_id_created=answer["doc_id"]
        )
        answer["form_id"] = form_id
        return answer

    async def unit_forms(
        self, unit: int | None, limit: int, after: tuple[int, str] | None = None
    ) -> list[Form]:
        await self.docs.runtime.ready()
        found: list[Form] = await self.api.run_db_interaction(
            "jwwx_docs_unit_forms", store.unit_forms_txn, unit, limit, after
        )
        return found

    async def place(self, form_id: str) -> int | None:
        return (await self._form(form_id)).department_id


def _known_txn(txn: Txn, respondents: dict[str, Any]) -> None:
    """400 naming the first department or tag of the respondents the directory does
    not have (nothing is stored)."""
    wanted = list(respondents.get("departments", []))
    found = directory.get_departments_txn(txn, wanted)
    missing = [d for d in wanted if d not in found]
    if missing:
        raise forms.invalid(f"部门 {missing[0]} 不存在")
    for tag_id in respondents.get("tags", []):
        if directory.get_tag_txn(txn, tag_id) is None:
            raise forms.invalid(f"标签 {tag_id} 不存在")
