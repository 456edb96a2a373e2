# SPDX-License-Identifier: AGPL-3.0-or-later
"""Directory errors, each with a Matrix errcode/HTTP status for our API and the WeCom
errcode the open API (issue 7) will answer with."""

from dataclasses import dataclass

from modules.common.errors import error
from modules.common.synapse.errors import SynapseError


@dataclass(frozen=True)
class Problem:
    errcode: str
    status: int
    wecom: int


DEPARTMENT_NOT_FOUND = Problem("CN_JWWX_DEPARTMENT_NOT_FOUND", 404, 60003)
PARENT_NOT_FOUND = Problem("CN_JWWX_PARENT_NOT_FOUND", 400, 60004)
DEPARTMENT_HAS_MEMBERS = Problem("CN_JWWX_DEPARTMENT_HAS_MEMBERS", 400, 60005)
DEPARTMENT_HAS_CHILDREN = Problem("CN_JWWX_DEPARTMENT_HAS_CHILDREN", 400, 60006)
DEPARTMENT_EXISTS = Problem("CN_JWWX_DEPARTMENT_EXISTS", 409, 60008)
DEPARTMENT_CYCLE = Problem("CN_JWWX_DEPARTMENT_CYCLE", 400, 60010)
MEMBER_NOT_FOUND = Problem("CN_JWWX_MEMBER_NOT_FOUND", 404, 60111)
MEMBER_EXISTS = Problem("CN_JWWX_MEMBER_EXISTS", 409, 60102)
MOBILE_EXISTS = Problem("CN_JWWX_MOBILE_EXISTS", 409, 60104)
TAG_NOT_FOUND = Problem("CN_JWWX_TAG_NOT_FOUND", 404, 40068)
TAG_EXISTS = Problem("CN_JWWX_TAG_EXISTS", 409, 40071)
INVALID_FIELD = Problem("M_INVALID_PARAM", 400, 40058)
IMPORT_REJECTED = Problem("CN_JWWX_IMPORT_REJECTED", 400, 40058)


class DirectoryError(Exception):
    def __init__(self, problem: Problem, message: str, **extra: object) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
        self.extra = extra

    def to_synapse(self) -> SynapseError:
        return error(
            self.problem.status,
            self.problem.errcode,
            self.message,
            wecom_errcode=self.problem.wecom,
            **self.extra,
        )
