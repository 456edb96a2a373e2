# SPDX-License-Identifier: AGPL-3.0-or-later
"""Application services (bridges), one sub-package each; bridges.common is what they
share."""
