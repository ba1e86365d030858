"""What the composer knows and decides, without Textual: testable directly.

A `ComposeModel` is made for one conversation (`ConversationKey`) and never changes it: the
guard against the wrong recipient is that nothing here can retarget a draft. It holds the text,
the kind (reply or private note), the template it was made from while that is still unedited,
and turns them into a `Submission` (what the screen hands to the outbox) and the counter line.

The template rule (issue 9): a draft that is exactly a template's text, as inserted, goes with
that `template_id` and the server fills the merge tokens. Anything else goes as plain text, with
the tokens the conversation knows filled in locally (`fill_tokens`); the counter line says which.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hmtui.api.models import Id
from hmtui.api.templates import Template, fill_tokens, merge_tokens
from hmtui.cache.local_tables import Draft, Kind
from hmtui.phones import format_phone
from hmtui.safe_text import one_line
from hmtui.sms import SegmentCount, count


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """Where a composer's message goes: the inbox and the customer's number (the thread)."""

    inbox_id: Id
    target: str


@dataclass(frozen=True, slots=True)
class Submission:
    """One message to send, as the composer hands it over (the screen does the network)."""

    key: ConversationKey
    kind: Kind
    text: str  # what goes on the wire: tokens filled locally, unless template_id is set
    template_id: Id | None = None  # set only for an unedited template: the server fills tokens
    close_after: bool = False
    tokens_left: tuple[str, ...] = ()  # tokens nobody could fill (sent as typed)


def other_kind(kind: Kind) -> Kind:
    return "note" if kind == "reply" else "reply"


@dataclass(slots=True)
class ComposeModel:
    key: ConversationKey
    # The values a conversation knows for merge tokens (`contact_tokens(name, phone)`).
    tokens: Mapping[str, str | None] = field(default_factory=dict)
    kind: Kind = "reply"
    text: str = ""
    # The template this text was inserted from, and its text as inserted: kept only while the
    # draft is still exactly that (an edit forgets it, see `template_id`).
    _template_id: Id | None = None
    _template_text: str | None = None

    @classmethod
    def from_draft(cls, key: ConversationKey, draft: Draft | None, *, kind: Kind = "reply",
                   tokens: Mapping[str, str | None] | None = None) -> ComposeModel:
        """A model for `key`, restoring `draft` if it is this conversation's (never another's)."""
        model = cls(key, dict(tokens or {}), kind=kind)
        if draft is not None and (draft.inbox_id, draft.target) == (key.inbox_id, key.target):
            model.text = draft.text
            model.kind = draft.kind if draft.kind in ("reply", "note") else kind
            if draft.template_id is not None:
                # Stored only while unedited: the draft's text is the template's.
                model._template_id, model._template_text = draft.template_id, draft.text
        return model

    # -- editing ----------------------------------------------------------------------------

    def set_text(self, text: str) -> None:
        self.text = text

    def toggle_kind(self) -> Kind:
        self.kind = other_kind(self.kind)
        return self.kind

    def insert_template(self, template: Template, *, at: int | None = None) -> str:
        """The text with the template's text inserted at `at` (the end if None), tokens kept as
        tokens. Into an empty draft it is the whole message, so it stays a template send."""
        body = template.text
        if not self.text:
            self.text = body
            self._template_id, self._template_text = template.id, body
            return self.text
        position = len(self.text) if at is None else max(0, min(at, len(self.text)))
        self.text = self.text[:position] + body + self.text[position:]
        self._template_id = self._template_text = None  # part of a longer text: plain text
        return self.text

    # -- what would be sent ---------------------------------------------------------------

    @property
    def template_id(self) -> Id | None:
        """The template to send by id: only while the text is exactly the template as inserted."""
        if self._template_id is not None and self.text == self._template_text:
            return self._template_id
        return None

    @property
    def edited_template(self) -> bool:
        return self._template_id is not None and self.text != self._template_text

    def wire_text(self) -> tuple[str, list[str]]:
        """(the text as it will be sent, the tokens left unfilled). An unedited template goes
        as is: the server fills it."""
        if self.template_id is not None:
            return self.text, merge_tokens(self.text)
        return fill_tokens(self.text, self.tokens)

    def submission(self, *, close_after: bool = False) -> Submission | None:
        """What to send now, or None for a blank draft (nothing to send)."""
        if not self.text.strip():
            return None
        text, left = self.wire_text()
        return Submission(self.key, self.kind, text, self.template_id, close_after, tuple(left))

    def draft_fields(self) -> dict[str, object]:
        """The keyword arguments of `Store.put_draft` for this draft (after inbox and target)."""
        return {"kind": self.kind, "template_id": self.template_id}

    # -- the counter ------------------------------------------------------------------------

    def segments(self) -> SegmentCount:
        """The count of what will be sent (filled tokens included)."""
        return count(self.wire_text()[0])

    def counter_line(self) -> str:
        """One line under the text: the counter, and how a template will go."""
        tally = self.segments()
        parts = [tally.describe()]
        if tally.encoding == "UCS-2" and tally.non_gsm:
            shown = "".join(tally.non_gsm[:3])
            parts.append(f"UCS-2 because of {shown!r}")
        if self.template_id is not None:
            tokens = merge_tokens(self.text)
            parts.append("template: the server fills " + ", ".join("{{%s}}" % t for t in tokens)
                         if tokens else "template")
        elif self.edited_template or merge_tokens(self.text) or self._filled():
            _, left = self.wire_text()
            note = "edited: sent as text"
            if self._filled():
                note += ", filled " + ", ".join(self._filled())
            if left:
                note += ", unknown " + ", ".join("{{%s}}" % t for t in left)
            parts.append(note)
        if self.kind == "note":
            parts.insert(0, "private note")
        return one_line(" · ".join(parts))

    def _filled(self) -> list[str]:
        if self.template_id is not None:
            return []
        _, left = fill_tokens(self.text, self.tokens)
        return [t for t in merge_tokens(self.text) if t not in left]


def title_for(kind: Kind, name: str | None, target: str) -> str:
    """The composer's title: who the message goes to, one line, literal (the caller draws it
    as plain text: a contact's name is the server's data)."""
    # The number as the list and the thread header write it (+1 415 555 0142), not the raw digits.
    number = one_line(format_phone(target), 40) if target else ""
    who = one_line(name, 60) if name and name.strip() else number
    if name and name.strip() and number:
        who += f" ({number})"
    return ("Private note on " if kind == "note" else "Reply to ") + who


# -- the template picker's matching -------------------------------------------------------------


def fuzzy_score(query: str, text: str) -> int | None:
    """A score for `query` as a subsequence of `text` (case-insensitive), higher is better, or
    None when it does not match. Consecutive letters and word starts score more."""
    q = query.strip().lower()
    if not q:
        return 0
    t = text.lower()
    score, position, previous = 0, 0, -2
    for ch in q:
        if ch == " ":
            continue
        found = t.find(ch, position)
        if found < 0:
            return None
        score += 1
        if found == previous + 1:
            score += 3
        if found == 0 or not t[found - 1].isalnum():
            score += 2
        previous, position = found, found + 1
    return score


def rank_templates(query: str, templates: Iterable[Template]) -> list[Template]:
    """The templates matching `query` by name (then text), best first, stable among equals."""
    scored: list[tuple[int, int, Template]] = []
    for index, template in enumerate(templates):
        by_name = fuzzy_score(query, template.name)
        by_text = fuzzy_score(query, template.text)
        if by_name is None and by_text is None:
            continue
        best = max(by_name + 100 if by_name is not None else -1, by_text if by_text is not None else -1)
        scored.append((-best, index, template))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [template for _, _, template in scored]


def preview_lines(template: Template, tokens: Mapping[str, str | None]) -> Sequence[str]:
    """What the picker's preview shows: the text with its tokens, then what filling would do."""
    lines = [template.text]
    names = merge_tokens(template.text)
    if names:
        filled, left = fill_tokens(template.text, tokens)
        lines.append("")
        lines.append("Sent unedited: the server fills " + ", ".join("{{%s}}" % t for t in names) + ".")
        lines.append("Edited: sent as text: " + filled)
        if left:
            lines.append("(not known here: " + ", ".join("{{%s}}" % t for t in left) + ")")
    return lines
