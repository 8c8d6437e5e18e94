"""Lost-update protection over HTTP: writes name the version they read, by If-Match or body."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, status

from admin_app.api.responses import ETAG_VALUE
from admin_app.services.versions import StaleVersion

# Versions start at 1, as the body's `version` does: "0" is no ETag this API hands out (and
# must not reach the services unvalidated). If-Match takes exactly what the ETag header gave:
# one strong, quoted entity tag. `*` (any version), a weak `W/"3"` (If-Match compares
# strongly, so it could never match), a list or an unquoted `3` are refused with 400: a write
# names the version it read. The pattern is in the schema as well, so clients (and the fuzz
# test) know; FastAPI does not enforce it, which would answer 422 where this is a 400.
ETAG_PATTERN = ETAG_VALUE
_ETAG = re.compile(r'^"([1-9][0-9]{0,9})"$')
MALFORMED = 'If-Match: expected the quoted ETag from GET, such as "3" (not *, W/"3", a list or an unquoted 3).'
IF_MATCH = (
    'The `ETag` from GET, quoted as it came (`"3"`): the write is refused (412) if the row changed '
    'since. `*`, weak (`W/"3"`), listed or unquoted values are refused (400).'
)
MISSING = (
    "Send the version you read: an If-Match header with the ETag from GET, "
    "or `version` in the body."
)


@dataclass(frozen=True)
class Precondition:
    """The version an If-Match header names (None without one)."""

    version: int | None

    def expected(self, body_version: int | None, *, required: bool = True) -> int | None:
        """The version to check against; 428 when one is required and none was sent."""
        if self.version is not None:
            if body_version is not None and body_version != self.version:
                raise HTTPException(
                    status.HTTP_400_BAD_REQUEST, "If-Match and the body's version disagree."
                )
            return self.version
        if body_version is None and required:
            raise HTTPException(status.HTTP_428_PRECONDITION_REQUIRED, MISSING)
        return body_version

    @contextmanager
    def checked(self) -> Iterator[None]:
        """A stale version is 412 when If-Match named it, 409 when the body did."""
        try:
            yield
        except StaleVersion as exc:
            if self.version is not None:
                raise HTTPException(status.HTTP_412_PRECONDITION_FAILED, exc.message) from exc
            raise


def if_match(
    # `str`, not `str | None`: the header is optional, but it is never sent as null.
    if_match: Annotated[str, Header(description=IF_MATCH, json_schema_extra={"pattern": ETAG_PATTERN})] = None,  # type: ignore[assignment]
) -> Precondition:
    if if_match is None:
        return Precondition(None)
    found = _ETAG.match(if_match.strip())
    if found is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, MALFORMED)
    return Precondition(int(found.group(1)))


IfMatch = Annotated[Precondition, Depends(if_match)]
