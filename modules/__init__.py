# SPDX-License-Identifier: AGPL-3.0-or-later
"""Synapse modules of 警务微信, one sub-package per capability."""
