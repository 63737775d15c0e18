"""Which TeX engine a document's text needs, and which installed fonts set it.

pdflatex sets ASCII and the characters that LaTeX's T1, TS1, OT1 and OMS encodings
declare (accented Latin such as ``Müller`` or ``Łódź``, ``€``, ``°``): such documents
compile with pdflatex as before. Any other character -- Greek, Cyrillic, CJK, Hebrew,
Arabic, symbols such as ``✓`` -- needs LuaLaTeX, whose main font (Latin Modern) falls
back, character by character, to installed fonts that have it (luaotfload's fallback).
Those fonts are found with fontconfig (``fc-list``), serif faces first; a character no
installed font has is an error naming it, never a blank in the PDF.

The figures (matplotlib) do the same with matplotlib's own list of fonts.
"""

from __future__ import annotations

import bisect
import re
import shutil
import subprocess
import unicodedata
from functools import lru_cache
from typing import Any, Iterable

from ..errors import RenderError

# The encodings a document's preamble loads (T1 by fontenc; OT1, OMS and TS1 by the
# LaTeX kernel): pdflatex sets each character their .dfu files declare.
PDFLATEX_ENCODINGS = ("t1", "ts1", "ot1", "oms")
MAIN_FONT = "Latin Modern Roman"
# Fallback fonts tried first, in this order (serif before sans, to sit with Latin
# Modern); then any installed family that has the character, by name.
PREFERRED = ("DejaVu Serif", "Noto Serif", "FreeSerif", "Noto Serif CJK SC",
             "Noto Serif CJK JP", "Noto Serif CJK KR", "Noto Serif CJK TC", "DejaVu Sans",
             "Noto Sans", "FreeSans", "Noto Sans CJK SC", "Droid Sans Fallback")
# What the figures' text is drawn in first (matplotlib's default), then the same list.
FIGURE_FONT = "DejaVu Sans"
DEBIAN_PACKAGES = ("texlive-luatex", "fonts-dejavu", "fonts-noto-cjk", "fontconfig")
_DECLARED = re.compile(r"\\DeclareUnicodeCharacter\{([0-9A-Fa-f]+)\}")


@lru_cache(maxsize=1)
def pdflatex_characters() -> frozenset[str]:
    """The non-ASCII characters pdflatex can set in our preamble (read from the installed
    LaTeX's encoding files; none when they cannot be found)."""
    kpsewhich = shutil.which("kpsewhich")
    if kpsewhich is None:
        return frozenset()
    names = [f"{e}enc.dfu" for e in PDFLATEX_ENCODINGS]
    try:
        found = subprocess.run([kpsewhich, *names], capture_output=True, text=True,
                               timeout=30, stdin=subprocess.DEVNULL).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    characters: set[str] = set()
    for path in found:
        try:
            with open(path, encoding="latin-1") as file:
                text = file.read()
        except OSError:
            continue
        characters.update(chr(int(code, 16)) for code in _DECLARED.findall(text))
    return frozenset(characters)


def beyond_pdflatex(text: str) -> list[str]:
    """The distinct characters of *text* pdflatex cannot set, in order of code point:
    not ASCII, not spacing (the templates and filters turn it into TeX spaces), not a
    control or format character (which the filters drop), and not declared by the
    encodings. (A whole document is scanned: its distinct characters are found first,
    at C speed.)"""
    if text.isascii():
        return []
    settable = pdflatex_characters()
    return sorted(c for c in set(text)
                  if c >= "\x80" and not c.isspace() and c not in settable
                  and unicodedata.category(c) not in ("Cc", "Cf"))


def needs_unicode_engine(texts: Iterable[str | None]) -> bool:
    return any(beyond_pdflatex(t) for t in texts if t)


@lru_cache(maxsize=1)
def unicode_engine_available() -> bool:
    """LuaLaTeX with fontspec and luaotfload, and fontconfig to find fallback fonts."""
    if shutil.which("lualatex") is None or shutil.which("fc-list") is None:
        return False
    kpsewhich = shutil.which("kpsewhich")
    if kpsewhich is None:
        return False
    try:
        found = subprocess.run([kpsewhich, "fontspec.sty", "luaotfload.sty"],
                               capture_output=True, text=True, timeout=30,
                               stdin=subprocess.DEVNULL).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return False
    return len(found) == 2


def describe(char: str) -> str:
    """``'Ω' (U+03A9 GREEK CAPITAL LETTER OMEGA)``."""
    name = unicodedata.name(char, "")
    return f"{char!r} (U+{ord(char):04X}{' ' + name if name else ''})"


class _Coverage:
    """The characters a font family has, as sorted code point ranges."""

    def __init__(self, ranges: list[tuple[int, int]]):
        ranges.sort()
        merged: list[list[int]] = []
        for low, high in ranges:
            if merged and low <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], high)
            else:
                merged.append([low, high])
        self.lows = [r[0] for r in merged]
        self.highs = [r[1] for r in merged]

    def has(self, char: str) -> bool:
        code = ord(char)
        i = bisect.bisect_right(self.lows, code) - 1
        return i >= 0 and code <= self.highs[i]


