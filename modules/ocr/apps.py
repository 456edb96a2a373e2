# SPDX-License-Identifier: AGPL-3.0-or-later
"""OCR for open-API apps: the grant (the open API's one table of app rights, right
"ocr"), and the answers in the field names of WeChat's
OCR API (/cv/ocr/idcard, /cv/ocr/drivinglicense, /cv/ocr/comm), which integrators
already know; WeCom itself has no OCR API."""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.synapse.errors import SynapseError
from modules.ocr import storage
from modules.ocr.cards import driving_licence, id_card, id_card_back, id_card_side
from modules.ocr.engine import IMAGE_TOO_LARGE, Line, OcrEngine
from modules.ocr.public import OcrRefusedError
from modules.openapi import public as openapi

NOT_GRANTED = 48002
INVALID_FILE_TYPE = 40005
INVALID_FILE_SIZE = 40006


def _box(line: Line) -> dict[str, Any]:
    corners = ("left_top", "right_top", "right_bottom", "left_bottom")
    return {c: {"x": x, "y": y} for c, (x, y) in zip(corners, line.box, strict=False)}


def app_answer(kind: str, lines: list[Line]) -> dict[str, Any]:
    texts = [line.text for line in lines]
    if kind == "idcard" and id_card_side(texts) == "back":
        b = id_card_back(texts)
        compact = [d.replace("-", "") for d in (b["valid_from"], b["valid_to"])]
        return {
            "type": "Back",
            "valid_date": "-".join(compact) if all(compact) else "",
            "authority": b["authority"],
            "valid_from": b["valid_from"],
            "valid_to": b["valid_to"],
        }
    if kind == "idcard":
        f = id_card(texts)
        return {
            "type": "Front",
            "name": f["name"],
            "id": f["id_number"],
            "id_valid": f["id_number_valid"],
            "addr": f["address"],
            "gender": f["sex"],
            "nationality": f["nation"],
            "birth": f["birth"],
        }
    if kind == "driverlicense":
        f = driving_licence(texts)
        return {
            "id_num": f["licence_number"],
            "id_valid": f["licence_number_valid"],
            "name": f["name"],
            "sex": f["sex"],
            "nationality": f["nationality"],
            "address": f["address"],
            "birth_date": f["birth"],
            "issue_date": f["first_issue"],
            "car_class": f["class"],
            "valid_from": f["valid_from"],
            "valid_to": f["valid_to"],
        }
    return {"items": [{"text": line.text, "pos": _box(line)} for line in lines]}


class AppOcrService:
    def __init__(self, api: ModuleApi, engine: OcrEngine) -> None:
        self._api = api
        self._engine = engine

    async def move_legacy_grants(self) -> int:
        """Move the grants of jwwx_ocr_apps (sessions before the open API's one table
        of app rights) into that table, keeping who granted and when; the count."""
        legacy = await self._api.run_db_interaction(
            "jwwx_ocr_legacy_grants", storage.legacy_grants_txn
        )
        for agentid, admin, when in legacy:
            await openapi.grant_right(self._api, agentid, "ocr", admin, when)
        if legacy:
            await self._api.run_db_interaction(
                "jwwx_ocr_forget_legacy_grants",
                storage.forget_legacy_grants_txn,
                [a for a, _admin, _when in legacy],
            )
        return len(legacy)

    async def read_for_app(
        self, agentid: int, data: bytes, kind: str
    ) -> dict[str, Any]:
        if not await openapi.app_allowed(self._api, agentid, "ocr"):
            raise OcrRefusedError(
                NOT_GRANTED, "this app may not use OCR (ask an admin)"
            )
        try:
            lines = await self._engine.recognise(data)
        except SynapseError as e:
            code = (
                INVALID_FILE_SIZE if e.errcode == IMAGE_TOO_LARGE else INVALID_FILE_TYPE
            )
            raise OcrRefusedError(code, e.msg) from e
        return app_answer(kind, lines)
