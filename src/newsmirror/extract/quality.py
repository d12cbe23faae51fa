"""Scores of an extraction against what a good one holds: pure functions, no I/O.

Two measures, as the extraction benchmarks of newspaper and trafilatura use them:

- :func:`f1`: precision, recall and F1 of the extracted text's tokens against the
  expected full text's, as bags (multisets) of :func:`tokens`;
- :func:`fragments`: the share of fragments a good extraction contains that it does
  contain, and the share of boilerplate fragments it must leave out that it leaves out.

:func:`tokens` works for every script: scripts written without spaces between words
(Chinese, Japanese, Korean hangul, Thai, Lao, Burmese, Khmer, Tibetan, Yi...) count one
token per character, other scripts one token per run of letters and digits.
"""

from __future__ import annotations

import bisect
import functools
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["FragmentScore", "Score", "f1", "fragments", "normalise_space", "tokens"]

#: Code point ranges (inclusive) of scripts written without spaces between words, whose
#: every character is a token: Thai, Lao, Tibetan, Burmese, hangul jamo, Khmer, Tai Le,
#: New Tai Lue, Khmer symbols, Tai Tham, Balinese, CJK radicals, CJK symbols, kana,
#: bopomofo, hangul compatibility jamo, kanbun, CJK strokes, enclosed and compatibility
#: CJK, CJK ideographs (extension A and the main block), Yi, Javanese, Burmese
#: extensions, hangul syllables and jamo extended B, CJK compatibility ideographs,
#: halfwidth kana and hangul, Tangut, kana supplements, Nüshu, and the ideograph planes
#: 2 and 3 (extensions B to I and the compatibility supplement).
_UNSPACED = (
    (0x0E00, 0x0EFF),
    (0x0F00, 0x0FFF),
    (0x1000, 0x109F),
    (0x1100, 0x11FF),
    (0x1780, 0x17FF),
    (0x1950, 0x19FF),
    (0x1A20, 0x1AAF),
    (0x1B00, 0x1B7F),
    (0x2E80, 0x2FDF),
    (0x3005, 0x3007),
    (0x3021, 0x3029),
    (0x3031, 0x3035),
    (0x3038, 0x303C),
    (0x3040, 0x312F),
    (0x3130, 0x318F),
    (0x3190, 0x31FF),
    (0x3200, 0x33FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA000, 0xA4CF),
    (0xA960, 0xA97F),
    (0xA980, 0xA9FF),
    (0xAA60, 0xAA7F),
    (0xAC00, 0xD7FF),
    (0xF900, 0xFAFF),
    (0xFF66, 0xFFDC),
    (0x17000, 0x18AFF),
    (0x1B000, 0x1B2FF),
    (0x20000, 0x3FFFF),
)
_STARTS = [start for start, _ in _UNSPACED]

_SEPARATOR, _WORD, _MARK, _ALONE = range(4)


@dataclass(frozen=True)
class Score:
    """Bag-of-tokens agreement of an extracted text with the expected text."""

    precision: float  # share of the extracted tokens that the expected text has
    recall: float  # share of the expected tokens that the extracted text has
    f1: float  # harmonic mean of precision and recall


@dataclass(frozen=True)
class FragmentScore:
    """How an extracted text fares against fragments it must hold and must leave out."""

    found: float  # share of the fragments a good extraction contains that it contains
    left_out: float  # share of the boilerplate fragments that it does not contain


@functools.lru_cache(maxsize=4096)
def _kind(char: str) -> int:
    """What a character is to the tokeniser: a character of a script written without
    spaces (a token of its own), a letter or digit, a combining mark, or a separator
    (punctuation, symbols, white space, controls)."""
    code = ord(char)
    index = bisect.bisect_right(_STARTS, code) - 1
    category = unicodedata.category(char)
    if index >= 0 and code <= _UNSPACED[index][1] and category[0] in "LN":
        return _ALONE
    if category[0] in "LN":
        return _WORD
    return _MARK if category[0] == "M" else _SEPARATOR


def tokens(text: str) -> list[str]:
    """The tokens of ``text`` (NFKC-normalised first, so full-width Latin is Latin):
    each character of a script written without spaces (a CJK ideograph, kana, a hangul
    syllable, a Thai or Burmese letter...) with the combining marks that follow it;
    each run of other letters, digits and combining marks, case-folded. Punctuation,
    symbols and white space are not tokens: they only separate them.
    """
    found: list[str] = []
    current: list[str] = []
    alone = False  # whether ``current`` is a character of a script without spaces
    for char in unicodedata.normalize("NFKC", text):
        kind = _kind(char)
        if kind == _MARK and current:
            current.append(char)
            continue
        if current and (kind != _WORD or alone):
            found.append("".join(current).casefold())
            current = []
        if kind != _SEPARATOR:
            current.append(char)
            alone = kind == _ALONE
    if current:
        found.append("".join(current).casefold())
    return found


def f1(extracted: str, expected: str) -> Score:
    """Precision, recall and F1 of the tokens of ``extracted`` against those of
    ``expected``, as multisets (a token counts as often as it occurs on both sides).

    When one side has no token, all three are 0.0, or 1.0 when neither has any.
    """
    got, want = Counter(tokens(extracted)), Counter(tokens(expected))
    if not got or not want:
        same = 1.0 if not got and not want else 0.0
        return Score(same, same, same)
    overlap = sum((got & want).values())
    precision = overlap / sum(got.values())
    recall = overlap / sum(want.values())
    harmonic = 2 * precision * recall / (precision + recall) if overlap else 0.0
    return Score(precision, recall, harmonic)


def normalise_space(text: str) -> str:
    """``text`` with every run of white space (U+00A0 and U+3000 included) made one
    space, and none at either end."""
    return " ".join(text.split())


def fragments(extracted: str, with_: Iterable[str], without: Iterable[str]) -> FragmentScore:
    """The share of ``with_`` fragments that ``extracted`` contains and the share of
    ``without`` fragments it does not, comparing with white space normalised on both
    sides (:func:`normalise_space`), case and everything else as written.

    A fragment that is empty after normalisation says nothing and is not counted; a
    list with no fragment left scores 1.0 (nothing was missed).
    """
    text = normalise_space(extracted)
    wanted = [f for f in map(normalise_space, with_) if f]
    unwanted = [f for f in map(normalise_space, without) if f]
    found = sum(f in text for f in wanted) / len(wanted) if wanted else 1.0
    left_out = sum(f not in text for f in unwanted) / len(unwanted) if unwanted else 1.0
    return FragmentScore(found, left_out)
