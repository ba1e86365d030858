"""Unexpected errors in the TUI: what is logged and shown, and keeping the app alive.

Textual sends every exception it catches to `App._handle_exception`, which exits the app and
prints a Rich traceback *with locals* (the request headers, so the token). Worse, the message
loop of the widget whose handler raised stops for good. hmtui instead catches an exception where
it happens: `Guarded` wraps the message dispatch of the app and of hmtui's own screens and
widgets, and the app wraps every action (`HmtuiApp.run_action`) and every worker's failure. All
of them end in `HmtuiApp.unexpected`, the one place that logs the traceback, shows one line and
carries on.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hmtui.logs import RedactingFilter

if TYPE_CHECKING:
    from textual.message import Message

# Whatever follows "Authorization:" or "Bearer", in case a message quotes a header.
_AUTH = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?|bearer\s+)[^\s'\",}]+")
REDACTED = "[redacted]"


def redact(text: str, filters: Iterable[RedactingFilter] = ()) -> str:
    """Remove the secret key, any token and any Authorization value from `text`."""
    for redactor in [*filters, RedactingFilter()]:
        text = redactor.redact(text)
    return _AUTH.sub(lambda m: m.group(1) + REDACTED, text)


def log_redactors() -> list[RedactingFilter]:
    """The redacting filters `hmtui.logs.setup_logging` put on the log handlers (they know the
    secret key)."""
    found: list[RedactingFilter] = []
    for handler in logging.getLogger().handlers:
        found.extend(f for f in handler.filters if isinstance(f, RedactingFilter) and f not in found)
    return found


def log_file() -> Path | None:
    for handler in logging.getLogger().handlers:
        name = getattr(handler, "baseFilename", None)
        if name:
            return Path(name)
    return None


def plain_traceback(error: BaseException) -> str:
    """The traceback as text: file, line and code of each frame, never a local variable."""
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return redact(text, log_redactors())


def signature(error: BaseException) -> tuple[str, str, int]:
    """What makes two errors the same one (to log a repeating error's traceback once)."""
    frames = traceback.extract_tb(error.__traceback__)
    last = frames[-1] if frames else None
    return type(error).__name__, last.filename if last else "", last.lineno or 0 if last else 0


class Guarded:
    """Mixin for a Textual message pump (app, screen, widget): an exception in one of its
    handlers goes to the app's `unexpected` and the pump goes on with its next message (Textual
    would stop it for good, and exit)."""

    async def _dispatch_message(self, message: Message) -> None:
        try:
            await super()._dispatch_message(message)  # type: ignore[misc]
        except Exception as error:
            app: Any = self if hasattr(self, "unexpected") else getattr(self, "app", None)
            if app is None or not hasattr(app, "unexpected"):
                raise
            app.unexpected(error, where=f"{type(self).__name__} handling {type(message).__name__}")


@contextmanager
def file_logging_only() -> Iterator[None]:
    """While the TUI owns the terminal, log lines go only to the log file (--debug also logs to
    stderr, which is the screen)."""
    root = logging.getLogger()
    on_terminal = [h for h in root.handlers
                   if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
                   and getattr(h, "stream", None) in (sys.stderr, sys.__stderr__, sys.stdout, sys.__stdout__)]
    for handler in on_terminal:
        root.removeHandler(handler)
    try:
        yield
    finally:
        for handler in on_terminal:
            root.addHandler(handler)
