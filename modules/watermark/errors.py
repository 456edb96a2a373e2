# SPDX-License-Identifier: AGPL-3.0-or-later
"""Error codes of modules.watermark (docs/watermark.md lists when each is raised)."""

# A message re-sends a file from another chat while the policy forbids forwarding files.
SHARING_FORBIDDEN = "CN_JWWX_SHARING_FORBIDDEN"
# An image or PDF that cannot be watermarked (unreadable, encrypted): never sent unmarked.
WATERMARK_UNSUPPORTED = "CN_JWWX_WATERMARK_UNSUPPORTED"
