"""Search, the pure part: folding, index tokens, query parsing, snippets.

No database here: the store indexes the tokens :func:`index_tokens` gives and runs the
FTS5 expression :func:`fts_expression` builds; both sides fold text the same way.

**Folding** (:mod:`newsmirror.search.folding`): NFKC, case folding, traditional characters to
simplified ones, character by character, so that any substring of a text folds to a
substring of the folded text.

**Tokens.** A run of CJK characters (Han, kana, hangul) becomes its overlapping two-
character chunks ("延伸威慑" → 延伸 伸威 威慑), then its last character alone (the run's
end: so that one-character searches find every character with a prefix query); any
other run of letters and digits is one word. A search term becomes the phrase of the
same chunks, so a term of any length matches exactly where its characters stand in a
row, and never across a boundary the term does not have.
"""

from __future__ import annotations

import array
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import chain

from newsmirror.errors import SearchQueryError
from newsmirror.search.folding import fold, fold_aligned, fold_table

#: Bump when folding, tokenizing or what is indexed changes: indexes built before must be
#: rebuilt. 2: titles are indexed as shown (their character references decoded).
INDEX_VERSION = "2"
MAX_QUERY_CHARS = 500
MAX_TERMS = 24

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_RUNS = re.compile(f"(?P<cjk>[{_CJK}]+)|(?P<word>[^\\W_{_CJK}]+)")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_NON_CJK = re.compile(f"[^{_CJK}]+")
_SEPARATORS = re.compile(f"[^\\w{_CJK}]+")  # neither a word's character nor CJK
_WORD = re.compile(f"[^\\W{_CJK}]+")  # (once "_" is a separator)
_SEP, _PLACEHOLDER = "\x00", "\ue000"  # private use: separators took every such character
_WORD_MARK = _SEP + _PLACEHOLDER + _SEP  # a word's place while chunks are made
_AFTER_SEP = re.compile("\x00[^ ]")  # a pair that starts at a separator
_NATIVE_UTF16 = "utf-16-le" if sys.byteorder == "little" else "utf-16-be"  # as array reads
_QUOTES = str.maketrans({"“": '"', "”": '"', "「": '"', "」": '"', "＂": '"'})


def index_tokens(text: str) -> str:
    """The tokens of ``text`` for the chunk index, space-separated (text folded here)."""
    return _chunks(_index_form(text))


def index_document(title: str, text: str) -> tuple[str, str, str]:
    """(text tokens, title tokens, distinct characters) of a document, folded once."""
    title, text = _index_form(title), _index_form(text)
    return _chunks(text), _chunks(title), _chars(title + text)


def _index_form(text: str) -> str:
    """``text`` folded, with every separator (a character neither CJK nor of a word, and
    "_") as NUL: one translation by a table that composes the two, character by character.
    """
    mapped = text.translate(_index_list())
    if len(mapped.encode(_NATIVE_UTF16, "surrogatepass")) == 2 * len(mapped):
        return mapped  # (two bytes a character: no character past the BMP)
    return _SEPARATORS.sub(_SEP, mapped)  # characters past the BMP: the table stops there


@lru_cache(maxsize=1)
def _index_list() -> list[str]:
    every = "".join(map(chr, range(0x10000)))
    separated = list(_SEPARATORS.sub(lambda m: _SEP * len(m.group()), every))
    separated[ord("_")] = _SEP
    table = separated.copy()
    for code, folded in fold_table().items():
        table[code] = folded.translate(separated)
    return table


def _chunks(text: str) -> str:
    """The tokens of text in index form (:func:`_index_form`).

    Made for the whole text at once, so that the cost is a few passes in C rather than
    Python work for each of an article's hundred-odd runs: each word becomes a
    placeholder character of its own run, then every pair of neighbouring characters is
    laid out (:func:`_pairs`); pairs that start at a separator go, a pair that ends at one
    is the run's last character, and the words take their places back. (Spaces may
    repeat: FTS5 reads tokens between them.)
    """
    words: list[str] = []

    def keep(match: re.Match[str]) -> str:
        words.append(match.group())
        return _WORD_MARK

    text = _WORD.sub(keep, text)
    out = _AFTER_SEP.sub("", _pairs(_SEP + text + _SEP)).replace(_SEP, "")
    if not words:
        return out
    *parts, last = out.split(_PLACEHOLDER)  # one more part than words
    return "".join(chain.from_iterable(zip(parts, words, strict=True))) + last


