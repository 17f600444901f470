"""Source filters of a mixture: a small, safe expression language compiled to polars expressions.

A mixture selects rows of a curated output with one line, e.g. ``quality_bucket >= 15``,
``lang == "zh" and domain != "ads"`` or ``task in ["wiki_style", "qa"]``. The text is parsed here (never
``eval``'d), so a filter can only compare columns with literals; the parse fails early, at the position of
the first token it cannot use, and the columns it names are checked against each source before any work.

Grammar (keywords are case-insensitive)::

    expr    := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := value (("==" | "!=" | "<" | "<=" | ">" | ">=") value)?
             | value ["not"] "in" "[" literal ("," literal)* "]"
             | value "is" ["not"] "null"
    value   := column | literal | "(" expr ")"
    column  := identifier | `any name in backquotes`
    literal := number | "string" | 'string' | true | false | null
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import polars as pl

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<quoted>`[^`]+`)
      | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "is", "true", "false", "null"}
_COMPARE = {"==", "!=", "<", "<=", ">", ">="}


class FilterSyntaxError(ValueError):
    """A filter that cannot be parsed; the message shows the text and the position."""


@dataclass(frozen=True)
class _Tok:
    kind: str  # number | string | name | keyword | op | end
    value: object
    pos: int


@dataclass(frozen=True)
class Filter:
    """A parsed filter: the polars expression and the columns it reads."""

    text: str
    expr: pl.Expr
    columns: frozenset[str]

    def mask(self, frame: pl.DataFrame) -> np.ndarray:
        """The rows of ``frame`` the filter keeps (a null result drops the row), as a bool array."""
        keep = frame.with_columns(self.expr.fill_null(False).alias("__keep__")).get_column("__keep__")
        if keep.dtype != pl.Boolean:
            raise FilterSyntaxError(f"{self.text!r} gives {keep.dtype} values, not true/false; compare, e.g. `x > 0`")
        return keep.to_numpy()


def _tokens(text: str) -> list[_Tok]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            start = len(text) - len(text[pos:].lstrip())
            raise FilterSyntaxError(f"cannot read {text[start:start + 12]!r} at column {start + 1} of {text!r}")
        kind = m.lastgroup
        raw = m.group(kind)
        start = m.start(kind)
        if kind == "number":
            out.append(_Tok("number", float(raw) if any(c in raw for c in ".eE") else int(raw), start))
        elif kind == "string":
            out.append(_Tok("string", re.sub(r"\\(.)", r"\1", raw[1:-1]), start))
        elif kind == "quoted":
            out.append(_Tok("name", raw[1:-1], start))
        elif kind == "name" and raw.lower() in _KEYWORDS:
            out.append(_Tok("keyword", raw.lower(), start))
        else:
            out.append(_Tok(kind, raw, start))
        pos = m.end()
    out.append(_Tok("end", None, len(text)))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.columns: set[str] = set()

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def accept(self, kind: str, value: object) -> bool:
        tok = self.peek()
        if tok.kind == kind and tok.value == value:
            self.i += 1
            return True
        return False

    def fail(self, want: str) -> FilterSyntaxError:
        tok = self.peek()
        got = "the end" if tok.kind == "end" else repr(self.text[tok.pos:].split()[0])
        return FilterSyntaxError(f"expected {want} but found {got} at column {tok.pos + 1} of {self.text!r}")

    def expect(self, kind: str, value: object, want: str) -> None:
        if not self.accept(kind, value):
            raise self.fail(want)

    def parse(self) -> pl.Expr:
        expr = self.or_()
        if self.peek().kind != "end":
            raise self.fail("`and`, `or` or the end")
        return expr

    def or_(self) -> pl.Expr:
        expr = self.and_()
        while self.accept("keyword", "or"):
            expr = expr | self.and_()
        return expr

    def and_(self) -> pl.Expr:
        expr = self.not_()
        while self.accept("keyword", "and"):
            expr = expr & self.not_()
        return expr

    def not_(self) -> pl.Expr:
        if self.accept("keyword", "not"):
            return ~self.not_()
        return self.compare()

    def compare(self) -> pl.Expr:
        left = self.value()
        tok = self.peek()
        if tok.kind == "op" and tok.value in _COMPARE:
            self.take()
            right = self.value()
            return {
                "==": left.__eq__, "!=": left.__ne__, "<": left.__lt__,
                "<=": left.__le__, ">": left.__gt__, ">=": left.__ge__,
            }[tok.value](right)
        if self.accept("keyword", "is"):
            negate = self.accept("keyword", "not")
            self.expect("keyword", "null", "`null` after `is`")
            return left.is_not_null() if negate else left.is_null()
        negate = False
        if tok.kind == "keyword" and tok.value == "not" and self.toks[self.i + 1].value == "in":
            self.take()
            negate = True
        if self.accept("keyword", "in"):
            expr = left.is_in(self.literal_list())
            return ~expr if negate else expr
        return left

    def literal_list(self) -> list[object]:
        self.expect("op", "[", "`[` to start a list")
        items = [self.literal()]
        while self.accept("op", ","):
            items.append(self.literal())
        self.expect("op", "]", "`,` or `]`")
        return items

    def literal(self) -> object:
        tok = self.peek()
        if tok.kind in ("number", "string"):
            self.take()
            return tok.value
        if tok.kind == "keyword" and tok.value in ("true", "false", "null"):
            self.take()
            return {"true": True, "false": False, "null": None}[tok.value]
        raise self.fail("a number, a quoted string, true, false or null")

    def value(self) -> pl.Expr:
        tok = self.peek()
        if self.accept("op", "("):
            expr = self.or_()
            self.expect("op", ")", "`)`")
            return expr
        if tok.kind == "name":
            self.take()
            self.columns.add(str(tok.value))
            return pl.col(str(tok.value))
        return pl.lit(self.literal())


def parse_filter(text: str) -> Filter:
    """Parse a filter; raises :class:`FilterSyntaxError` naming the column of the first bad token."""
    if not text.strip():
        raise FilterSyntaxError("the filter is empty; leave it out to keep every row")
    parser = _Parser(text)
    expr = parser.parse()
    return Filter(text=text, expr=expr, columns=frozenset(parser.columns))
