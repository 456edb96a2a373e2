# SPDX-License-Identifier: AGPL-3.0-or-later
"""The collection forms' routes (form_service.py), mounted on the document API's
routers ahead of their {doc_id} routes:

under /_jwwx/client/v1/docs (the officer's access token):
POST   forms                    a draft {title, description?, questions, respondents,
                                deadline?, editable?, anonymous?} (mine)
GET    forms?filter=mine|todo   forms I made / published forms I am asked to fill in
GET    forms/{form_id}          the form (its creator, or a respondent once published,
                                with my_answer and can_answer)
PUT    forms/{form_id}          change a draft (a published form: its deadline only)
DELETE forms/{form_id}          (creator)
POST   forms/{form_id}/publish  open it and push a card to each respondent (creator)
POST   forms/{form_id}/close    end the collection now (creator)
POST   forms/{form_id}/share-to-room {room_id}  the form's card in a chat (creator)
GET    forms/{form_id}/answer   my answer
PUT    forms/{form_id}/answer   {answers: {question id: value}} (a respondent)
GET    forms/{form_id}/results  who answered and who has not per unit, summaries
GET    forms/{form_id}/answers  every answer (no names on an anonymous form)
POST   forms/{form_id}/remind   push a reminder to those who have not answered
GET    forms/{form_id}/export?format=xlsx   the answers as an Excel file
POST   forms/{form_id}/to-sheet {title?}    a new sheet document holding the answers

and under /_jwwx/admin/v1/docs for document admins (right docs.manage over the
creator's department): GET forms?unit=&limit=, GET forms/{form_id}/results,
GET forms/{form_id}/answers, GET forms/{form_id}/export, POST forms/{form_id}/remind.
"""

from typing import Any

from modules.common.admin import check_admin_request, check_targets
from modules.common.errors import error
from modules.common.inputs import query_param, read_json_object
from modules.common.synapse.errors import Codes
from modules.docs.admin_service import newest_in_scope, target_of
from modules.docs.form_service import FormService

MANAGE = "docs.manage"


class FormRoutes:
    """The officers' routes, on the DocsResource router."""

    def __init__(self, router: Any, service: FormService) -> None:
        self._router = router
        self._service = service
        route = router.route
        route("POST", "forms", self.create)
        route("GET", "forms", self.listing)
        route("GET", "forms/{form_id}", self.get)
        route("PUT", "forms/{form_id}", self.update)
        route("DELETE", "forms/{form_id}", self.delete)
        route("POST", "forms/{form_id}/publish", self.publish)
        route("POST", "forms/{form_id}/close", self.close)
        route("POST", "forms/{form_id}/share-to-room", self.share_to_room)
        route("GET", "forms/{form_id}/answer", self.my_answer)
        route("PUT", "forms/{form_id}/answer", self.answer)
        route("GET", "forms/{form_id}/results", self.results)
        route("GET", "forms/{form_id}/answers", self.answers)
        route("POST", "forms/{form_id}/remind", self.remind)
        route("GET", "forms/{form_id}/export", self.export)
        route("POST", "forms/{form_id}/to-sheet", self.to_sheet)

    async def _user(self, request: Any) -> str:
        return str(await self._router.requester_id(request))

    async def create(self, request: Any) -> tuple[int, Any]:
        user_id = await self._user(request)
        return 200, await self._service.create(user_id, read_json_object(request))

    async def listing(self, request: Any) -> tuple[int, Any]:
        user_id = await self._user(request)
        which = query_param(request, "filter") or "mine"
        if which not in ("mine", "todo"):
            raise error(400, Codes.INVALID_PARAM, "filter 可选：mine、todo")
        limit = self._router.integer_arg(request, "limit", 50, 1, 500)
        return 200, await self._service.listing(user_id, which, limit)

    async def get(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._user(request)
        return 200, await self._service.get(user_id, form_id)

    async def update(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._user(request)
        body = read_json_object(request)
        return 200, await self._service.update(user_id, form_id, body)

    async def delete(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._user(request)
        await self._service.delete(user_id, form_id)
        return 200, {}

    async def publish(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._user(request)
        return 200, await self._service.publish(user_id, form_id)

    async def close(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._user(request)
        return 200, await self._service.close(user_id, form_id)

    async def share_to_room(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._user(request)
        body = read_json_object(request)
        return 200, await self._service.share_to_room(user_id, form_id, body)

    async def my_answer(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._user(request)
        form = await self._service.get(user_id, form_id)
        return 200, {"answer": form["my_answer"], "can_answer": form["can_answer"]}

    async def answer(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._user(request)
        body = read_json_object(request)
        return 200, await self._service.answer(user_id, form_id, body)

    async def results(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._user(request)
        return 200, await self._service.results(user_id, form_id, False)

    async def answers(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._user(request)
        return 200, await self._service.answers(user_id, form_id, False)

    async def remind(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._user(request)
        return 200, await self._service.remind(user_id, form_id, False)

    async def export(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._user(request)
        if (query_param(request, "format") or "xlsx") != "xlsx":
            raise error(400, Codes.INVALID_PARAM, "format 可选：xlsx")
        return 200, await self._service.export(user_id, form_id, False)

    async def to_sheet(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._user(request)
        body = read_json_object(request)
        return 200, await self._service.to_sheet(user_id, form_id, body)


class FormAdminRoutes:
    """Document admins' routes, on the DocsAdminResource router: the forms whose
    creator's department is in their docs.manage scope."""

    def __init__(self, router: Any, service: FormService) -> None:
        self._router = router
        self._service = service
        route = router.route
        route("GET", "forms", self.listing)
        route("GET", "forms/{form_id}/results", self.results)
        route("GET", "forms/{form_id}/answers", self.answers)
        route("GET", "forms/{form_id}/export", self.export)
        route("POST", "forms/{form_id}/remind", self.remind)

    async def _admin(self, request: Any, form_id: str) -> str:
        """The admin, who holds docs.manage over the form's department."""
        api = self._router.api
        user_id = str(await self._router.requester_id(request))
        await check_admin_request(api, request, user_id)
        department_id = await self._service.place(form_id)
        await check_targets(api, user_id, MANAGE, target_of(department_id))
        return user_id

    async def listing(self, request: Any) -> tuple[int, Any]:
        _, scope = await self._router.admin_scope(request, MANAGE)
        unit = None
        if query_param(request, "unit") is not None:
            unit = self._router.integer_arg(request, "unit", 0, 1, 10**12)
        limit = self._router.integer_arg(request, "limit", 100, 1, 1000)
        if scope.unrestricted:
            found = await self._service.unit_forms(unit, limit)
        else:
            found = await newest_in_scope(
                scope,
                lambda after: self._service.unit_forms(unit, limit, after),
                lambda f: f.department_id,
                lambda f: (f.updated_ts, f.form_id),
                limit,
            )
        return 200, {"forms": [f.as_json() for f in found]}

    async def results(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._admin(request, form_id)
        return 200, await self._service.results(user_id, form_id, True)

    async def answers(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._admin(request, form_id)
        return 200, await self._service.answers(user_id, form_id, True)

    async def export(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._admin(request, form_id)
        return 200, await self._service.export(user_id, form_id, True)

    async def remind(self, request: Any, form_id: str) -> tuple[int, Any]:
        user_id = await self._admin(request, form_id)
        answer = await self._service.remind(user_id, form_id, True)
        await self._router.log(
            request, user_id, "docs.form.remind", f"form:{form_id}", None, answer
        )
        return 200, answer
