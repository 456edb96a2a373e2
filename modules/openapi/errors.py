# SPDX-License-Identifier: AGPL-3.0-or-later
"""WeCom error numbers (errcode/errmsg) of the open API, and the exception carrying one.

Every /cgi-bin/ answer is HTTP 200 with {"errcode", "errmsg", ...} like WeCom's.
"""

from modules.common.http import WeComDialectError
from modules.directory.public import DirectoryError

OK = 0
SYSTEM_BUSY = -1
INVALID_SECRET = 40001
INVALID_USERID = 40003
INVALID_MEDIA_TYPE = 40004
INVALID_FILE_SIZE = 40006
INVALID_MEDIA_ID = 40007
INVALID_MSGTYPE = 40008
INVALID_CORPID = 40013
INVALID_TOKEN = 40014
INVALID_USERID_LIST = 40031
INVALID_AGENTID = 40056
INVALID_PARAMETER = 40058
INVALID_TAGID = 40068
MISSING_TOKEN = 41001
MISSING_CORPID = 41002
MISSING_SECRET = 41004
MISSING_MEDIA = 41005
MISSING_USERID = 41009
MISSING_AGENTID = 41011
TOKEN_EXPIRED = 42001
EMPTY_CONTENT = 44004
RATE_LIMITED = 45009
BAD_JSON = 47001
API_FORBIDDEN = 48002
NO_PRIVILEGE = 60011
IP_NOT_ALLOWED = 60020
DEPARTMENT_NOT_FOUND = 60003
USERID_NOT_FOUND = 60111
ALL_RECIPIENTS_INVALID = 81013
API_NOT_FOUND = 48001
# Content refused by modules.policy's keyword filter (WeChat's "risky content" code).
CONTENT_BLOCKED = 87014

MESSAGES = {
    OK: "ok",
    SYSTEM_BUSY: "system busy",
    INVALID_SECRET: "invalid credential, access_token is invalid or not latest",
    INVALID_USERID: "invalid userid",
    INVALID_MEDIA_TYPE: "invalid media type",
    INVALID_FILE_SIZE: "invalid file size",
    INVALID_MEDIA_ID: "invalid media_id",
    INVALID_MSGTYPE: "invalid message type",
    INVALID_CORPID: "invalid corpid",
    INVALID_TOKEN: "invalid access_token",
    INVALID_USERID_LIST: "invalid userid list",
    INVALID_AGENTID: "invalid agentid",
    INVALID_PARAMETER: "invalid parameter",
    INVALID_TAGID: "invalid tagid",
    MISSING_TOKEN: "access_token missing",
    MISSING_CORPID: "corpid missing",
    MISSING_SECRET: "corpsecret missing",
    MISSING_MEDIA: "media data missing",
    MISSING_USERID: "missing userid",
    MISSING_AGENTID: "agentid missing",
    TOKEN_EXPIRED: "access_token expired",
    EMPTY_CONTENT: "empty content",
    RATE_LIMITED: "api freq out of limit",
    BAD_JSON: "data format error",
    API_FORBIDDEN: "api forbidden",
    NO_PRIVILEGE: "no privilege to access/modify contact/party/agent",
    IP_NOT_ALLOWED: "not allow to access from your ip",
    ALL_RECIPIENTS_INVALID: "all touser/toparty/totag invalid or out of range",
    API_NOT_FOUND: "api unauthorized or not found",
    40029: "invalid code",
    40005: "invalid file type",
    46001: "media data not exist",
    CONTENT_BLOCKED: "content contains sensitive words (消息包含敏感词，无法发送)",
}


class WeComError(WeComDialectError):
    def __init__(self, errcode: int, detail: str | None = None) -> None:
        super().__init__(detail or MESSAGES.get(errcode, "error"))
        self.errcode = errcode
        self.detail = detail

    @property
    def errmsg(self) -> str:
        base = MESSAGES.get(self.errcode, "error")
        if self.detail and self.detail != base:
            return f"{base}, hint: [{self.detail}]"
        return base

    @staticmethod
    def from_directory(exc: DirectoryError) -> "WeComError":
        return WeComError(exc.problem.wecom, exc.message)
