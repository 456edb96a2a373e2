# SPDX-License-Identifier: AGPL-3.0-or-later
"""Third-party app push (第三方应用推送): apps in the mobile police network zone II or the
police network zone III push messages to officers through this bridge, an application
service. This package holds so far its config, the registration generated from it and
the signed JSON push protocol (docs/app_push.md); delivery and statistics come next."""
