"""Errors the API layer raises. Each renders as one readable line and keeps the request id."""

from __future__ import annotations


class ApiError(Exception):
    """Base of every failure talking to Heymarket.

    `str(error)` is one line fit to show a user: what failed, why, and the `X-Request-Id`
    support asks for.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.method = method
        self.path = path

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{where}{self.message}{rid}"


class AuthError(ApiError):
    """401 twice in a row: the credentials themselves are wrong."""


class ForbiddenError(ApiError):
    """403: valid credentials without access to this resource."""


class NotFoundError(ApiError):
    """404."""


class BadRequestError(ApiError):
    """400: the server refused the data; repeating it will not help."""


class RateLimitedError(ApiError):
    """429 after every retry was spent."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx."""

    retryable = True


class MalformedResponseError(ApiError):
    """A body that cannot be used: not the JSON we need, nested too deeply, or not decodable
    (e.g. a bad gzip stream)."""

    retryable = True


class ResponseTooLargeError(MalformedResponseError):
    """A body past the client's size cap: reading stopped there. Not retried, since the same
    request would fetch the same oversized answer again."""

    retryable = False


class NetworkError(ApiError):
    """The server could not be reached, or the connection broke."""

    retryable = True


class ApiTimeoutError(NetworkError):
    """The server did not answer in time."""
