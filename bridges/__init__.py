# SPDX-License-Identifier: AGPL-3.0-or-later
"""Application services (bridges), one sub-package each. None yet."""
