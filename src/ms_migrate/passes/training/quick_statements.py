"""The libcst tree of a statement the training pass writes, built without the parser.

libcst's parser costs about 50 microseconds for `optimizer(grads)` (each node it makes
is a Python object made from Rust); building the same nodes here costs a fifth of
that. The statements emit writes are few shapes, always spelt one way: calls on
dotted names (`grad_fn = mindspore.value_and_grad(forward_fn, None,
optimizer.parameters, has_aux=True)`), tuples of names on either side of ` = `,
`return a, b`, and `def forward_fn(x, y):` + `pass`. Those are built here, node for
node as the parser builds them (same types, same whitespace, same tuples); any other
code (an operator, a literal, a line break, other spacing) is parsed as before.
"""
from __future__ import annotations

import keyword
import re
from typing import List, Optional, Tuple

import libcst as cst

from ...core.quick_libcst import parse_statement, unchecked

_DEFAULT = cst.MaybeSentinel.DEFAULT
# a name, or one of the marks the shapes above are spelt with (spaces only in `, ` and
# ` = `; `=` alone is a keyword argument's)
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|, | = |\(|\)|\.|=")
# words that are no name (`None`, `True`, `False` are names to libcst)
_KEYWORDS = frozenset(keyword.kwlist) - {"None", "True", "False"}
_DEF = re.compile(r"def ([A-Za-z_][A-Za-z0-9_]*)\(((?:[A-Za-z_][A-Za-z0-9_]*(?:, )?)*)\):\n"
                  r"    pass\n")


def statement(code: str) -> cst.BaseStatement:
    """`parse_statement(code)`, `code` a statement and its line break."""
    with unchecked():  # (its nodes are the parser's: checking them is a third of the cost)
        built = _Builder(code).statement()
    return built if built is not None else parse_statement(code)


class _Unknown(Exception):
    """Code outside the shapes built here."""


def _ws(value: str = "") -> cst.SimpleWhitespace:
    return cst.SimpleWhitespace(value)


def _comma() -> cst.Comma:
    return cst.Comma(whitespace_before=_ws(), whitespace_after=_ws(" "))


def _name(value: str) -> cst.Name:
    return cst.Name(value=value, lpar=(), rpar=())


def _line(small: cst.BaseSmallStatement) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(
        body=(small,), leading_lines=(),
        trailing_whitespace=cst.TrailingWhitespace(whitespace=_ws(), comment=None,
                                                   newline=cst.Newline(value=None)))


