"""The search index's values in PostgreSQL's own forms (pure): a document's tokens as a
``tsvector`` literal with their positions, and a query's terms as ``tsquery`` literals.

Tokens are given verbatim (quoted lexemes, no text search configuration in between), so
the index holds exactly the tokens :mod:`newsmirror.search` makes, as the SQLite store's
FTS5 index does. A ``tsvector`` keeps positions up to 16,383 and 256 of them per lexeme:
a phrase is found within the first 16,383 tokens of an article (its title, then its
text), and a token's occurrences past its 256th are not kept (a text repeating one pair of
characters that often). A lexeme is at most 2,046 bytes: a longer word is cut to that, in
the index and in a query alike.
"""

from __future__ import annotations

from newsmirror.search import query as searchlib
from newsmirror.store.indexing import Document

MAX_POSITION = 16_383  # PostgreSQL's last position in a tsvector
MAX_POSITIONS = 256  # positions kept per lexeme
MAX_LEXEME = 2_046  # bytes of a lexeme
MAX_BYTES = 1_000_000  # a tsvector is below 1 MB: lexemes past this many bytes are left out


def lexeme(token: str) -> str:
    """A token as a quoted lexeme (cut to :data:`MAX_LEXEME` bytes)."""
    raw = token.encode("utf-8")
    if len(raw) > MAX_LEXEME:
        token = raw[:MAX_LEXEME].decode("utf-8", "ignore")
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def terms_vector(made: Document) -> str:
    """The ``tsvector`` literal of a document's title and text tokens: the title's at
    positions 1, 2... weighted A, the text's after them, one position apart (no phrase
    runs from the title into the text)."""
    positions: dict[str, list[str]] = {}
    size = 0
    position = 0
    for tokens, weight in ((made.title.split(), "A"), (made.body.split(), "")):
        for token in tokens:
            position += 1
            if position > MAX_POSITION:
                break
            held = positions.get(token)
            if held is None:
                size += len(token.encode("utf-8")) + 8
                if size > MAX_BYTES:
                    continue
                held = positions[token] = []
            if len(held) < MAX_POSITIONS:
                held.append(f"{position}{weight}")
            size += 2
        position += 1
    return " ".join(f"{lexeme(token)}:{','.join(at)}" for token, at in positions.items())


def chars_vector(made: Document) -> str:
    """The ``tsvector`` literal of a document's distinct characters (no positions)."""
    return " ".join(lexeme(char) for char in made.chars.split())


def phrase(term: searchlib.Term) -> str:
    """The ``tsquery`` of a term of the chunk index: its tokens in a row (``<->``), the
    last one a prefix (``:*``) where the term's last token is one."""
    tokens, prefix = searchlib.term_tokens(term)
    return " <-> ".join(lexeme(t) for t in tokens) + (":*" if prefix else "")


def char(term: searchlib.Term) -> str:
    """The ``tsquery`` of a one-character term (of the character index)."""
    return lexeme(searchlib.char_token(term))