def _pairs(text: str) -> str:
    """Every two neighbouring characters of ``text`` (of two or more, all in the BMP),
    space-separated ("延伸威慑" → "延伸 伸威 威慑"), laid out as UTF-16 code units in C."""
    units = text.encode("utf-16-le")
    out = bytearray(b" \x00" * (3 * (len(text) - 1)))  # pair i: units 3i, 3i+1, a space
    out[0::6], out[1::6] = units[0:-2:2], units[1:-2:2]  # first characters, low and high
    out[2::6], out[3::6] = units[2::2], units[3::2]  # second characters
    return out[:-2].decode("utf-16-le")


def _chars(folded: str) -> str:
    # As code units (every CJK character is one): a set and a sort of small integers
    # cost half of what the same of one-character strings does.
    units = array.array("H", _NON_CJK.sub("", folded).encode(_NATIVE_UTF16))
    return " ".join(map(chr, sorted(set(units))))


# -- queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One thing to find (or to exclude): a word, a CJK string, or a quoted phrase."""

    text: str  # as typed (quotes removed)
    exclude: bool = False  # "-term": results must not contain it
    phrase: bool = False  # it was quoted


@dataclass(frozen=True)
class Query:
    """A parsed search with its filters."""

    terms: tuple[Term, ...]  # what to find; at least one not excluded
    source_ids: tuple[int, ...] = ()  # only these sources' articles (their store ids)
    since_ms: int | None = None  # published at or after
    until_ms: int | None = None  # published before
    newest: bool = False  # newest first instead of by relevance
    limit: int = 20  # how many results
    offset: int = 0  # how many to skip
    count: bool = True  # also count every match (SearchResults.total; -1 when not)


def parse_query(text: str) -> tuple[Term, ...]:
    """The terms of a query: words separated by white space, "quoted phrases" (straight
    or curly quotes), a leading "-" to exclude. SearchQueryError when there is nothing to
    search for, or too much."""
    if len(text) > MAX_QUERY_CHARS:
        raise SearchQueryError(
            f"the query is too long ({len(text)} > {MAX_QUERY_CHARS} characters)"
        )
    text = text.translate(_QUOTES)
    terms: list[Term] = []
    for match in re.finditer(r'(-?)"([^"]*)"?|(\S+)', text):
        exclude, quoted, bare = match.group(1) == "-", match.group(2), match.group(3)
        if quoted is not None:
            terms.append(Term(quoted.strip(), exclude, True))
        elif bare.startswith(("-", "－")) and len(bare) > 1:
            terms.append(Term(bare[1:], True))
        else:
            terms.append(Term(bare))
    terms = [t for t in terms if _RUNS.search(fold(t.text))]
    if len(terms) > MAX_TERMS:
        raise SearchQueryError(f"too many terms ({len(terms)} > {MAX_TERMS})")
    if not any(not t.exclude for t in terms):
        raise SearchQueryError(
            "nothing to search for: give a word or some characters (a term starting with"
            " '-' only excludes)"
        )
    return tuple(terms)


