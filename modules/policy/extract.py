# SPDX-License-Identifier: AGPL-3.0-or-later
"""The text of an event (or request) that the keyword filter must see.

Every event type is read the same way, so that no field and no custom type is left out:
the event type, its state key, and every string in its content, object keys included
(a custom type may put text in a key), walked to any depth. The only values not read
are those under IDENTIFIER_KEYS: identifiers, hashes, keys and URLs that clients never
show as text (and that an ASCII keyword could hit by chance). `formatted_body` is read
as HTML; any other string that contains '<' is read both as text and as HTML
(extensible events' HTML text blocks). docs/policy.md lists the fields this covers.
"""

from collections.abc import Iterator, Mapping
from typing import Any

# A text to check, and whether it is HTML.
Text = tuple[str, bool]

IDENTIFIER_KEYS = frozenset(
    {
        # Matrix identifiers and references
        "event_id",
        "room_id",
        "user_id",
        "sender",
        "creator",
        "additional_creators",
        "predecessor",
        "replacement_room",
        "via",
        "redacts",
        "join_authorised_via_users_server",
        # enumerations defined by the spec
        "msgtype",
        "format",
        "mimetype",
        "rel_type",
        "membership",
        "join_rule",
        "history_visibility",
        "guest_access",
        "room_version",
        "algorithm",
        # media and links (mxc://, geo:, http: validation URLs)
        "url",
        "thumbnail_url",
        "avatar_url",
        "geo_uri",
        "key_validity_url",
        # keys, hashes, signatures and encrypted-file parameters
        "hashes",
        "signatures",
        "public_key",
        "public_keys",
        "token",
        "iv",
        "k",
        "key_ops",
        "kty",
        "alg",
    }
)
HTML_KEYS = frozenset({"formatted_body"})


def content_texts(content: Any) -> Iterator[Text]:
    """Every key and string value of a JSON value, except identifier fields."""
    stack: list[tuple[Any, bool]] = [(content, False)]
    while stack:
        value, as_html = stack.pop()
        if isinstance(value, str):
            yield value, as_html
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str) or key in IDENTIFIER_KEYS:
                    continue
                yield key, False
                stack.append((item, key in HTML_KEYS))
        elif isinstance(value, list | tuple):
            stack.extend((item, as_html) for item in value)


def event_texts(
    event_type: str, state_key: str | None, content: Mapping[str, Any]
) -> Iterator[Text]:
    yield event_type, False
    if state_key:
        yield state_key, False
    yield from content_texts(content)


def create_room_texts(room_config: Mapping[str, Any]) -> Iterator[Text]:
    """A /createRoom request: name, topic, room_alias_name, initial_state (types, state
    keys, contents), creation_content, power-level overrides, invites: all of it."""
    yield from content_texts(room_config)
