# SPDX-License-Identifier: AGPL-3.0-or-later
"""Server-to-server requests of our own between police domains (modules.crossdomain).

The ModuleApi has no federation client and no way to learn which server signed a
request. These use Synapse's: requests out are signed with the server's signing key
(the X-Matrix Authorization header), go over its federation TLS (certificates checked
against federation_custom_ca_list) and only to domains in federation_domain_whitelist;
requests in are verified against the origin's published keys and refused unless the
origin is allow-listed. tests/modules/crossdomain pins both (a peer's directory query).
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.synapse._internal import hs_of


class FederationRefusedError(Exception):
    """The peer could not be asked, or refused: `status` and `body` (the peer's Matrix
    error when it answered one; status 502 when it could not be reached)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def is_domain_allowed(api: ModuleApi, domain: str) -> bool:
    """Whether federation_domain_whitelist lets this domain in (and out)."""
    return bool(
        hs_of(
            api
        ).config.federation.is_domain_allowed_according_to_federation_whitelist(domain)
    )


async def signed_get(
    api: ModuleApi,
    destination: str,
    path: str,
    args: dict[str, str],
    timeout_seconds: float,
) -> dict[str, Any]:
    """GET `path` on the peer `destination`, signed by this server; its JSON answer.
    FederationRefusedError when the peer is not allow-listed, unreachable or answers an
    error."""
    from synapse.api.errors import (
        FederationDeniedError,
        HttpResponseException,
        RequestSendFailed,
    )
    from synapse.util.retryutils import NotRetryingDestination

    client = hs_of(api).get_federation_http_client()
    try:
        answer = await client.get_json(
            destination,
            path,
            args={k: [v] for k, v in args.items()},
            retry_on_dns_fail=False,
            timeout=int(timeout_seconds * 1000),
            ignore_backoff=True,
        )
    except FederationDeniedError:
        raise FederationRefusedError(
            403, {"errcode": "M_FORBIDDEN", "error": "not an allowed domain"}
        ) from None
    except HttpResponseException as e:
        error = e.to_synapse_error()
        raise FederationRefusedError(e.code, error.error_dict(None)) from e
    except (RequestSendFailed, NotRetryingDestination) as e:
        raise FederationRefusedError(
            502, {"errcode": "M_UNKNOWN", "error": f"peer unreachable: {e}"}
        ) from e
    return dict(answer)


async def signed_origin(api: ModuleApi, request: Any) -> str:
    """The server that signed this request (X-Matrix), checked against its published
    keys and the allow-list. Raises Synapse's 401/403 errors otherwise (unsigned, bad
    signature, unknown key, a domain not allowed)."""
    from synapse.federation.transport.server._base import Authenticator

    authenticator = getattr(hs_of(api), "_jwwx_authenticator", None)
    if authenticator is None:
        authenticator = Authenticator(hs_of(api))
        hs_of(api)._jwwx_authenticator = authenticator
    return str(await authenticator.authenticate_request(request, None))
