"""The base of hmtui's modal screens: once dismissed, a modal does nothing more.

Textual's `Screen.dismiss` pops whatever screen is on top. A second dismiss (a second Enter that
was already queued when the first one chose) therefore pops the main screen ("Can't pop screen")
or, worse, another modal opened in between. Here the first dismiss wins and any later one, or one
from a modal that is no longer on top, is ignored.
"""

from __future__ import annotations

from typing import TypeVar

from textual.await_complete import AwaitComplete
from textual.screen import ModalScreen

from hmtui.ui.errors import Guarded

ResultT = TypeVar("ResultT")


class DismissOnce:
    """Mixin for a `Screen`: `dismiss` works once, and only while the screen is on top."""

    dismissed = False

    def dismiss(self, result: object = None) -> AwaitComplete:
        if self.dismissed or self.app.screen is not self:  # type: ignore[attr-defined]
            return AwaitComplete.nothing()
        self.dismissed = True
        return super().dismiss(result)  # type: ignore[misc]


class HmtuiModal(Guarded, DismissOnce, ModalScreen[ResultT]):
    """A modal screen that is dismissed at most once, and whose handlers cannot stop the app."""
