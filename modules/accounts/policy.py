# SPDX-License-Identifier: AGPL-3.0-or-later
"""The password policy: what a new password must satisfy (PasswordPolicy in config.py)."""

import string

from modules.accounts.config import PasswordPolicy

_SYMBOLS = set(string.punctuation) | {" "}


def _classes(password: str) -> dict[str, bool]:
    return {
        "lower": any(c.islower() for c in password),
        "upper": any(c.isupper() for c in password),
        "digit": any(c.isdigit() for c in password),
        "symbol": any(c in _SYMBOLS or not c.isalnum() for c in password),
    }


def problems(
    policy: PasswordPolicy,
    password: str,
    *,
    userid: str,
    mobile: str | None = None,
    is_initial: bool = False,
) -> list[str]:
    """Every rule the password breaks, in Chinese, for the officer; [] when it is fine."""
    out: list[str] = []
    if len(password) < policy.min_length:
        out.append(f"长度至少 {policy.min_length} 位")
    if len(password) > policy.max_length:
        out.append(f"长度不超过 {policy.max_length} 位")
    classes = _classes(password)
    if policy.require_lowercase and not classes["lower"]:
        out.append("须包含小写字母")
    if policy.require_uppercase and not classes["upper"]:
        out.append("须包含大写字母")
    if policy.require_digit and not classes["digit"]:
        out.append("须包含数字")
    if policy.require_symbol and not classes["symbol"]:
        out.append("须包含符号")
    if sum(classes.values()) < policy.min_character_classes:
        out.append(
            f"须至少包含大写字母、小写字母、数字、符号中的 {policy.min_character_classes} 类"
        )
    if policy.forbid_userid and userid and userid.lower() in password.lower():
        out.append("不能包含账号")
    if policy.forbid_mobile and mobile and len(mobile) >= 6 and mobile in password:
        out.append("不能包含手机号")
    if policy.forbid_initial_password and is_initial:
        out.append("不能与初始密码相同")
    return out


def describe(policy: PasswordPolicy) -> dict[str, object]:
    """The policy as clients see it (GET /_jwwx/client/v1/accounts/password_policy)."""
    return {
        "min_length": policy.min_length,
        "max_length": policy.max_length,
        "min_character_classes": policy.min_character_classes,
        "require_lowercase": policy.require_lowercase,
        "require_uppercase": policy.require_uppercase,
        "require_digit": policy.require_digit,
        "require_symbol": policy.require_symbol,
        "forbid_userid": policy.forbid_userid,
        "forbid_mobile": policy.forbid_mobile,
        "forbid_initial_password": policy.forbid_initial_password,
    }
