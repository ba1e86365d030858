"""Logging to the platformdirs log dir (and stderr with --debug), with secrets redacted."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO

# Any JWT (three base64url parts, the first two JSON objects starting "eyJ").
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
# The user:password of a URL ("https://user:pw@host/..."), e.g. a base URL in httpx's request log.
_URL_USERINFO = re.compile(r"(?<=://)[^/?#\s]+@")
# Whatever follows an Authorization header or a bearer scheme, even if it is no JWT.
_AUTHORIZATION = re.compile(
    r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:(?:bearer|basic)\s+)?|bearer\s+)[^\s'\",;)}\]]+"
)
REDACTED = "[redacted]"
LOG_NAME = "hmtui.log"


class RedactingFilter(logging.Filter):
    """Replaces the secret key and every token in a record's final text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = _JWT.sub(REDACTED, text)
        text = _AUTHORIZATION.sub(lambda m: m.group(1) + REDACTED, text)
        return _URL_USERINFO.sub(REDACTED + "@", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self.redact(message), None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class PrivateFileHandler(RotatingFileHandler):
    """A rotating log file created 0600: it names inboxes, numbers and request ids."""

    def _open(self) -> IO[str]:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fchmod = getattr(os, "fchmod", None)  # not on Windows, where modes mean little anyway
        if fchmod is not None:
            try:
                fchmod(fd, 0o600)  # a file made earlier, or a umask that took less than asked
            except OSError:
                pass
        return os.fdopen(fd, self.mode, encoding=self.encoding, errors=self.errors)


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
            os.chmod(log_dir, 0o700)  # mkdir's mode yields to the umask and skips an existing folder
            handlers.append(PrivateFileHandler(log_dir / LOG_NAME, maxBytes=2_000_000, backupCount=2, encoding="utf-8"))
        except OSError:
            pass  # no writable log dir must not stop the app
    if debug:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler._hmtui = True  # type: ignore[attr-defined]
        handler.setFormatter(formatter)
        handler.addFilter(redactor)
        root.addHandler(handler)
    # INFO without --debug: one line per request (method, path, status, request id) is what
    # Heymarket support asks for, so it must reach the file on every run.
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    # httpcore's debug lines are noise; httpx's one line per request is enough.
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.INFO if debug else logging.WARNING)
    return redactor
