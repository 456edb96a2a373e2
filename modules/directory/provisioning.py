# SPDX-License-Identifier: AGPL-3.0-or-later
"""Turning directory members into Matrix accounts, in the background.

An import (or an admin creating a member) only writes the directory: it is usable at
once. This job then creates the accounts round by round (resumable: the state lives in
jwwx_dir_members.account_state), gives each an initial password and queues its e-mail.
A second loop delivers queued e-mails with retries; neither blocks an import.
"""

import base64
import logging

from synapse.module_api import ModuleApi

from modules.common.gm import sm4_open, sm4_seal
from modules.common.jobs import Jobs
from modules.common.storage import Txn
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


class Provisioner:
    def __init__(self, api: ModuleApi, config: DirectoryConfig, jobs: Jobs) -> None:
        self._api = api
        self._config = config
        self._jobs = jobs
        secret = config.secret()
        self.password_key = derive_key(secret, "initial-password")
        self._seal_key = derive_key(secret, "mail-seal")[:16]
        self._running = False
        self._mailing = False

    def kick(self) -> None:
        """Start a round now (after an import) instead of waiting for the next tick;
        on the jobs process only (elsewhere its next tick, about a second, does it:
        two processes provisioning the same batch would race)."""
        self._jobs.start("jwwx_directory_provision", self.run)

    async def run(self) -> None:
        if self._running:
            return
        self._running = True
        try:
            while True:
                batch = await self._api.run_db_interaction(
                    "jwwx_dir_pending_accounts",
                    store.pending_accounts_txn,
                    self._config.provisioning_batch_size,
                )
                if not batch:
                    return
                for account in batch:
                    await self._provision(account)
        finally:
            self._running = False

    async def _provision(self, account: PendingAccount) -> None:
        user_id = self._api.get_qualified_user_id(account.userid)
        try:
            # By exact id: check_user_exists compares lower(name), a scan of the
            # users table on PostgreSQL (12 ms per account at 55,000 users).
            existing = await self._api.get_userinfo_by_id(user_id)
            if existing is None:
                await self._api.register_user(account.userid, account.name)
            elif existing.is_deactivated:
                # A member deleted earlier and imported again gets the account back.
                await reactivate_user(self._api, user_id)
            if account.avatar:
                await set_avatar_url(self._api, user_id, account.avatar)
            if not account.enabled:
                await set_user_locked(self._api, user_id, True)
        except Exception as e:
            # One bad account must not stall the job: it is marked failed (visible to
            # admins, retried on request) and the job goes on.
            logger.exception("cannot create account %s", user_id)
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
            return
        await self.issue_initial_password(
            account.userid, account.name, account.email, created=True
        )

    async def issue_initial_password(
        self, userid: str, name: str, email: str | None, created: bool = False
    ) -> tuple[str, bool]:
        """New initial password for userid; returns (password, e-mail queued?)."""
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
        now = self._api.get_current_time_msec()

        def write_txn(txn: Txn) -> None:
            store.set_initial_password_txn(
                txn, user_id, password_mac(self.password_key, user_id, password), now
            )
            if mail is not None:
                store.enqueue_mail_txn(txn, userid, mail[0], mail[1], mail[2], now)
            if created:
                store.mark_account_txn(txn, userid, store.CREATED, None)

        await self._api.run_db_interaction("jwwx_dir_issue_password", write_txn)
        if mail is not None:
            self.kick_mail()
        return password, mail is not None

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
