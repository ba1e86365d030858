"""Turning what the user typed into a safe FTS5 query (or LIKE patterns), and snippets.

The query is free text, never FTS5 syntax: every term is quoted, so `AND`, `NEAR`, `(`, `:` and
`^` are just words or punctuation. What the user can express:

- `foo bar`      both words (in the text, the author or the numbers)
- `"foo bar"`    the phrase (an unbalanced quote is ignored)
- `foo*`         a word starting with foo
- `-foo`         without foo (only next to a positive term; alone it is searched for)
- `555 0134`, `+1 (555) 010-0134`: a number-like term also matches any part of a cached
  number (target or phone), so the last digits of a number find its thread.

A term with no word character (only punctuation) is dropped; nothing left means no results.

A query is bounded, so that no paste can make SQLite work for seconds: at most MAX_TERMS terms
(the rest are ignored), a prefix wildcard only on a term of at least PREFIX_MIN_CHARS characters
(`a*` is searched as the word `a`), at most MAX_QUERY_CHARS characters read. `ParsedQuery.dropped`
and `notice()` say what was left out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from hmtui.safe_text import one_line

NUMBER_MIN_DIGITS = 3  # a shorter run of digits is a plain word
NUMBER_SUFFIX_MIN = 4  # the shortest tail of a number that is indexed on its own
# Bounds on one query (each prefix term makes FTS5 walk every indexed word it starts).
MAX_TERMS = 16
PREFIX_MIN_CHARS = 2
MAX_QUERY_CHARS = 1000

_QUOTED = re.compile(r'"([^"]*)"')
_NUMBERISH = re.compile(r"\+?[\d().\-]+")


def _is_word_char(char: str) -> bool:
    # Mirrors the tokenizer's categories ('L* N* Co M* So').
    category = unicodedata.category(char)
    return category[0] in "LNM" or category in ("Co", "So")


def has_word(text: str) -> bool:
    return any(_is_word_char(c) for c in text)


def index_numbers(*numbers: str | None) -> str:
    """The `numbers` column: each number's digits and every tail of them of at least
    NUMBER_SUFFIX_MIN digits, so a prefix query on a tail is a substring match."""
    tokens: list[str] = []
    for number in numbers:
        digits = re.sub(r"\D", "", number or "")
        for start in range(0, max(len(digits) - NUMBER_SUFFIX_MIN + 1, 1)):
            tail = digits[start:]
            if tail and tail not in tokens:
                tokens.append(tail)
    return " ".join(tokens)


@dataclass
class Term:
    text: str
    prefix: bool = False
    phrase: bool = False
    digits: str | None = None  # set for a number-like term


@dataclass
class ParsedQuery:
    include: list[Term] = field(default_factory=list)
    exclude: list[Term] = field(default_factory=list)
    dropped: int = 0  # terms past MAX_TERMS (or past MAX_QUERY_CHARS), not searched for
    short_prefixes: list[str] = field(default_factory=list)  # `x*` searched as the word `x`

    @property
    def empty(self) -> bool:
        return not self.include

    def notice(self) -> str:
        """What the search left out of the query, in one line ("" when nothing)."""
        parts = []
        if self.dropped:
            parts.append(f"searched the first {MAX_TERMS} terms ({self.dropped:,} more ignored)")
        if self.short_prefixes:
            shown = ", ".join(f"{one_line(t, 20)}*" for t in self.short_prefixes[:3])
            more = "…" if len(self.short_prefixes) > 3 else ""
            parts.append(f"a wildcard needs {PREFIX_MIN_CHARS}+ characters: {shown}{more} searched as whole words")
        return "; ".join(parts)

    def words(self) -> list[str]:
        """The positive terms as plain text, for highlighting a snippet."""
        return [t.text for t in self.include]


# A phone number written with spaces, e.g. "+1 (555) 010-0134": one term, not four.
_SPACED_NUMBER = re.compile(r"(?<![\w\-])\+?\(?\d[\d().\-]*(?:\s+\(?[\d().\-]*\d[\d().\-]*)+(?![\w])")
SPACED_NUMBER_MIN_DIGITS = 7


def _words(segment: str) -> list[str]:
    """Whitespace-separated words, except that a spaced-out phone number stays one word."""
    words: list[str] = []
    position = 0
    for match in _SPACED_NUMBER.finditer(segment):
        if sum(c.isdigit() for c in match.group()) < SPACED_NUMBER_MIN_DIGITS:
            continue
        words.extend(segment[position:match.start()].split())
        words.append(" ".join(match.group().split()))
        position = match.end()
    words.extend(segment[position:].split())
    return words


def parse_query(query: str) -> ParsedQuery:
    parsed = ParsedQuery()
    if not isinstance(query, str):
        return parsed
    query = query.replace("\x00", " ")
    cut = query[MAX_QUERY_CHARS:]
    if cut.strip():
        # Whatever lies past the cap is not read: count its words as ignored terms.
        query = query[:MAX_QUERY_CHARS]
        parsed.dropped += len(cut.split()) + (0 if query[-1:].isspace() or cut[:1].isspace() else -1)
    pieces: list[tuple[str, bool, bool]] = []  # (text, negated, phrase)
    position = 0
    for match in _QUOTED.finditer(query):
        before = query[position:match.start()]
        negated = before.endswith("-") and (len(before) == 1 or before[-2].isspace())
        if negated:
            before = before[:-1]
        pieces.extend((word, False, False) for word in _words(before))
        pieces.append((match.group(1), negated, True))
        position = match.end()
    pieces.extend((word, False, False) for word in _words(query[position:].replace('"', " ")))

    for text, negated, phrase in pieces:
        prefix = False
        if not phrase:
            if text.startswith("-") and len(text) > 1 and not _NUMBERISH.fullmatch(text):
                negated, text = True, text.lstrip("-")
            if text.endswith("*"):
                prefix, text = True, text.rstrip("*")
        text = text.strip()
        if not has_word(text):
            continue
        if len(parsed.include) + len(parsed.exclude) >= MAX_TERMS:
            parsed.dropped += 1
            continue
        if prefix and len(text) < PREFIX_MIN_CHARS:
            prefix = False
            parsed.short_prefixes.append(text)
        digits = None
        if not phrase and _NUMBERISH.fullmatch(text.replace(" ", "")):
            only = re.sub(r"\D", "", text)
            if len(only) >= NUMBER_MIN_DIGITS:
                digits = only
        term = Term(text=text, prefix=prefix, phrase=phrase, digits=digits)
        (parsed.exclude if negated else parsed.include).append(term)
    if not parsed.include:  # "-foo" alone: look for foo rather than for nothing
        parsed.include, parsed.exclude = parsed.exclude, []
    return parsed


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _fts_term(term: Term) -> str:
    if term.digits is not None:
        # The digits as a word anywhere, or inside a cached number.
        alternatives = [_fts_string(term.digits), f"numbers : {_fts_string(term.digits)} *"]
        if term.text != term.digits:  # "555-0134" written that way in a text
            alternatives.append(_fts_string(term.text))
        return "(" + " OR ".join(alternatives) + ")"
    return _fts_string(term.text) + (" *" if term.prefix else "")


def fts_query(parsed: ParsedQuery) -> str | None:
    """An FTS5 MATCH expression, or None when there is nothing to search for."""
    if parsed.empty:
        return None
    expression = " AND ".join(_fts_term(t) for t in parsed.include)
    for term in parsed.exclude:
        expression = f"({expression}) NOT {_fts_term(term)}"
    return expression


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def like_clause(parsed: ParsedQuery) -> tuple[str, list[str]]:
    """A WHERE clause (over messages m) and its parameters, for SQLite without FTS5."""
    clauses: list[str] = []
    params: list[str] = []

    def one(term: Term) -> str:
        needle = term.digits if term.digits is not None else term.text
        pattern = like_pattern(needle)
        params.extend([pattern, pattern, pattern])
        return "(m.text LIKE ? ESCAPE '\\' OR m.author LIKE ? ESCAPE '\\' OR m.numbers LIKE ? ESCAPE '\\')"

    for term in parsed.include:
        clauses.append(one(term))
    for term in parsed.exclude:
        clauses.append("NOT " + one(term))
    return " AND ".join(clauses) or "1", params


def _fold(text: str) -> str:
    """Case- and accent-insensitive, one character per character (so offsets stay valid)."""
    out = []
    for char in text:
        lowered = unicodedata.normalize("NFD", char)[0].lower()
        out.append(lowered[0] if lowered else char)
    return "".join(out)


def snippet(text: str | None, words: list[str], width: int = 80) -> str:
    """A one-line excerpt of `text` (control characters made visible) around the first word found;
    the beginning of the text when none is (the match was in the author or a number)."""
    clean = one_line(text)
    if len(clean) <= width:
        return clean
    folded = _fold(clean)
    hits = [i for i in (folded.find(_fold(one_line(w))) for w in words if w) if i >= 0]
    start = 0
    if hits:
        start = max(0, min(hits) - width // 3)
        # Start on a word boundary when one is near.
        space = clean.rfind(" ", max(0, start - 10), start + 1)
        if space > 0:
            start = space + 1
    end = start + width - 2
    if end >= len(clean):
        end = len(clean)
        start = max(0, end - width + 1)
    excerpt = clean[start:end]
    if start > 0:
        excerpt = "…" + excerpt
    if end < len(clean):
        excerpt += "…"
    return excerpt
