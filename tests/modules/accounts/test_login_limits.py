# SPDX-License-Identifier: AGPL-3.0-or-later
"""The shipped login rate limits (issue 14), on a server that keeps them (the other test
servers lift Synapse's rate limits): a police station behind one NAT address logs in at
shift change, and repeated wrong passwords meet the accounts module's lockout, never 429."""

from tests.harness.case import PostgresCase, SQLiteCase
from tests.modules.accounts.helpers import ANDROID, account, login

STATION = 30  # officers logging in from one address at shift change


class LoginLimitTests:
    shipped_login_limits = True

    async def test_a_station_behind_one_address_logs_in_at_shift_change(
        self,
    ) -> None:
        officers = [account(self, "shift") for _ in range(STATION)]
        answers = []
        for officer in officers:
            status, body = await login(
                self.server.base_url,
                officer.password,
                user=officer.localpart,
                user_agent=ANDROID,
            )
            answers.append((status, body.get("errcode")))
        self.assertEqual(answers, [(200, None)] * STATION)

    async def test_wrong_passwords_meet_the_lockout_not_429(self) -> None:
        victim = account(self, "victim")
        answers = []
        for _ in range(8):
            status, body = await login(
                self.server.base_url, "wrong-password", user=victim.localpart
            )
            answers.append((status, body.get("errcode")))
        # lockout.max_failures (5) wrong passwords, then the lock: Synapse never says 429.
        self.assertEqual(
            answers,
            [(403, "M_FORBIDDEN")] * 5 + [(403, "CN_JWWX_LOGIN_LOCKED")] * 3,
        )
        status, body = await login(
            self.server.base_url, victim.password, user=victim.localpart
        )
        self.assertEqual((status, body.get("errcode")), (403, "CN_JWWX_LOGIN_LOCKED"))


class LoginLimitSQLiteTest(LoginLimitTests, SQLiteCase):
    pass


class LoginLimitPostgresTest(LoginLimitTests, PostgresCase):
    pass