class _Builder:
    def __init__(self, code: str):
        self.code = code
        self.tokens: List[str] = []
        self.at = 0

    def statement(self) -> Optional[cst.BaseStatement]:
        code = self.code
        if code.startswith("def "):
            return self._function(code)
        if not code.endswith("\n") or "\n" in code[:-1]:
            return None
        text = code[7:-1] if code.startswith("return ") else code[:-1]
        tokens = _TOKEN.findall(text)
        if "".join(tokens) != text:
            return None  # something else between the tokens (an operator, other spacing)
        self.tokens = tokens
        try:
            small = self._small()
        except _Unknown:
            return None
        if self.at != len(self.tokens):
            return None
        return _line(small)

    # --- tokens -------------------------------------------------------------------
    def _peek(self) -> Optional[str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _take(self, token: str) -> bool:
        if self._peek() == token:
            self.at += 1
            return True
        return False

    def _expect(self, token: str) -> None:
        if not self._take(token):
            raise _Unknown

    def _word(self) -> str:
        token = self._peek()
        if token is None or not (token[0].isalpha() or token[0] == "_") \
                or token in _KEYWORDS:
            raise _Unknown
        self.at += 1
        return token

    # --- statements -----------------------------------------------------------------
    def _small(self) -> cst.BaseSmallStatement:
        if self.code.startswith("return "):
            return cst.Return(value=self._list(), whitespace_after_return=_ws(" "),
                              semicolon=_DEFAULT)
        first = self._list()
        if self._take(" = "):
            target = cst.AssignTarget(target=first, whitespace_before_equal=_ws(" "),
                                      whitespace_after_equal=_ws(" "))
            return cst.Assign(targets=(target,), value=self._expression(), semicolon=_DEFAULT)
        return cst.Expr(value=first, semicolon=_DEFAULT)

    def _function(self, code: str) -> Optional[cst.FunctionDef]:
        """`def name(a, b):` with `pass` in it: forward_def's template."""
        match = _DEF.fullmatch(code)
        if match is None:
            return None
        names = match.group(2).split(", ") if match.group(2) else []
        if any(n in _KEYWORDS for n in names) or match.group(1) in _KEYWORDS \
                or match.group(2).endswith(", "):
            return None
        params = tuple(cst.Param(name=_name(n), annotation=None, equal=_DEFAULT, default=None,
                                 comma=_comma() if i < len(names) - 1 else _DEFAULT,
                                 star="", whitespace_after_star=_ws(),
                                 whitespace_after_param=_ws())
                       for i, n in enumerate(names))
        body = cst.IndentedBlock(
            body=(_line(cst.Pass(semicolon=_DEFAULT)),),
            header=cst.TrailingWhitespace(whitespace=_ws(), comment=None,
                                          newline=cst.Newline(value=None)),
            indent=None, footer=())
        return cst.FunctionDef(
            name=_name(match.group(1)),
            params=cst.Parameters(params=params, star_arg=_DEFAULT, kwonly_params=(),
                                  star_kwarg=None, posonly_params=(), posonly_ind=_DEFAULT),
            body=body, decorators=(), returns=None, asynchronous=None, leading_lines=(),
            lines_after_decorators=(), whitespace_after_def=_ws(" "),
            whitespace_after_name=_ws(), whitespace_before_params=_ws(),
            whitespace_before_colon=_ws())

    # --- expressions ----------------------------------------------------------------
    def _list(self) -> cst.BaseExpression:
        """One expression, or a tuple of them without parentheses."""
        first = self._expression()
        if self._peek() != ", ":
            return first
        return cst.Tuple(elements=self._elements(first), lpar=(), rpar=())

    def _elements(self, first: cst.BaseExpression) -> Tuple[cst.Element, ...]:
        values = [first]
        while self._take(", "):
            values.append(self._expression())
        last = len(values) - 1
        return tuple(cst.Element(value=v, comma=_comma() if i < last else _DEFAULT)
                     for i, v in enumerate(values))

    def _expression(self) -> cst.BaseExpression:
        if self._take("("):  # a tuple in parentheses: `(loss, out), grads = ...`
            first = self._expression()
            if self._peek() != ", ":
                raise _Unknown  # parentheses around one expression
            elements = self._elements(first)
            self._expect(")")
            return cst.Tuple(elements=elements,
                             lpar=(cst.LeftParen(whitespace_after=_ws()),),
                             rpar=(cst.RightParen(whitespace_before=_ws()),))
        node: cst.BaseExpression = _name(self._word())
        while True:
            if self._take("."):
                node = cst.Attribute(value=node, attr=_name(self._word()),
                                     dot=cst.Dot(whitespace_before=_ws(),
                                                 whitespace_after=_ws()),
                                     lpar=(), rpar=())
            elif self._take("("):
                node = cst.Call(func=node, args=self._arguments(), lpar=(), rpar=(),
                                whitespace_after_func=_ws(), whitespace_before_args=_ws())
            else:
                return node

    def _arguments(self) -> Tuple[cst.Arg, ...]:
        if self._take(")"):
            return ()
        found: List[Tuple[Optional[str], cst.BaseExpression]] = []
        while True:
            keyword_ = None
            if self.at + 1 < len(self.tokens) and self.tokens[self.at + 1] == "=":
                keyword_ = self._word()
                self.at += 1
            found.append((keyword_, self._expression()))
            if self._take(")"):
                break
            self._expect(", ")
            if self._peek() == ")":
                raise _Unknown  # a trailing comma
        last = len(found) - 1
        return tuple(
            cst.Arg(value=value, keyword=None if kw is None else _name(kw),
                    equal=_DEFAULT if kw is None else cst.AssignEqual(
                        whitespace_before=_ws(), whitespace_after=_ws()),
                    comma=_comma() if i < last else _DEFAULT, star="",
                    whitespace_after_star=_ws(), whitespace_after_arg=_ws())
            for i, (kw, value) in enumerate(found))
