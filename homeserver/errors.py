# SPDX-License-Identifier: AGPL-3.0-or-later
class LauncherError(Exception):
    """A problem the operator must fix; printed as one line, never as a traceback."""
