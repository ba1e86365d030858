"""Logging to the platformdirs log dir (and stderr with --debug), with secrets redacted."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from logging.handlers import RotatingFileHandler
from pathlib import Path

# Any JWT (three base64url parts, the first two JSON objects starting "eyJ").
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
# The user:password of a URL ("https://user:pw@host/..."), e.g. a base URL in httpx's request log.
_URL_USERINFO = re.compile(r"(?<=://)[^/?#\s]+@")
REDACTED = "[redacted]"


class RedactingFilter(logging.Filter):
    """Replaces the secret key and every token in a record's final text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return _URL_USERINFO.sub(REDACTED + "@", _JWT.sub(REDACTED, text))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self.redact(message), None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def setup_logging(log_dir: Path | None, *, debug: bool, secrets: Iterable[str] = ()) -> RedactingFilter:
    """Send hmtui's (and httpx's) logs to `log_dir`/hmtui.log, and to stderr if `debug`."""
    redactor = RedactingFilter(secrets)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_hmtui", False):
            root.removeHandler(handler)
            handler.close()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = []
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            handlers.append(RotatingFileHandler(log_dir / "hmtui.log", maxBytes=2_000_000, backupCount=2, encoding="utf-8"))
        except OSError:
            pass  # no writable log dir must not stop the app
    if debug:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler._hmtui = True  # type: ignore[attr-defined]
        handler.setFormatter(formatter)
        handler.addFilter(redactor)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    # httpcore's debug lines are noise; httpx's one line per request is enough.
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.INFO if debug else logging.WARNING)
    return redactor
