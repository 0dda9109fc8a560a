"""A small Lucene query parser and matcher: the part of MusicBrainz's search syntax a client uses.

https://musicbrainz.org/doc/Indexed_Search_Syntax. Understood: ``field:term``, ``field:"a phrase"``,
``field:(a b)`` (a group searching one field), ``field:[a TO b]`` / ``{a TO b}`` / ``*`` (ranges,
numeric where both ends are numbers), ``AND``/``&&``, ``OR``/``||``, ``NOT``/``!``, ``+``/``-``,
parentheses, backslash escapes, a trailing ``*`` (prefix), and boosts/fuzziness (``^2``, ``~``),
which are parsed and ignored. The default operator is OR: a clause not joined by AND is optional
and only raises the score. Anything else is a :class:`QuerySyntaxError` (MusicBrainz answers 400).

Text is compared as MusicBrainz's analyser does it, roughly: case and accents folded, split into
words at anything that is not a letter or digit. A document is a mapping of field → values
(strings or numbers); a phrase matches when its words appear in a row in one value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Clause", "Node", "QuerySyntaxError", "parse", "score", "words"]

Document = Mapping[str, Sequence[str | int | float]]


class QuerySyntaxError(ValueError):
    pass


def words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return [w for w in re.split(r"[\W_]+", folded) if w]


@dataclass
class Term:
    field: str
    text: str  # unescaped
    phrase: bool = False
    prefix: bool = False


@dataclass
class Range:
    field: str
    low: str | None  # None: open (*)
    high: str | None
    inclusive: bool = True


@dataclass
class Clause:
    occur: str  # must | should | must_not
    node: Node


@dataclass
class Node:
    clauses: list[Clause] = field(default_factory=list)
    leaf: Term | Range | None = None  # a single term, phrase or range instead of clauses


_OPERATORS = {"AND": "AND", "&&": "AND", "OR": "OR", "||": "OR", "NOT": "NOT", "!": "NOT"}


class _Parser:
    def __init__(self, text: str, default_field: str):
        self.text = text
        self.i = 0
        self.default_field = default_field

    def error(self, what: str) -> QuerySyntaxError:
        return QuerySyntaxError(f"Cannot parse query at position {self.i}: {what}")

    def skip_space(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def peek_operator(self) -> str | None:
        self.skip_space()
        for token, name in _OPERATORS.items():
            end = self.i + len(token)
            if self.text.startswith(token, self.i) and (
                not token.isalpha() or end >= len(self.text) or self.text[end].isspace() or self.text[end] in '("+-!'
            ):
                return name
        return None

    def take_operator(self) -> str | None:
        name = self.peek_operator()
        if name is not None:
            token = next(t for t, n in _OPERATORS.items() if n == name and self.text.startswith(t, self.i))
            self.i += len(token)
        return name

    def parse_query(self, field_name: str, closing: str | None = None) -> Node:
        node = Node()
        conj_and = False
        while True:
            self.skip_space()
            if self.i >= len(self.text):
                if closing:
                    raise self.error(f"missing {closing!r}")
                break
            if closing and self.text[self.i] == closing:
                self.i += 1
                break
            op = self.take_operator()
            if op in ("AND", "OR"):
                if not node.clauses:
                    raise self.error(f"{op} without a clause before it")
                conj_and = op == "AND"
                if conj_and and node.clauses[-1].occur == "should":
                    node.clauses[-1].occur = "must"
                continue
            occur = "must" if conj_and else "should"
            if op == "NOT":
                occur = "must_not"
            elif self.text[self.i] in "+-":
                occur = "must" if self.text[self.i] == "+" else "must_not"
                self.i += 1
            node.clauses.append(Clause(occur, self.parse_clause(field_name)))
            conj_and = False
        if not node.clauses:
            raise self.error("empty query")
        return node

    def parse_clause(self, field_name: str) -> Node:
        self.skip_space()
        match = re.compile(r"([A-Za-z][\w-]*):").match(self.text, self.i)
        if match:
            field_name = match.group(1).lower()
            self.i = match.end()
        if self.i >= len(self.text):
            raise self.error("a field without a value")
        ch = self.text[self.i]
        if ch == "(":
            self.i += 1
            node = self.parse_query(field_name, closing=")")
        elif ch == '"':
            node = self.leaf(Term(field_name, self.quoted(), phrase=True))
        elif ch in "[{":
            node = self.leaf(self.range(field_name))
        else:
            raw = self.bare()
            prefix = raw.endswith("*") and not raw.endswith("\\*")
            node = self.leaf(Term(field_name, _unescape(raw[:-1] if prefix else raw), prefix=prefix))
        self.modifiers()
        return node

    @staticmethod
    def leaf(item: Term | Range) -> Node:
        return Node(leaf=item)

    def quoted(self) -> str:
        self.i += 1
        out = []
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch == "\\" and self.i + 1 < len(self.text):
                out.append(self.text[self.i + 1])
                self.i += 2
                continue
            if ch == '"':
                self.i += 1
                return "".join(out)
            out.append(ch)
            self.i += 1
        raise self.error("unterminated phrase")

    def bare(self) -> str:
        start = self.i
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch == "\\" and self.i + 1 < len(self.text):
                self.i += 2
                continue
            if ch.isspace() or ch in '()[]{}"^~:' or (ch in "+-!" and self.i == start):
                break
            self.i += 1
        if self.i == start:
            raise self.error(f"unexpected {self.text[self.i]!r}")
        return self.text[start : self.i]

    def range(self, field_name: str) -> Range:
        inclusive = self.text[self.i] == "["
        close = "]" if inclusive else "}"
        end = self.text.find(close, self.i)
        if end < 0:
            raise self.error("unterminated range")
        parts = self.text[self.i + 1 : end].split()
        self.i = end + 1
        if len(parts) != 3 or parts[1] != "TO":
            raise self.error("a range is [low TO high]")
        low, high = (None if p == "*" else _unescape(p) for p in (parts[0], parts[2]))
        return Range(field_name, low, high, inclusive)

    def modifiers(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in "^~":
            self.i += 1
            while self.i < len(self.text) and (self.text[self.i].isdigit() or self.text[self.i] == "."):
                self.i += 1


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse(text: str, default_field: str) -> Node:
    if not text or not text.strip():
        raise QuerySyntaxError("empty query")
    return _Parser(text, default_field).parse_query(default_field)


def _number(value: str | int | float | None) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _leaf_score(item: Term | Range, doc: Document) -> float:
    values = doc.get(item.field, ())
    if isinstance(item, Range):
        for value in values:
            v, lo, hi = _number(value), _number(item.low), _number(item.high)
            if v is None or (item.low is not None and lo is None) or (item.high is not None and hi is None):
                v, lo, hi = str(value), item.low, item.high  # type: ignore[assignment]
            ok_lo = lo is None or (v >= lo if item.inclusive else v > lo)  # type: ignore[operator]
            ok_hi = hi is None or (v <= hi if item.inclusive else v < hi)  # type: ignore[operator]
            if ok_lo and ok_hi:
                return 1.0
        return 0.0
    wanted = words(item.text)
    if not wanted:
        return 0.0
    n = len(wanted)
    best = 0.0
    for value in values:
        have = words(str(value))
        if item.prefix and n == 1:
            hit = any(h.startswith(wanted[0]) for h in have)
        else:  # a phrase, or a term the analyser splits into several words (AC/DC): in a row
            hit = any(have[start : start + n] == wanted for start in range(len(have) - n + 1))
        if hit:
            best = max(best, n * n / max(len(have), n))  # the more of the value matched, the better
    return best


def score(node: Node, doc: Document) -> float:
    """The score of ``doc`` for the query (0.0: it does not match)."""
    if node.leaf is not None:
        return _leaf_score(node.leaf, doc)
    total, any_should, has_must = 0.0, False, False
    for clause in node.clauses:
        s = score(clause.node, doc)
        if clause.occur == "must_not":
            if s > 0:
                return 0.0
        elif clause.occur == "must":
            has_must = True
            if s <= 0:
                return 0.0
            total += s
        elif s > 0:
            any_should = True
            total += s
    if not has_must and not any_should:
        return 0.0
    return total if total > 0 else 0.01  # a match on must_not clauses alone still matches
