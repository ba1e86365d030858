"""Running the Textual app against the fake server, deterministically."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from hmtui.api import Credentials, HeymarketClient, RetryPolicy
from hmtui.config import Config
from hmtui.ui.app import HmtuiApp
from hmtui.ui.scenes import settle  # noqa: F401  (re-exported for the tests)

from conftest import ANCHOR
from helpers import RecordingSleep

UTC = timezone.utc


def frozen_clock(moment: datetime = ANCHOR):
    return lambda: moment


def make_app(server, *, tmp_path: Path | None = None, attempts: int = 3, timeout: float = 5.0,
             config: Config | None = None, **kw: Any) -> HmtuiApp:
    client = HeymarketClient(
        Credentials(server.secret_id, server.secret_key),
        base_url=server.url,
        retry=RetryPolicy(attempts=attempts),
        timeout=httpx.Timeout(timeout),
        sleep=RecordingSleep(),
    )
    kw.setdefault("reraise", True)  # an unexpected error in the app fails the test
    app = HmtuiApp(
        client,
        config=config or Config(),
        clock=frozen_clock(),
        tz=UTC,
        refresh_interval=0,
        export_dir=tmp_path,
        **kw,
    )
    app.preview_delay = 0.0
    return app


@asynccontextmanager
async def running(server, *, size=(160, 45), **kw: Any) -> AsyncIterator[tuple[HmtuiApp, Any]]:
    app = make_app(server, **kw)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        yield app, pilot


def screen_text(widget) -> list[str]:
    """The lines a Line-API widget shows right now."""
    return [widget.render_line(y).text for y in range(widget.size.height)]
