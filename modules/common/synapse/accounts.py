# SPDX-License-Identifier: AGPL-3.0-or-later
"""Account control the ModuleApi does not offer. Each mirrors what Synapse's own admin
API does for the same request (PUT /_synapse/admin/v2/users/<user_id>, DELETE devices)."""

from synapse.api.errors import Codes, LoginError, SynapseError
from synapse.module_api import ModuleApi
from synapse.types import UserID, create_requester

from modules.common.synapse._internal import hs_of
from modules.common.synapse.patches import unpatched_validate_login


async def set_user_locked(api: ModuleApi, user_id: str, locked: bool) -> None:
    """Lock (no login, every request refused with M_USER_LOCKED) or unlock an account.
    The ModuleApi has no account locking."""
    await hs_of(api).get_datastores().main.set_user_locked_status(user_id, locked)
    if locked:
        await hs_of(api).get_auth_handler().delete_access_tokens_for_user(user_id)


async def deactivate_user(api: ModuleApi, user_id: str) -> None:
    """Deactivate an account as a server admin would (keeps its messages)."""
    await (
        hs_of(api)
        .get_deactivate_account_handler()
        .deactivate_account(user_id, False, create_requester(user_id), by_admin=True)
    )


async def reactivate_user(api: ModuleApi, user_id: str) -> None:
    await hs_of(api).get_deactivate_account_handler().activate_account(user_id)


async def is_user_deactivated(api: ModuleApi, user_id: str) -> bool:
    return bool(
        await hs_of(api).get_datastores().main.get_user_deactivated_status(user_id)
    )


async def set_avatar_url(api: ModuleApi, user_id: str, mxc: str) -> None:
    await (
        hs_of(api)
        .get_profile_handler()
        .set_avatar_url(
            target_user=UserID.from_string(user_id),
            requester=create_requester(user_id),
            new_avatar_url=mxc,
            by_admin=True,
        )
    )


def login_error(message: str) -> SynapseError:
    """The answer Synapse gives for a wrong user or password (403 M_FORBIDDEN). It must
    be Synapse's LoginError (not in the ModuleApi): user-interactive auth turns only
    that into "try again" (401 with the flows)."""
    return LoginError(403, message, errcode=Codes.FORBIDDEN)


async def delete_devices(api: ModuleApi, user_id: str, device_ids: list[str]) -> None:
    """Sign devices out at once (their access tokens stop working: M_UNKNOWN_TOKEN), as
    DELETE /_synapse/admin/v2/users/<user>/devices/<device> does. The ModuleApi can only
    invalidate a token whose text it knows."""
    if device_ids:
        await hs_of(api).get_device_handler().delete_devices(user_id, device_ids)


async def clear_password_and_sign_out(api: ModuleApi, user_id: str) -> None:
    """Forget the password the user chose and end every session (admin reset). The
    ModuleApi cannot set a password or end all of a user's sessions."""
    await hs_of(api).get_datastores().main.user_set_password_hash(user_id, None)
    await hs_of(api).get_auth_handler().delete_access_tokens_for_user(user_id)


async def verify_password(api: ModuleApi, user_id: str, password: str) -> str | None:
    """The canonical user id if `password` is the user's password (Synapse's hash or a
    password-auth-provider such as the directory's initial passwords), else None. Does
    not count as a login attempt (the login hooks do not see it). The ModuleApi has no
    password check; an auth checker of a module login type needs one."""
    validate = unpatched_validate_login(hs_of(api).get_auth_handler())
    submission = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user_id},
        "password": password,
    }
    try:
        canonical, _ = await validate(submission)
    except LoginError:
        return None
    return str(canonical)
