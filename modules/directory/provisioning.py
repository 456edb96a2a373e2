# SPDX-License-Identifier: AGPL-3.0-or-later
"""Turning directory members into Matrix accounts, in the background.

An import (or an admin creating a member) only writes the directory: it is usable at
once. This job then issues every new member's initial password and queues its e-mail,
in a few batched transactions (jwwx_dir_members.credentials_ts), and from then on the
member can log in: the first login with that password creates the Matrix account
(auth.py → create_on_login) if the job has not reached it yet. The job goes on creating
the accounts one by one (Synapse's registration: tens of minutes for a bureau; resumable:
the state lives in jwwx_dir_members.account_state), so that pushes, groups and
Synapse's user search reach officers who never logged in. A second loop delivers queued
e-mails with retries; neither blocks an import.
"""

import base64
import logging

from synapse.module_api import ModuleApi

from modules.common.gm import sm4_open, sm4_seal
from modules.common.jobs import Jobs
from modules.common.pacer import Pacer
from modules.common.synapse.accounts import (
    reactivate_user,
    set_avatar_url,
    set_user_locked,
)
from modules.common.synapse.errors import SynapseError
from modules.common.synapse.runtime import await_foreign
from modules.directory.config import DirectoryConfig
from modules.directory.mailer import MailError, render_initial_password_mail, send_mail
from modules.directory.passwords import (
    derive_key,
    generate_initial_password,
    password_mac,
)
from modules.directory.storage import provisioning as store
from modules.directory.storage.provisioning import PendingAccount

logger = logging.getLogger(__name__)

IDLE_MAX_S = 5.0  # idle, members added on another process wait at most this long
# Initial passwords issued per transaction (each costs ~0.1 ms of CPU: the reactor
# stays free between batches; 500 × 8 parameters stay under SQLite's limit).
ISSUE_BATCH = 500


