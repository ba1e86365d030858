"""A minimal app around the composer, run in a real terminal by `test_composer_pty.py`: the
editor round trip through `App.suspend()`, which Textual's headless driver cannot do.

    python composer_pty_app.py OUT_DIR

Each draft save is written to OUT_DIR/draft; on submit, the kind and close_after to OUT_DIR/kind
and the text to OUT_DIR/sent (then it exits).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult

from hmtui.ui.compose_model import ConversationKey
from hmtui.ui.widgets.composer import Composer


class PtyComposerApp(App[None]):
    def __init__(self, out: Path) -> None:
        super().__init__()
        self.out = out

    def compose(self) -> ComposeResult:
        yield Composer(ConversationKey(501, "14155550142"), name="Ada", save_draft=self.save_draft, draft_delay=0.05)

    def on_mount(self) -> None:
        (self.out / "ready").write_text("1")

    def save_draft(self, inbox_id: Any, target: str, text: str, **kw: Any) -> None:
        (self.out / "draft.tmp").write_text(text, encoding="utf-8")
        (self.out / "draft.tmp").replace(self.out / "draft")

    def on_composer_submitted(self, event: Composer.Submitted) -> None:
        (self.out / "kind").write_text(f"{event.kind} close_after={event.close_after}", encoding="utf-8")
        (self.out / "sent").write_text(event.text, encoding="utf-8")
        self.exit()


if __name__ == "__main__":
    PtyComposerApp(Path(sys.argv[1])).run()
