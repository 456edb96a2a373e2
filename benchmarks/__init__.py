# SPDX-License-Identifier: AGPL-3.0-or-later
"""Load and latency scenarios, each also run against vanilla Synapse (issue 8)."""
