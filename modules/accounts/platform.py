# SPDX-License-Identifier: AGPL-3.0-or-later
"""Platform class of a device (mobile / desktop / web / other) from its user agent.

Matrix clients say what they are in the User-Agent header: Element Android
"Element/1.6 (Linux; U; Android 13; …)", HarmonyOS "… (Phone; OpenHarmony 4.0) … ArkWeb",
Element iOS "Element/1.11 (iPhone; iOS 17; …)", Element Desktop and other Electron apps
"Mozilla/5.0 (Windows NT 10.0; …) … Electron/…", domestic desktops (UOS, Kylin, Deepin) the
same on Linux, and a browser running a web client a plain "Mozilla/5.0 …". Anything else
(scripts, bots, unknown apps) is "other".
"""

import re

_MOBILE = re.compile(
    r"android|harmonyos|openharmony|arkweb|iphone|ipad|ipod|\bios\b|mobile|"
    r"micromessenger|phone",
    re.IGNORECASE,
)
_DESKTOP = re.compile(
    r"electron|windows nt|win64|macintosh|mac os x|\bx11\b|linux x86_64|linux aarch64|"
    r"\buos\b|kylin|deepin|nfs ?china|tauri",
    re.IGNORECASE,
)
_BROWSER = re.compile(r"mozilla/|chrome/|safari/|firefox/|edg/", re.IGNORECASE)
_DESKTOP_APP = re.compile(r"electron|tauri|element-desktop|qt(web)?", re.IGNORECASE)


def classify(user_agent: str | None) -> str:
    ua = user_agent or ""
    if not ua.strip():
        return "other"
    if _MOBILE.search(ua):
        return "mobile"
    if _DESKTOP_APP.search(ua):
        return "desktop"
    if _BROWSER.search(ua):
        return "web"
    if _DESKTOP.search(ua):
        return "desktop"
    return "other"
