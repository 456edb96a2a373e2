# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bridge to the ministry's non-Matrix IM (issue 22 item 2): an application service
that relays the ministry relay protocol (docs/ministry_im.md) to portal rooms here."""
