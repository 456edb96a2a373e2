# SPDX-License-Identifier: AGPL-3.0-or-later
"""Pure parts of modules.accounts: platform classes, password policy, config, networks."""

from twisted.trial import unittest

from modules.accounts.config import AccountsConfig, PasswordPolicy
from modules.accounts.directory_link import phone_candidates
from modules.accounts.login import network_of, notice_text
from modules.accounts.platform import classify
from modules.accounts.policy import problems
from modules.common.synapse.errors import ConfigError
from tests.modules.accounts.helpers import ANDROID, BROWSER, HARMONY, WINDOWS


class PlatformTest(unittest.TestCase):
    def test_user_agents(self) -> None:
        cases = {
            ANDROID: "mobile",
            HARMONY: "mobile",
            "Element/1.11.40 (iPhone; iOS 17.4; Scale/3.00)": "mobile",
            WINDOWS: "desktop",
            "Mozilla/5.0 (X11; Linux x86_64; UOS) AppleWebKit/537.36 Element/1.11.85 Electron/32.0.0": "desktop",
            "Mozilla/5.0 (X11; Linux aarch64; Kylin V10) Electron/30.1.0": "desktop",
            BROWSER: "web",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/128.0 Safari/537.36": "web",
            "python-requests/2.32": "other",
            "": "other",
        }
        for agent, expected in cases.items():
            self.assertEqual(classify(agent), expected, agent)
        self.assertEqual(classify(None), "other")


class PolicyTest(unittest.TestCase):
    def test_rules(self) -> None:
        policy = PasswordPolicy()
        self.assertEqual(problems(policy, "Jing-Wu-2026!", userid="zhangsan"), [])
        self.assertIn("长度至少 8 位", problems(policy, "Ab1!", userid="zs"))
        self.assertTrue(
            any("类" in p for p in problems(policy, "abcdefghij", userid="zs"))
        )
        self.assertIn(
            "不能包含账号", problems(policy, "X1!ZhangSan", userid="zhangsan")
        )
        self.assertIn(
            "不能包含手机号",
            problems(policy, "Ab!13800138000", userid="zs", mobile="13800138000"),
        )
        self.assertIn(
            "不能与初始密码相同",
            problems(policy, "Jing-Wu-2026!", userid="zs", is_initial=True),
        )
        strict = PasswordPolicy(min_character_classes=0, require_symbol=True)
        self.assertEqual(problems(strict, "abcdefgh", userid="zs"), ["须包含符号"])


class ConfigTest(unittest.TestCase):
    def test_defaults_and_errors(self) -> None:
        config = AccountsConfig.parse({})
        self.assertEqual(config.device_limits["mobile"], 1)
        self.assertEqual(config.lockout.max_failures, 5)
        self.assertEqual(config.mfa.required_for, "none")
        for bad in (
            {"lockout": {"max_failures": 0}},
            {"device_limits": {"tablet": 1}},
            {"password_policy": {"min_length": 10, "max_length": 8}},
            {"mfa": {"required_for": "everyone"}},
            {"mfa": {"required_for": "all"}},
            {"mfa": {"departments": ["x"]}},
            {"typo": 1},
        ):
            with self.assertRaises(ConfigError, msg=str(bad)):
                AccountsConfig.parse(bad)


class NetworkTest(unittest.TestCase):
    def test_ranges_phones_and_notice(self) -> None:
        self.assertEqual(network_of("10.1.2.3"), "10.1.2.0/24")
        self.assertEqual(network_of("::ffff:10.1.2.3"), "10.1.2.0/24")
        self.assertEqual(network_of("2001:db8:1:2::5"), "2001:db8:1:2::/64")
        self.assertEqual(network_of(""), "")
        self.assertIn("13800138000", phone_candidates("CN", "+86 138-0013-8000"))
        self.assertEqual(phone_candidates("CN", "abc"), [])
        text = notice_text(0, "1.2.3.4", "mobile", "DEV", ["new_network"])
        self.assertIn("1970-01-01 08:00", text)
        self.assertIn("手机", text)
