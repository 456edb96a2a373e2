# SPDX-License-Identifier: AGPL-3.0-or-later
"""Our own integration-test harness: a real Synapse (via the launcher) with our modules."""
