# SPDX-License-Identifier: AGPL-3.0-or-later
"""HTTP of modules.directory: the officers' client API and the admins' API."""
