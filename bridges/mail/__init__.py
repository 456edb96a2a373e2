# SPDX-License-Identifier: AGPL-3.0-or-later
"""The mail bridge (bridges/mail, docs/mail.md): the bureau's mailbox inside the
product, fetched live over IMAP and answered over SMTP; no mail is kept on our side."""
