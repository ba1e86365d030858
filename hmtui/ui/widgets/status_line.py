"""The one-line status bar: connection state, last refresh, and what is loading."""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text
from textual.widget import Widget

from hmtui.safe_text import one_line
from hmtui.ui.errors import Guarded
from hmtui.ui.timefmt import Clock
from hmtui.ui.widgets.still import StillLines

# Connection states and how they read.
OK, CONNECTING, RETRYING, OFFLINE, AUTH = "ok", "connecting", "retrying", "offline", "auth"
_LOOK = {
    OK: ("●", "online", "green"),
    CONNECTING: ("○", "connecting…", "yellow"),
    RETRYING: ("↻", "retrying", "yellow"),
    OFFLINE: ("○", "offline", "red"),
    AUTH: ("✗", "credentials rejected", "bold red"),
}


class StatusLine(StillLines, Guarded, Widget):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
        color: $text-muted;
        padding: 0 1;
    }
    """

    def __init__(self, *, clock: Clock, tz: tzinfo, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._tz = tz
        self.state = CONNECTING
        self.detail = ""
        self.retry_at: datetime | None = None
        self.refreshed_at: datetime | None = None
        self._loading: dict[str, str] = {}
        self.account: str | None = None  # the [accounts.NAME] in use (issue 12); None: unnamed

    def on_mount(self) -> None:
        self.account = getattr(getattr(self.app, "config", None), "account", None)
        # The "retrying in N s" countdown needs to tick; nothing else changes on its own.
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        if self.state in (RETRYING, OFFLINE) and self.retry_at is not None:
            self.refresh()

    def set_connection(self, state: str, detail: str = "", *, retry_at: datetime | None = None) -> None:
        self.state, self.detail, self.retry_at = state, detail, retry_at
        self.refresh()

    def set_refreshed(self, moment: datetime) -> None:
        self.refreshed_at = moment
        self.refresh()

    def start(self, key: str, label: str) -> None:
        """Say that something is loading; `stop(key)` when done."""
        self._loading[key] = label
        self.refresh()

    def stop(self, key: str) -> None:
        if self._loading.pop(key, None) is not None:
            self.refresh()

    @property
    def loading(self) -> list[str]:
        return list(self._loading.values())

    def describe(self) -> str:
        """The status as plain text (used by tests and the render)."""
        return self.render().plain

    def render(self) -> Text:
        mark, label, style = _LOOK.get(self.state, _LOOK[CONNECTING])
        text = Text()
        if self.account:  # which account this is, first: two terminals may show two accounts
            text.append(one_line(self.account, 30), "bold")
            text.append(" · ")
        if self.state in (RETRYING, OFFLINE) and self.retry_at is not None:
            seconds = max(0, round((self.retry_at - self._clock()).total_seconds()))
            label = f"retrying in {seconds} s" if self.state == RETRYING else f"offline · retrying in {seconds} s"
        text.append(f"{mark} {label}", style)
        if self.state == OFFLINE:
            text.append(" · ctrl+r: now", "dim")
        if self.detail and self.state != OK:
            text.append(" · " + one_line(self.detail, 90), "dim")
        if self.refreshed_at is not None:
            text.append(f"  refreshed {self.refreshed_at.astimezone(self._tz):%H:%M:%S}", "dim")
        if self._loading:
            text.append("  " + " · ".join(self._loading.values()), "italic")
        return text
