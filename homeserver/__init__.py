# SPDX-License-Identifier: AGPL-3.0-or-later
"""The 警务微信 launcher: renders Synapse's config, initialises data dirs, runs Synapse."""
