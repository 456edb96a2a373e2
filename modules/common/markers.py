# SPDX-License-Identifier: AGPL-3.0-or-later
"""Content fields that mark how a message is to be treated, shared by the modules that
act on them (modules.burn enforces burn-after-read; modules.audit archives such messages
without their content unless burn's audit_copy allows it)."""

# Burn-after-read: MSC2228's field and ours (either one marks the message).
BURN_FIELDS = ("org.matrix.self_destruct", "cn.jwwx.burn_after_read")

# Cards of public accounts and apps: withdrawn under their own rules (a public account's
# withdraw at any time, the open API's message/recall within its own window), not the
# officers' recall window (modules.groups).
SERVICE_CARD_FIELDS = ("cn.jwwx.pubaccount", "cn.jwwx.wecom")
