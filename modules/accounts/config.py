# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.accounts. Every key, its default and meaning (docs/accounts.md):

password_policy:                 # applied to every new password (/account/password)
  min_length: 8
  max_length: 128
  min_character_classes: 3       # of: lower case, upper case, digits, symbols
  require_lowercase: false
  require_uppercase: false
  require_digit: false
  require_symbol: false
  forbid_userid: true            # must not contain the userid (any case)
  forbid_mobile: true            # must not contain the mobile number in the directory
  forbid_initial_password: true  # must differ from the initial password
lockout:
  max_failures: 5                # wrong passwords for one account ...
  window_seconds: 900            # ... within this time lock it ...
  lock_seconds: 1800             # ... for this long (0 = until an admin releases it)
  ip_max_failures: 50            # wrong passwords from one IP address (0 = no IP lock)
device_limits:                   # sessions per platform class; 0 = unlimited
  mobile: 1
  desktop: 1
  web: 1
  other: 0
trust_client_platform: true      # a login body may name its class: "cn.jwwx.platform"
login_log_retention_days: 180
jobs_instance: null              # the process running its jobs (modules/common/jobs.py)
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modules.accounts.sms import SmsConfig
from modules.common.config import ConfigReader
from modules.common.jobs import read_jobs_instance
from modules.common.synapse.errors import ConfigError

MODULE = "modules.accounts"
PLATFORMS = ("mobile", "desktop", "web", "other")


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 8
    max_length: int = 128
    min_character_classes: int = 3
    require_lowercase: bool = False
    require_uppercase: bool = False
    require_digit: bool = False
    require_symbol: bool = False
    forbid_userid: bool = True
    forbid_mobile: bool = True
    forbid_initial_password: bool = True

    @staticmethod
    def parse(raw: Any) -> "PasswordPolicy":
        r = ConfigReader(raw, f"{MODULE}.password_policy")
        min_length = r.integer("min_length", 8, minimum=1, maximum=512)
        policy = PasswordPolicy(
            min_length=min_length,
            max_length=r.integer("max_length", 128, minimum=min_length, maximum=512),
            min_character_classes=r.integer(
                "min_character_classes", 3, minimum=0, maximum=4
            ),
            require_lowercase=r.boolean("require_lowercase", False),
            require_uppercase=r.boolean("require_uppercase", False),
            require_digit=r.boolean("require_digit", False),
            require_symbol=r.boolean("require_symbol", False),
            forbid_userid=r.boolean("forbid_userid", True),
            forbid_mobile=r.boolean("forbid_mobile", True),
            forbid_initial_password=r.boolean("forbid_initial_password", True),
        )
        r.finish()
        return policy


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    window_seconds: int = 900
    lock_seconds: int = 1800
    ip_max_failures: int = 50

    @staticmethod
    def parse(raw: Any) -> "LockoutPolicy":
        r = ConfigReader(raw, f"{MODULE}.lockout")
        policy = LockoutPolicy(
            max_failures=r.integer("max_failures", 5, minimum=1, maximum=1000),
            window_seconds=r.integer("window_seconds", 900, minimum=1),
            lock_seconds=r.integer("lock_seconds", 1800, minimum=0),
            ip_max_failures=r.integer("ip_max_failures", 50, minimum=0),
        )
        r.finish()
        return policy


@dataclass(frozen=True)
class MfaPolicy:
    secret_path: str | None = None
    required_for: str = "none"
    departments: tuple[int, ...] = field(default_factory=tuple)
    issuer: str = "警务微信"
    valid_window: int = 1
    recovery_codes: int = 10

    def secret(self) -> bytes | None:
        if self.secret_path is None:
            return None
        return Path(self.secret_path).read_bytes().strip() or None

    @staticmethod
    def parse(raw: Any) -> "MfaPolicy":
        r = ConfigReader(raw, f"{MODULE}.mfa")
        departments = r._get("departments", [])
        if not isinstance(departments, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0
            for d in departments
        ):
            raise ConfigError(
                f"{MODULE}.mfa.departments: must be a list of department ids, got {departments!r}"
            )
        policy = MfaPolicy(
            secret_path=r.optional_string("secret_path"),
            required_for=r.choice(
                "required_for", "none", ("none", "all", "admins", "departments")
            ),
            departments=tuple(departments),
            issuer=r.string("issuer", "警务微信"),
            valid_window=r.integer("valid_window", 1, minimum=0, maximum=4),
            recovery_codes=r.integer("recovery_codes", 10, minimum=1, maximum=50),
        )
        r.finish()
        if policy.secret_path is not None and not Path(policy.secret_path).is_file():
            raise ConfigError(
                f"{MODULE}.mfa.secret_path: no such file {policy.secret_path}"
            )
        if policy.required_for == "departments" and not policy.departments:
            raise ConfigError(
                f"{MODULE}.mfa.departments: required_for departments needs ids"
            )
        if policy.required_for != "none" and policy.secret_path is None:
            raise ConfigError(
                f"{MODULE}.mfa.secret_path: required when MFA is required"
            )
        return policy


@dataclass(frozen=True)
class AccountsConfig:
    password_policy: PasswordPolicy
    lockout: LockoutPolicy
    device_limits: dict[str, int]
    trust_client_platform: bool
    login_log_retention_days: int
    new_login_alerts: bool = True
    sms: "SmsConfig | None" = None
    mfa: MfaPolicy = field(default_factory=MfaPolicy)
    jobs_instance: str | None = None  # modules/common/jobs.py

    @staticmethod
    def parse(raw: Any) -> "AccountsConfig":
        r = ConfigReader(raw, MODULE)
        password_policy = PasswordPolicy.parse(r.mapping_or_none("password_policy"))
        lockout = LockoutPolicy.parse(r.mapping_or_none("lockout"))
        limits_reader = ConfigReader(
            r.mapping_or_none("device_limits"), f"{MODULE}.device_limits"
        )
        defaults = {"mobile": 1, "desktop": 1, "web": 1, "other": 0}
        device_limits = {
            name: limits_reader.integer(name, defaults[name], minimum=0, maximum=100)
            for name in PLATFORMS
        }
        limits_reader.finish()
        config = AccountsConfig(
            password_policy=password_policy,
            lockout=lockout,
            device_limits=device_limits,
            trust_client_platform=r.boolean("trust_client_platform", True),
            login_log_retention_days=r.integer(
                "login_log_retention_days", 180, minimum=1
            ),
            new_login_alerts=r.boolean("new_login_alerts", True),
            sms=SmsConfig.parse(r.mapping_or_none("sms"), MODULE),
            mfa=MfaPolicy.parse(r.mapping_or_none("mfa")),
            jobs_instance=read_jobs_instance(r),
        )
        r.finish()
        return config