def day_start_ms(day: str, next_day: bool = False) -> int:
    """Epoch milliseconds at the start of a YYYY-MM-DD day in UTC (or of the day after);
    SearchQueryError for anything else."""
    try:
        start = datetime.strptime(day.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
        if next_day:
            start += timedelta(days=1)
    except (ValueError, OverflowError) as exc:
        raise SearchQueryError(f"not a date: {day!r} (use YYYY-MM-DD)") from exc
    return int(start.timestamp() * 1000)


def term_phrase(term: Term) -> str:
    """The FTS5 phrase of one term: its tokens in a row; the last one a prefix when the
    term ends in a latin word (unless quoted) or in a single CJK character."""
    tokens, prefix = term_tokens(term)
    quoted = '"' + " ".join(tokens) + '"'
    return quoted + " *" if prefix else quoted


def term_tokens(term: Term) -> tuple[list[str], bool]:
    """The index tokens a term is, in a row, and whether the last one is a prefix (the
    term ends in a latin word, unless quoted, or in a single CJK character): what every
    backend's index looks for as a phrase."""
    pieces = list(_RUNS.finditer(fold(term.text)))
    tokens: list[str] = []
    prefix = False
    for n, match in enumerate(pieces):
        run, last = match.group(), n == len(pieces) - 1
        if match.lastgroup == "word":
            tokens.append(run)
            prefix = last and not term.phrase
        elif len(run) == 1:
            tokens.append(run)  # the run's end token (or, at the end, any chunk's start)
            prefix = last
        else:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
            if not last:
                tokens.append(run[-1])  # the document's run ends here too
            prefix = False
    return tokens, prefix


def is_char_term(term: Term) -> bool:
    """A term that is one CJK character and nothing else: the character index answers it."""
    folded = fold(term.text)
    found = list(_RUNS.finditer(folded))
    return len(found) == 1 and found[0].lastgroup == "cjk" and len(found[0].group()) == 1


def char_token(term: Term) -> str:
    """The character a one-character term (:func:`is_char_term`) looks for, folded."""
    return "".join(_CJK_CHAR.findall(fold(term.text)))


@dataclass(frozen=True)
class Plan:
    """What the store runs for a query: FTS5 expressions over the chunk index and over
    the character index (one-character terms), positive and negative."""

    chunks: str  # every positive term of the chunk index ANDed ("" when none)
    chunks_excluded: tuple[str, ...]  # each excluded term of the chunk index
    chars: tuple[str, ...]  # quoted one-character terms to find
    chars_excluded: tuple[str, ...]  # quoted one-character terms to exclude


def plan(terms: tuple[Term, ...], columns: str = "{title body}") -> Plan:
    """Split the terms between the two indexes and make their FTS5 expressions."""
    chunks: list[str] = []
    excluded: list[str] = []
    chars: list[str] = []
    chars_excluded: list[str] = []
    for term in terms:
        if is_char_term(term):
            token = '"' + char_token(term) + '"'
            (chars_excluded if term.exclude else chars).append(token)
        else:
            phrase = f"{columns} : {term_phrase(term)}"
            (excluded if term.exclude else chunks).append(phrase)
    return Plan(" AND ".join(chunks), tuple(excluded), tuple(chars), tuple(chars_excluded))


# -- snippets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snippet:
    """A piece of text around the first match, and where the matches are in it."""

    text: str  # the piece, with "…" where it was cut
    marks: tuple[tuple[int, int], ...]  # (start, end) of each match in ``text``


def snippet(text: str, terms: tuple[Term, ...], width: int = 120) -> Snippet:
    """About ``width`` characters of ``text`` around the first match of a positive term,
    with every match in that piece marked; the start of the text when none is found."""
    patterns = [_pattern(term) for term in terms if not term.exclude]
    # Most texts hold their matches as written (simplified, or latin in another case):
    # looking there first spares folding the whole text (a quarter of a millisecond).
    spans = sorted(m.span() for p in patterns if p for m in p.finditer(text))
    if not spans:
        folded = fold_aligned(text)
        spans = sorted(m.span() for p in patterns if p for m in p.finditer(folded))
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 3)
    end = min(len(text), start + width)
    start = max(0, min(start, end - width))
    piece = text[start:end]
    marks = tuple(
        (max(a, start) - start, min(b, end) - start) for a, b in spans if a < end and b > start
    )
    lead = "…" if start > 0 else ""
    tail = "…" if end < len(text) else ""
    shift = len(lead)
    marks = tuple((a + shift, b + shift) for a, b in _merged(marks))
    return Snippet(lead + piece + tail, marks)


def _pattern(term: Term) -> re.Pattern[str] | None:
    """What a term looks like in a text (None for a term with nothing to find)."""
    needle = " ".join(m.group() for m in _RUNS.finditer(fold(term.text)))
    if not needle:
        return None
    pattern = re.escape(needle).replace(r"\ ", r"\W*")
    if needle[-1].isascii() and needle[-1].isalnum() and term.phrase:
        pattern += r"(?![^\W_])"
    return re.compile(pattern, re.IGNORECASE)


def _merged(spans: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
