"""Synapse modules of 警务微信, one sub-package per capability."""
