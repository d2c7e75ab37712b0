"""Report text made safe for a terminal, and long text clipped: one helper for every terminal view.

A report is data from anywhere (another host, a crafted file). Its strings
may hold control characters: ``ESC [2J`` clears the screen, an OSC sequence
sets the window title or writes a hyperlink, ``CR`` overwrites what a line
said, bidirectional overrides reorder it. :func:`printable` shows each such
character as a visible escape (``\\x1b``, ``\\u202e``), so what a view prints
is exactly what the report says, and nothing else happens to the terminal.
"""

from __future__ import annotations

import unicodedata

__all__ = ["MAX_TERMINAL_MESSAGE", "clip", "printable"]

#: Characters of a message a terminal view prints before clipping (``--full`` prints all of it).
MAX_TERMINAL_MESSAGE = 3000


def _table(keep_newlines: bool) -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in [*range(0x00, 0x20), *range(0x7F, 0xA0)]:
        if cp == 0x09 or (keep_newlines and cp == 0x0A):
            continue
        table[cp] = f"\\x{cp:02x}"
    # line/paragraph separators, bidirectional controls (they reorder what a line shows), and the BOM
    for cp in (0x2028, 0x2029, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF):
        table[cp] = f"\\u{cp:04x}"
    return table


_ONE_LINE = _table(keep_newlines=False)
_LINES = _table(keep_newlines=True)


def printable(text: object, *, newlines: bool = False) -> str:
    """``text`` (``str()`` of it) with every control character shown as an escape; tabs are kept.

    With ``newlines``, line feeds are kept (multi-line messages); carriage
    returns never are. Other characters -- any script, emoji -- pass
    unchanged. Unassigned or private-use code points pass too: they cannot
    move the cursor.
    """
    s = text if isinstance(text, str) else str(text)
    if s.isascii() and s.isprintable():
        return s
    out = s.translate(_LINES if newlines else _ONE_LINE)
    if not out.isascii():  # format characters not in the table (other invisible controls) stay visible as escapes
        out = "".join(c if c.isascii() or unicodedata.category(c) != "Cf" or c == "\u200d"
                      else f"\\u{ord(c):04x}" for c in out)
    return out


def clip(text: str, limit: int = MAX_TERMINAL_MESSAGE, *, hint: str = "--full shows all of it") -> str:
    """``text`` cut after ``limit`` characters, at a line break or space near the cut when there is one,
    with a note of how much was left out. Text within the limit is returned unchanged."""
    if limit <= 0 or len(text) <= limit:
        return text
    cut = limit
    for sep in ("\n", " "):
        at = text.rfind(sep, max(0, limit - 200), limit)
        if at > 0:
            cut = at
            break
    rest = len(text) - cut
    return text[:cut].rstrip() + f"\n… ({rest} more characters; {hint})"