@lru_cache(maxsize=1)
def _installed() -> dict[str, _Coverage]:
    """Every installed font family (fontconfig's first name) and its characters, over
    all its faces; empty without fc-list."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return {}
    try:
        listing = subprocess.run([fc_list, "--format", "%{family[0]}\t%{charset}\n"],
                                 capture_output=True, text=True, timeout=60,
                                 stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    ranges: dict[str, list[tuple[int, int]]] = {}
    for line in listing.splitlines():
        family, _, charset = line.partition("\t")
        found = ranges.setdefault(family, [])
        for item in charset.split():
            low, _, high = item.partition("-")
            try:
                found.append((int(low, 16), int(high or low, 16)))
            except ValueError:
                continue
    return {family: _Coverage(r) for family, r in ranges.items() if family and r}


def _choose(chars: list[str], main: _Coverage | None, families: dict[str, _Coverage],
            order: list[str]) -> tuple[list[str], list[str]]:
    """The fallback families that set *chars* (each character from the first family of
    *order* that has it), and the characters none has."""
    chosen: list[str] = []
    missing: list[str] = []
    for char in chars:
        if main is not None and main.has(char):
            continue
        if any(families[f].has(char) for f in chosen):
            continue
        for family in order:
            if families[family].has(char):
                chosen.append(family)
                break
        else:
            missing.append(char)
    return chosen, missing


_FONT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]*")


def _order(families: Iterable[str]) -> list[str]:
    """The preferred families first, then the others by name; only names that are safe
    in a Lua string inside TeX (letters, digits, spaces and ``._-``)."""
    names = {f for f in families if _FONT_NAME.fullmatch(f)}
    return [f for f in PREFERRED if f in names] + sorted(names - set(PREFERRED))


# Scripts whose letters change shape with their neighbours: HarfBuzz shapes them only
# when told the script (OpenType tags), e.g. Arabic letters joined. (Hebrew, whose
# letters do not join, is set well without, and often shares a font with Arabic.)
SHAPED_SCRIPTS = {
    "ARABIC": "arab", "SYRIAC": "syrc", "THAANA": "thaa",
    "DEVANAGARI": "dev2", "BENGALI": "bng2", "GURMUKHI": "gur2", "GUJARATI": "gjr2",
    "ORIYA": "ory2", "TAMIL": "tml2", "TELUGU": "tel2", "KANNADA": "knd2",
    "MALAYALAM": "mlm2", "SINHALA": "sinh", "THAI": "thai", "LAO": "lao ",
    "TIBETAN": "tibt", "MYANMAR": "mym2", "KHMER": "khmr",
}


def _script(char: str) -> str | None:
    """The OpenType script tag of *char* when its script is shaped, else None."""
    name = unicodedata.name(char, "")
    return next((tag for script, tag in SHAPED_SCRIPTS.items() if name.startswith(script)),
                None)


def fallback_fonts(texts: Iterable[str | None], strict: bool = True) -> list[dict[str, Any]]:
    """The installed font families LuaLaTeX falls back to for the characters of *texts*
    that pdflatex cannot set, each with the script HarfBuzz shapes it as (``name``,
    ``script``: an OpenType tag or None): none when there are no such characters.

    *strict*: raise RenderError naming a character that no installed font has (before
    a PDF is compiled); else leave it out (a LaTeX source may be compiled elsewhere)."""
    chars = sorted({c for t in texts if t for c in beyond_pdflatex(t)})
    if not chars:
        return []
    families = _installed()
    if not families and not strict:
        return []
    if not families:
        raise RenderError(f"pdf: the text has {describe(chars[0])}, which pdflatex cannot "
                          f"set; LuaLaTeX finds a font for it with fontconfig's fc-list, "
                          f"which is not installed (Debian: apt-get install fontconfig)")
    # Marks that combine with the letter before them are set with it by HarfBuzz.
    letters = [c for c in chars if not unicodedata.combining(c)]
    chosen, missing = _choose(letters, families.get(MAIN_FONT), families,
                              _order(f for f in families if f != MAIN_FONT))
    if missing and strict:
        raise RenderError(f"pdf: no installed font has {describe(missing[0])}"
                          + (f" (nor {len(missing) - 1} more of the text's characters)"
                             if len(missing) > 1 else "")
                          + "; install a font that has it (Debian: fonts-noto-core, "
                            "fonts-noto-cjk) or leave it out of the title and names")
    scripts: dict[str, str | None] = {}
    for char in letters:
        family = next((f for f in chosen if families[f].has(char)), None)
        if family is not None and scripts.get(family) is None:
            scripts[family] = _script(char)
    return [{"name": family, "script": scripts.get(family)} for family in chosen]


def figure_fonts(text: str) -> list[str] | None:
    """The font families (matplotlib's names) that draw *text*: the default first, then
    installed families for its other characters; None when some character is in no
    font matplotlib knows."""
    from matplotlib import font_manager

    files: dict[str, str] = {}
    for entry in font_manager.fontManager.ttflist:
        # Not matplotlib's Last Resort font: it has a box for every character.
        if entry.style == "normal" and not entry.name.startswith("Last Resort"):
            files.setdefault(entry.name, entry.fname)
    chars = sorted({c for c in text if not c.isspace() and not unicodedata.combining(c)})
    main = _figure_coverage(tuple(sorted((f, p) for f, p in files.items()
                                         if f == FIGURE_FONT))).get(FIGURE_FONT)
    if main is not None and all(main.has(c) for c in chars):
        return [FIGURE_FONT]
    coverage = _figure_coverage(tuple(sorted(files.items())))
    chosen, missing = _choose(chars, main, coverage,
                              _order(f for f in coverage if f != FIGURE_FONT))
    return None if missing else [FIGURE_FONT, *chosen]


@lru_cache(maxsize=4)
def _figure_coverage(files: tuple[tuple[str, str], ...]) -> dict[str, _Coverage]:
    from matplotlib.ft2font import FT2Font

    coverage: dict[str, _Coverage] = {}
    for family, path in files:
        try:
            codes = sorted(FT2Font(path).get_charmap())
        except (OSError, RuntimeError, ValueError):
            continue
        if codes:
            coverage[family] = _Coverage([(c, c) for c in codes])
    return coverage
