"""The one base of the errors the service answers to its callers, each with a stable machine code.

Every layer has its own error type (RuleError, ImportRejected, QueryTimeout, ...), all subclasses of
AccountGraphError. GraphQL answers one with its message and `extensions.code`; anything else raised
while answering is a bug: it is logged with the request's id and answered "internal error" (code
INTERNAL). docs/errors.md lists the codes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorCode(StrEnum):
    INVALID_QUERY = "INVALID_QUERY"  # the GraphQL document does not parse or validate, or a variable has the wrong type
    VALIDATION_FAILED = "VALIDATION_FAILED"  # an argument is refused: a name too long, not an email, a bad cursor
    RULE_INVALID = "RULE_INVALID"  # a segment rule does not parse, or names a saved segment that is not there
    IMPORT_REJECTED = "IMPORT_REJECTED"  # an import or upsert with invalid records; nothing was written
    NOT_FOUND = "NOT_FOUND"  # the segment, destination or API key named does not exist
    CONFLICT = "CONFLICT"  # the name is taken, or the segment is used by another
    UNAUTHENTICATED = "UNAUTHENTICATED"  # no API key, or one that is not valid or was revoked
    FORBIDDEN = "FORBIDDEN"  # the key lacks the scope the field needs
    BODY_TOO_LARGE = "BODY_TOO_LARGE"  # the request body is over the limit
    RATE_LIMITED = "RATE_LIMITED"  # the key sent more requests than its rate limit; retry after Retry-After
    QUERY_TIMEOUT = "QUERY_TIMEOUT"  # Neo4j stopped a transaction that ran past the timeout
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"  # Neo4j cannot be reached; try again shortly
    DELIVERY_FAILED = "DELIVERY_FAILED"  # a webhook receiver refused a batch or did not answer
    INTERNAL = "INTERNAL"  # a bug: logged with the request id, which the answer gives


class AccountGraphError(Exception):
    """An error the caller is told about as it is: its message, and its code (the class's, or one given,
    as when a layer's error says NOT_FOUND)."""

    default_code: ClassVar[ErrorCode]  # each subclass names its own

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.code: ErrorCode = code or self.default_code

    @property
    def extensions(self) -> dict[str, Any]:
        """What GraphQL answers in the error's `extensions` (graphql-core copies it from the exception)."""
        return {"code": self.code.value}


class InvalidArgument(AccountGraphError, ValueError):
    """An argument of the API refused before anything ran (a cursor, a batch size)."""

    default_code = ErrorCode.VALIDATION_FAILED
