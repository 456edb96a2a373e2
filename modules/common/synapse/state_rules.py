# SPDX-License-Identifier: AGPL-3.0-or-later
"""The replacement of ThirdPartyEventRulesModuleApiCallbacks.check_event_allowed (on the
instance): rules for state events, with the room state before them (modules.groups,
modules.policy). Beside patches.py, which holds the other replacements, for its size.

Why a wrapper: a registered check_event_allowed callback makes Synapse load the room's
whole state for every event (a message into a 500-member group: 500+ events) before
calling it; the spam checker's membership callbacks see no leave, kick or ban, skip
server admins and federation, and nothing else sees /createRoom's initial state. So no
module registers check_event_allowed (tests/modules/common/test_synapse_patches.py
keeps it so): messages are checked by check_event_for_spam, which needs no state, and
state events by these rules, pinned in patch_points.PATCH_POINTS. Remote state events
get them through the federation event handler's auth check (_check_federated_state).
"""

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from twisted.internet import defer

from synapse.module_api import ModuleApi

from modules.common.synapse._internal import hs_of
from modules.common.synapse.patch_points import check_patch_points, wraps_original

logger = logging.getLogger(__name__)

# (state event, room state before it) -> allowed? A SynapseError raised is the answer.
StateEventRule = Callable[[Any, Mapping[tuple[str, str], Any]], Awaitable[bool]]


def add_state_event_rule(api: ModuleApi, rule: StateEventRule) -> None:
    """Run `rule` on every state event (membership included) that Synapse checks with
    third-party rules: local ones from any path (clients, server admins, /createRoom's
    initial state, modules) and remote ones over federation, with the room state
    before the event. Registering any check_event_allowed callback makes Synapse load
    the room's whole state for every event (a message into a 500-member group: 500+
    events); these rules need it only for state events, so only those pay for it.
    Messages keep their checks in the spam checker (check_event_for_spam)."""
    check_patch_points()
    from synapse.api.errors import ModuleFailedException, SynapseError
    from synapse.util.async_helpers import delay_cancellation

    rules_holder = hs_of(api).get_module_api_callbacks().third_party_event_rules
    rules: list[StateEventRule] | None = getattr(
        rules_holder, "_jwwx_state_event_rules", None
    )
    if rules is None:
        rules = []
        original = rules_holder.check_event_allowed
        store = hs_of(api).get_datastores().main

        @wraps_original(original)
        async def check_event_allowed(event: Any, context: Any) -> Any:
            if rules and event.is_state():
                state_ids = await context.get_prev_state_ids()
                found = await store.get_events(state_ids.values())
                state = {(e.type, e.state_key): e for e in found.values()}
                for rule in list(rules):
                    try:
                        allowed = await delay_cancellation(rule(event, state))
                    except (SynapseError, defer.CancelledError):
                        raise  # as Synapse does: the error is the client's answer
                    except Exception as e:
                        raise ModuleFailedException(
                            "Failed to run a state event rule"
                        ) from e
                    if not allowed:
                        return False, None
            return await original(event, context)

        rules_holder._jwwx_state_event_rules = rules
        rules_holder.check_event_allowed = check_event_allowed
        _check_federated_state(api, rules)
    rules.append(rule)


REJECTED = "cn.jwwx.state_rule"


def _check_federated_state(api: ModuleApi, rules: list[StateEventRule]) -> None:
    """Synapse 1.163 runs third-party event rules on no event received over
    federation but knocks: a remote join (send_join), membership change, rename...
    would pass every rule above. So the federation event handler's auth check
    (FederationEventHandler._check_event_auth, on the instance; pinned in
    patch_points.PATCH_POINTS) also runs them on remote state events, with the room
    state before the event: one refused is rejected as an auth failure would be (a
    send_join gets 403; an event in a transaction is stored rejected and changes no
    state). A rule's error counts as a refusal: a remote server has no client to
    answer."""
    from synapse.api.errors import SynapseError
    from synapse.util.async_helpers import delay_cancellation

    handler = hs_of(api).get_federation_event_handler()
    store = hs_of(api).get_datastores().main
    original = handler._check_event_auth

    @wraps_original(original)
    async def check_event_auth(origin: Any, event: Any, context: Any) -> None:
        await original(origin, event, context)
        if context.rejected or not rules or not event.is_state():
            return
        state_ids = await context.get_prev_state_ids()
        found = await store.get_events(state_ids.values())
        state = {(e.type, e.state_key): e for e in found.values()}
        for rule in list(rules):
            try:
                allowed = await delay_cancellation(rule(event, state))
            except SynapseError as e:
                logger.info("remote %s refused by a state rule: %s", event, e)
                allowed = False
            except defer.CancelledError:
                raise
            except Exception:
                logger.exception("a state rule failed on remote %s", event)
                allowed = False
            if not allowed:
                context.rejected = REJECTED
                return

    handler._check_event_auth = check_event_auth
