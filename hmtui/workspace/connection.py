"""The connection state: online, retrying until T, offline (trying again at T), credentials
rejected. Fed by the client's retry events and by every result; it decides what the user is told
(offline is a state shown in the status line, not a stream of error toasts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from hmtui.api import ApiError, AuthError, NetworkError, RateLimitedError, RetryEvent
from hmtui.safe_text import one_line

ONLINE, CONNECTING, RETRYING, OFFLINE, AUTH = "ok", "connecting", "retrying", "offline", "auth"
OFFLINE_REASON = "hmtui is offline"
AUTH_REASON = "the credentials were rejected"


@dataclass(frozen=True)
class Verdict:
    """What to tell the user about one failure: nothing, a calm notice, or an error toast."""

    notice: str | None = None
    error: str | None = None


class Connection:
    def __init__(self, clock: Callable[[], datetime], on_change: Callable[[], None] = lambda: None) -> None:
        self.clock = clock
        self.on_change = on_change
        self.state = CONNECTING
        self.detail = ""
        self.retry_at: datetime | None = None  # retrying: the client's next try; offline: the refresh's
        self._told: str | None = None  # the kind of failure the user was told about, until a success

    @property
    def lost(self) -> str | None:
        """Why actions that change the server cannot work now (None while they can)."""
        if self.state == AUTH:
            return AUTH_REASON
        if self.state == OFFLINE or (self.state == RETRYING and self._network_retry):
            return OFFLINE_REASON
        return None

    _network_retry = False

    def _set(self, state: str, detail: str = "", retry_at: datetime | None = None) -> None:
        changed = (state, detail, retry_at) != (self.state, self.detail, self.retry_at)
        self.state, self.detail, self.retry_at = state, detail, retry_at
        if changed:
            self.on_change()

    def retrying(self, event: RetryEvent) -> None:
        """The client failed one try and waits `event.delay` before the next."""
        self._network_retry = isinstance(event.error, NetworkError)
        reason = "rate limited" if isinstance(event.error, RateLimitedError) else one_line(str(event.error), 80)
        self._set(RETRYING, reason, self.clock() + timedelta(seconds=event.delay))

    def next_try(self, delay: float) -> None:
        """The background refresh tries again in `delay` s (shown as "offline · retrying in N s")."""
        if self.state == OFFLINE:
            self._set(OFFLINE, self.detail, self.clock() + timedelta(seconds=delay))

    def succeeded(self) -> None:
        self._told = None
        self._network_retry = False
        self._set(ONLINE)

    def failed(self, error: ApiError) -> Verdict:
        """Take in a failure and say what the user is told about it: one calm notice when the
        connection goes (then nothing while it stays gone), one toast per kind of other failure,
        always one for rejected credentials."""
        self._network_retry = False
        message = one_line(str(error), 300)
        kind = f"{type(error).__name__}:{getattr(error, 'status', None)}"
        if isinstance(error, AuthError):
            first = self._told != kind
            self._told = kind
            self._set(AUTH, "check HEYMARKET_SECRET_ID / HEYMARKET_SECRET_KEY")
            return Verdict(error=message if first else None)
        if isinstance(error, NetworkError):
            first = self._told is None
            self._told = self._told or kind
            self._set(OFFLINE, str(error), self.retry_at if self.state == OFFLINE else None)
            return Verdict(notice="hmtui is offline: showing what is cached, and trying again" if first else None)
        # A refusal (4xx) says the connection works; 5xx, 429 after every retry, and a 2xx whose
        # body is unusable (malformed, undecodable) do not.
        refused = error.status is not None and 400 <= error.status < 500 and error.status != 429
        offline_already = self.state == OFFLINE and self._told is not None
        self._set(ONLINE if refused else OFFLINE, str(error))
        if offline_already or self._told == kind:
            return Verdict()
        self._told = kind
        return Verdict(error=message)
