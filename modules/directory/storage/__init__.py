# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.directory, one file per kind of data; every function is a `_txn`."""
