# SPDX-License-Identifier: AGPL-3.0-or-later
"""Errors of modules.public_accounts (docs/pubaccounts.md lists when each is raised)."""

from typing import Any

from modules.common.errors import error
from modules.common.synapse.errors import Codes, SynapseError

ACCOUNT_NOT_FOUND = "CN_JWWX_PUBACCOUNT_NOT_FOUND"
ARTICLE_NOT_FOUND = "CN_JWWX_PUBACCOUNT_ARTICLE_NOT_FOUND"
PUSH_NOT_FOUND = "CN_JWWX_PUBACCOUNT_PUSH_NOT_FOUND"
ARTICLE_WITHDRAWN = "CN_JWWX_PUBACCOUNT_ARTICLE_WITHDRAWN"
WRONG_STATE = "CN_JWWX_PUBACCOUNT_WRONG_STATE"
UNFOLLOW_NOT_ALLOWED = "CN_JWWX_PUBACCOUNT_UNFOLLOW_NOT_ALLOWED"


def invalid(message: str, **extra: Any) -> SynapseError:
    return error(400, Codes.INVALID_PARAM, message, **extra)


def not_found(errcode: str, message: str) -> SynapseError:
    return error(404, errcode, message)


def wrong_state(message: str) -> SynapseError:
    return error(409, WRONG_STATE, message)
