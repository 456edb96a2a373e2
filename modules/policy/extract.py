# SPDX-License-Identifier: AGPL-3.0-or-later
"""The human-readable text of an event that the keyword filter must see."""

from collections.abc import Iterator, Mapping
from typing import Any

from modules.policy.matcher import html_to_text

# Extensible-events (MSC1767/MSC3488) location blocks carry a description too.
_LOCATION_KEYS = ("m.location", "org.matrix.msc3488.location")
_TEXT_BLOCKS = ("m.text", "org.matrix.msc1767.text")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value


def message_texts(content: Mapping[str, Any], depth: int = 0) -> Iterator[str]:
    """body, formatted_body, file names, location descriptions, and edits' new content."""
    yield from _strings(content.get("body"))
    formatted = content.get("formatted_body")
    if isinstance(formatted, str):
        yield html_to_text(formatted)
    yield from _strings(content.get("filename"))
    info = content.get("info")
    if isinstance(info, Mapping):
        yield from _strings(info.get("name"))
    for key in _LOCATION_KEYS:
        location = content.get(key)
        if isinstance(location, Mapping):
            yield from _strings(location.get("description"))
    for key in _TEXT_BLOCKS:
        blocks = content.get(key)
        if isinstance(blocks, list):
            for block in blocks:
                if isinstance(block, Mapping):
                    yield from _strings(block.get("body"))
        else:
            yield from _strings(blocks)
    new_content = content.get("m.new_content")
    if isinstance(new_content, Mapping) and depth == 0:
        yield from message_texts(new_content, depth + 1)


def event_texts(event_type: str, content: Mapping[str, Any]) -> Iterator[str]:
    if event_type in ("m.room.message", "m.sticker"):
        yield from message_texts(content)
    elif event_type == "m.room.name":
        yield from _strings(content.get("name"))
    elif event_type == "m.room.topic":
        yield from _strings(content.get("topic"))


def create_room_texts(room_config: Mapping[str, Any]) -> Iterator[str]:
    """Name and topic of a /createRoom request, and its initial name/topic state."""
    yield from _strings(room_config.get("name"))
    yield from _strings(room_config.get("topic"))
    for state in room_config.get("initial_state") or []:
        if isinstance(state, Mapping) and isinstance(state.get("content"), Mapping):
            yield from event_texts(str(state.get("type")), state["content"])
