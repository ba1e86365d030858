"""Editing a draft in the user's own editor (`$VISUAL`, else `$EDITOR`), without a shell.

No Textual here: the composer calls `edit_text` inside `App.suspend()`, which hands the terminal
to the editor and takes it back.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence


class EditorError(Exception):
    """Why the editor did not give a text back; one line, shown as a notice (the draft is kept)."""


def editor_command(environ: Mapping[str, str]) -> list[str] | None:
    """The editor as an argument list: `$VISUAL`, else `$EDITOR`, split as a shell would split
    words (quotes kept together) but never run by a shell. None when neither is set."""
    for name in ("VISUAL", "EDITOR"):
        value = environ.get(name, "").strip()
        if value:
            try:
                words = shlex.split(value)
            except ValueError as error:  # an unbalanced quote
                raise EditorError(f"${name} cannot be read ({error}): {value!r}") from None
            if words:
                return words
    return None


Runner = Callable[[Sequence[str]], int]


def _run(argv: Sequence[str]) -> int:
    return subprocess.run(list(argv), check=False).returncode


def edit_text(command: Sequence[str], text: str, *, run: Runner = _run) -> str:
    """`text` after the editor has had it: written to a private temporary file, the editor run on
    it, read back. One trailing newline (most editors add one) is dropped. Raises EditorError
    when the editor cannot start or fails; the file is removed either way."""
    fd, path = tempfile.mkstemp(prefix="hmtui-draft-", suffix=".txt")  # mode 0600: a draft is private
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        try:
            status = run([*command, path])
        except FileNotFoundError:
            raise EditorError(f"editor not found: {command[0]}") from None
        except OSError as error:
            raise EditorError(f"editor {command[0]} could not start: {error.strerror or error}") from None
        if status != 0:
            raise EditorError(f"editor {command[0]} exited with status {status}; the draft is unchanged")
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            edited = handle.read()
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    if edited.endswith("\r\n"):
        edited = edited[:-2]
    elif edited.endswith("\n"):
        edited = edited[:-1]
    return edited.replace("\r\n", "\n")