class Provisioner:
    def __init__(self, api: ModuleApi, config: DirectoryConfig, jobs: Jobs) -> None:
        self._api = api
        self._config = config
        self._jobs = jobs
        secret = config.secret()
        self.password_key = derive_key(secret, "initial-password")
        self._seal_key = derive_key(secret, "mail-seal")[:16]
        self._running = False
        self._issue_wanted = False
        self._mailing = False
        # Idle, the tick reads again after 2, 4 … IDLE_MAX_S seconds (a kick from this
        # process's imports and member writes at once): issue 17, item 2.
        self.pacer = Pacer(
            api.get_current_time_msec, config.provisioning_interval_seconds, IDLE_MAX_S
        )

    def kick(self) -> None:
        """Start a round now (after an import) instead of waiting for the next tick;
        on the jobs process only (elsewhere that process's tick finds the members
        within IDLE_MAX_S: two processes provisioning the same batch would race)."""
        self.pacer.wake()
        self._jobs.start("jwwx_directory_provision", self.run)

    async def tick(self) -> None:
        """The jobs process's tick: a round when one is running (new members' passwords
        between two accounts) or the pacer says the idle wait is over."""
        if self._running or self.pacer.due():
            await self.run()

    async def run(self) -> None:
        if self._running:
            # New members meanwhile (the tick, about every second): their passwords
            # are issued between two accounts, not after the whole job.
            self._issue_wanted = True
            return
        self._running = True
        worked = False
        try:
            while True:
                # Passwords first, for everyone pending: with them an officer can log
                # in (the account is then created at that login, create_on_login).
                worked = await self._issue_all() > 0 or worked
                batch = await self._api.run_db_interaction(
                    "jwwx_dir_pending_accounts",
                    store.pending_accounts_txn,
                    self._config.provisioning_batch_size,
                )
                if not batch:
                    return
                worked = True
                for account in batch:
                    await self._provision(account)
                    await self._pause(self._config.provisioning_pause_seconds)
        finally:
            self._running = False
            self.pacer.found(worked)

    async def _pause(self, seconds: float) -> None:
        """Between two accounts: issue new members' passwords when asked, and wait
        `provisioning_pause_seconds` (in slices, so new members are not kept waiting)."""
        while True:
            if self._issue_wanted:
                self._issue_wanted = False
                await self._issue_all()
            if seconds <= 0:
                return
            await self._api.sleep(min(seconds, 1.0))
            seconds -= 1.0

    async def _issue_all(self) -> int:
        """Issue the initial password (and queue its e-mail) of every pending member
        that has none, ISSUE_BATCH per transaction: 55,000 in about a minute, where
        creating their accounts takes Synapse tens of minutes."""
        after = ""
        issued_count = 0
        while True:
            batch = await self._api.run_db_interaction(
                "jwwx_dir_unissued_accounts",
                store.unissued_accounts_txn,
                after,
                ISSUE_BATCH,
            )
            if not batch:
                return issued_count
            issued_count += len(batch)
            after = batch[-1].userid
            issued = [self._credentials(a.userid, a.name, a.email)[1] for a in batch]
            await self._api.run_db_interaction(
                "jwwx_dir_issue_passwords",
                store.issue_credentials_txn,
                issued,
                self._api.get_current_time_msec(),
            )
            if any(c.mail is not None for c in issued):
                self.kick_mail()

    async def _provision(self, account: PendingAccount) -> bool:
        try:
            await self._create_account(account)
        except Exception as e:
            # One bad account must not stall the job: it is marked failed (visible to
            # admins, retried on request) and the job goes on.
            logger.exception("cannot create account %s", account.userid)
            reason = (
                e.msg if isinstance(e, SynapseError) else f"{type(e).__name__}: {e}"
            )
            await self._api.run_db_interaction(
                "jwwx_dir_mark_account",
                store.mark_account_txn,
                account.userid,
                store.FAILED,
                reason,
            )
            return False
        await self._api.run_db_interaction(
            "jwwx_dir_mark_account",
            store.mark_account_txn,
            account.userid,
            store.CREATED,
            None,
        )
        return True

    async def create_on_login(self, userid: str) -> bool:
        """The first login with an issued initial password of a member whose account
        is not created yet: create it now (as the job would). False: no such member
        (deleted, or its password was never issued)."""
        account = await self._api.run_db_interaction(
            "jwwx_dir_issued_account", store.issued_account_txn, userid
        )
        if account is not None:
            return await self._provision(account)
        # The job may have created it since this login read that there was no account
        # (seen: 3 of 2,000 first logins during provisioning were refused once).
        created = await self._api.run_db_interaction(
            "jwwx_dir_account_created", store.account_created_txn, userid
        )
        if not created:
            return False
        info = await self._api.get_userinfo_by_id(
            self._api.get_qualified_user_id(userid)
        )
        return info is not None and not info.is_deactivated

    async def _create_account(self, account: PendingAccount) -> None:
        user_id = self._api.get_qualified_user_id(account.userid)
        # By exact id: check_user_exists compares lower(name), a scan of the
        # users table on PostgreSQL (12 ms per account at 55,000 users).
        existing = await self._api.get_userinfo_by_id(user_id)
        if existing is None:
            try:
                await self._api.register_user(account.userid, account.name)
            except SynapseError as e:
                # Created meanwhile by the other path (job or first login).
                if e.errcode != "M_USER_IN_USE":
                    raise
        elif existing.is_deactivated:
            # A member deleted earlier and imported again gets the account back.
            await reactivate_user(self._api, user_id)
        if account.avatar:
            await set_avatar_url(self._api, user_id, account.avatar)
        if not account.enabled:
            await set_user_locked(self._api, user_id, True)

    def _credentials(
        self, userid: str, name: str, email: str | None
    ) -> tuple[str, store.Credentials]:
        """A new initial password, its keyed hash and its sealed e-mail (if any)."""
        user_id = self._api.get_qualified_user_id(userid)
        password = generate_initial_password(self._config.initial_password_length)
        mail = None
        if email and self._config.mail is not None:
            subject, body = render_initial_password_mail(
                self._config.mail,
                name=name,
                userid=userid,
                user_id=user_id,
                password=password,
            )
            sealed = base64.b64encode(
                sm4_seal(self._seal_key, body.encode("utf-8"))
            ).decode("ascii")
            mail = (email, subject, sealed)
        mac = password_mac(self.password_key, user_id, password)
        return password, store.Credentials(userid, user_id, mac, mail)

    async def issue_initial_password(
        self, userid: str, name: str, email: str | None
    ) -> tuple[str, bool]:
        """New initial password for userid; returns (password, e-mail queued?)."""
        password, issued = self._credentials(userid, name, email)
        await self._api.run_db_interaction(
            "jwwx_dir_issue_password",
            store.issue_credentials_txn,
            [issued],
            self._api.get_current_time_msec(),
        )
        if issued.mail is not None:
            self.kick_mail()
        return password, issued.mail is not None

    # E-mail delivery.

    def kick_mail(self) -> None:
        self._jobs.start("jwwx_directory_mail", self.send_due_mail)

    async def send_due_mail(self) -> None:
        settings = self._config.mail
        if settings is None or self._mailing:
            return
        self._mailing = True
        try:
            now = self._api.get_current_time_msec()
            due = await self._api.run_db_interaction(
                "jwwx_dir_due_mail", store.due_mails_txn, now, 20
            )
            for mail in due:
                try:
                    body = sm4_open(
                        self._seal_key, base64.b64decode(mail.sealed_body)
                    ).decode("utf-8")
                    await await_foreign(
                        send_mail(settings, mail.to_address, mail.subject, body)
                    )
                except MailError as e:
                    attempts = mail.attempts + 1
                    give_up = attempts >= self._config.mail_max_attempts
                    delay = self._config.mail_retry_seconds * (2 ** (attempts - 1))
                    logger.warning(
                        "mail %d to %s failed (%d): %s",
                        mail.id,
                        mail.to_address,
                        attempts,
                        e,
                    )
                    await self._api.run_db_interaction(
                        "jwwx_dir_mail_failed",
                        store.mark_mail_failed_attempt_txn,
                        mail.id,
                        str(e),
                        now + int(delay * 1000),
                        give_up,
                    )
                    continue
                await self._api.run_db_interaction(
                    "jwwx_dir_mail_sent",
                    store.mark_mail_sent_txn,
                    mail.id,
                    self._api.get_current_time_msec(),
                )
        finally:
            self._mailing = False
