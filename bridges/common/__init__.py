# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the bridges (application services of ours) share: reading their YAML config
and writing their Synapse registration."""
