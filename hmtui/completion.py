"""`hmtui completion bash|zsh|fish`: a completion script generated from the argparse parser by
shtab, so it always knows every subcommand and option the CLI has (no list to keep in step)."""

from __future__ import annotations

import argparse

SHELLS = ("bash", "zsh", "fish")

# Where each shell looks for it (printed at the top of the script, and in the README).
INSTALL_HINTS = {
    "bash": "hmtui completion bash > ~/.local/share/bash-completion/completions/hmtui",
    "zsh": "hmtui completion zsh > \"${fpath[1]}/_hmtui\"  (a directory in $fpath; then compinit)",
    "fish": "hmtui completion fish > ~/.config/fish/completions/hmtui.fish",
}


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    import shtab  # only here: no other command pays for the import

    if shell not in SHELLS:
        raise ValueError(f"no completion for {shell!r}: choose one of {', '.join(SHELLS)}")
    script = shtab.complete(parser, shell=shell).rstrip() + "\n"
    hint = f"# hmtui completion for {shell}: install with\n#   {INSTALL_HINTS[shell]}\n"
    first, _, rest = script.partition("\n")
    if first.startswith("#compdef"):  # zsh's autoload reads this tag on the file's first line only
        return f"{first}\n{hint}{rest}"
    return hint + script
