"""How different two titles or names are, from 0.0 (the same) to 1.0 (nothing alike).

An edit distance over letters and digits only, normalised by the longer string, after the
differences that do not make two titles different are taken out (docs/identify.md, *Tag
distance*; the idea follows beets' autotagger):

- case, accents and punctuation: ``Café del Mar`` = ``CAFE DEL MAR`` = ``Cafe-Del-Mar``;
- ``&`` = ``and``; a trailing ``, The`` = a leading ``The``;
- a featured-artist note (``feat. X``, ``ft. X``, ``featuring X``) counts for nothing;
- a bracketed note (``(Remastered)``, ``[Live]``) and a leading ``The`` count for a third and a
  tenth of their edit distance, so ``Album (Deluxe)`` is close to ``Album`` but not equal.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["levenshtein", "string_distance"]

_TRAILING_ARTICLE = re.compile(r"^(?P<rest>.+),\s*(?P<article>the|a|an)$")
# (pattern, weight): the part a pattern removes counts with this weight of the distance it makes.
_SOFT_PARTS = (
    (re.compile(r"[(\[]?\b(?:feat|ft|featuring)\b\.?\s.*$"), 0.0),
    (re.compile(r"\([^)]*\)"), 0.3),
    (re.compile(r"\[[^\]]*\]"), 0.3),
    (re.compile(r"^the\s+"), 0.1),
)


def levenshtein(a: str, b: str) -> int:
    """Edits (insert, delete, substitute) that turn ``a`` into ``b``."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("&", " and ").strip()
    match = _TRAILING_ARTICLE.match(text)
    return f"{match['article']} {match['rest']}" if match else text


def _letters(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


def _basic(a: str, b: str) -> float:
    a, b = _letters(a), _letters(b)
    if a == b:
        return 0.0
    return levenshtein(a, b) / max(len(a), len(b))


@lru_cache(maxsize=65_536)
def _distance(a: str, b: str) -> float:
    a, b = _fold(a), _fold(b)
    base = _basic(a, b)
    penalty = 0.0
    for pattern, weight in _SOFT_PARTS:
        if base == 0.0:
            break
        cut_a, cut_b = pattern.sub("", a).strip(), pattern.sub("", b).strip()
        if (cut_a, cut_b) == (a, b) or not (_letters(cut_a) or _letters(cut_b)):
            continue
        cut = _basic(cut_a, cut_b)
        if cut < base:
            penalty += weight * (base - cut)
            a, b, base = cut_a, cut_b, cut
    return min(1.0, base + penalty)


def string_distance(a: str | None, b: str | None) -> float:
    """0.0 for the same title (see the module doc for what "the same" allows), up to 1.0."""
    if not a and not b:
        return 0.0
    if not a or not b:
        return 1.0
    return _distance(a, b)
