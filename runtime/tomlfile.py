"""TOML for the Cloud Native Buildpack files (layer metadata, launch.toml, build plans).

Reading uses the standard library's tomllib when the stack's Python has it (3.11+) and a small
parser of our own otherwise (the stack may be Python 3.10). The parser covers what the lifecycle
and our own writer produce: tables, arrays of tables, dotted and quoted keys, basic and literal
strings (single and multi-line), integers, floats, booleans, arrays and inline tables. It does
not read dates and times, which no file we read contains. The writer emits the same subset.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

try:  # Python 3.11+
    import tomllib as _tomllib
except ImportError:  # pragma: no cover - exercised on Python 3.10 stacks
    _tomllib = None


class TOMLError(ValueError):
    pass


def loads(text: str) -> dict[str, Any]:
    if _tomllib is not None:
        try:
            return _tomllib.loads(text)
        except _tomllib.TOMLDecodeError as exc:
            raise TOMLError(str(exc)) from None
    return parse(text)


def load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return loads(handle.read())


# --- writing -----------------------------------------------------------------------------

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if BARE_KEY.match(name) else _string(name)


def _string(value: str) -> str:
    # JSON's escapes (\" \\ \n \t \uXXXX ...) are all valid in a TOML basic string.
    return json.dumps(value, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise TOMLError(f"cannot write {value!r}")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TOMLError(f"cannot write a {type(value).__name__} as TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, dict) for v in value)


def _emit(table: dict[str, Any], path: list[str], lines: list[str]) -> None:
    for name, value in table.items():
        if value is None:
            continue
        if not isinstance(value, dict) and not _is_table_array(value):
            lines.append(f"{_key(name)} = {_value(value)}")
    for name, value in table.items():
        header = ".".join(_key(p) for p in [*path, name])
        if isinstance(value, dict):
            lines.extend(["", f"[{header}]"])
            _emit(value, [*path, name], lines)
        elif _is_table_array(value):
            for item in value:
                lines.extend(["", f"[[{header}]]"])
                _emit(item, [*path, name], lines)


def dumps(data: dict[str, Any]) -> str:
    """TOML text for a dict of tables; None values are left out."""
    lines: list[str] = []
    _emit(data, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"


# --- reading without tomllib ---------------------------------------------------------------

_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}
_NUMBER = re.compile(r"[+-]?(?:0x[0-9A-Fa-f_]+|0o[0-7_]+|0b[01_]+|inf|nan|[0-9_]+(?:\.[0-9_]+)?(?:[eE][+-]?[0-9_]+)?)")


class _Parser:
    def __init__(self, text: str):
        self.text = text.replace("\r\n", "\n")
        self.pos = 0

    # low level
    def error(self, message: str) -> TOMLError:
        line = self.text.count("\n", 0, self.pos) + 1
        return TOMLError(f"{message} (line {line})")

    def peek(self, count: int = 1) -> str:
        return self.text[self.pos : self.pos + count]

    def skip_space(self) -> None:
        while self.peek() in (" ", "\t"):
            self.pos += 1

    def skip_comment(self) -> None:
        if self.peek() == "#":
            end = self.text.find("\n", self.pos)
            self.pos = len(self.text) if end < 0 else end

    def skip_blank(self) -> None:
        """Whitespace, newlines and comments (inside arrays)."""
        while True:
            self.skip_space()
            self.skip_comment()
            if self.peek() == "\n":
                self.pos += 1
            else:
                return

    def end_of_line(self) -> None:
        self.skip_space()
        self.skip_comment()
        if self.pos < len(self.text):
            if self.peek() != "\n":
                raise self.error("expected the end of the line")
            self.pos += 1

    # keys
    def key(self) -> list[str]:
        parts = []
        while True:
            self.skip_space()
            if self.peek() == '"':
                parts.append(self.basic_string())
            elif self.peek() == "'":
                parts.append(self.literal_string())
            else:
                match = re.compile(r"[A-Za-z0-9_-]+").match(self.text, self.pos)
                if not match:
                    raise self.error("expected a key")
                parts.append(match.group())
                self.pos = match.end()
            self.skip_space()
            if self.peek() != ".":
                return parts
            self.pos += 1

    # values
    def basic_string(self) -> str:
        multi = self.peek(3) == '"""'
        self.pos += 3 if multi else 1
        if multi and self.peek() == "\n":
            self.pos += 1
        out = []
        while True:
            if self.pos >= len(self.text):
                raise self.error("unterminated string")
            char = self.text[self.pos]
            if multi and self.peek(3) == '"""':
                self.pos += 3
                while self.peek() == '"':  # up to two quotes may end the content
                    out.append('"')
                    self.pos += 1
                return "".join(out)
            if not multi and char == '"':
                self.pos += 1
                return "".join(out)
            if char == "\n" and not multi:
                raise self.error("newline in a string")
            if char == "\\":
                nxt = self.text[self.pos + 1 : self.pos + 2]
                if nxt in _ESCAPES:
                    out.append(_ESCAPES[nxt])
                    self.pos += 2
                elif nxt in ("u", "U"):
                    width = 4 if nxt == "u" else 8
                    digits = self.text[self.pos + 2 : self.pos + 2 + width]
                    try:
                        out.append(chr(int(digits, 16)))
                    except ValueError:
                        raise self.error("invalid unicode escape") from None
                    self.pos += 2 + width
                elif multi and nxt in (" ", "\t", "\n"):  # line-ending backslash
                    self.pos += 1
                    while self.peek() in (" ", "\t", "\n"):
                        self.pos += 1
                else:
                    raise self.error("invalid escape")
                continue
            out.append(char)
            self.pos += 1

    def literal_string(self) -> str:
        if self.peek(3) == "'''":
            self.pos += 3
            if self.peek() == "\n":
                self.pos += 1
            end = self.text.find("'''", self.pos)
            if end < 0:
                raise self.error("unterminated string")
            while self.text[end + 3 : end + 4] == "'":
                end += 1
            value = self.text[self.pos : end]
            self.pos = end + 3
            return value
        self.pos += 1
        end = self.text.find("'", self.pos)
        if end < 0 or "\n" in self.text[self.pos : end]:
            raise self.error("unterminated string")
        value = self.text[self.pos : end]
        self.pos = end + 1
        return value

    def value(self) -> Any:
        self.skip_space()
        char = self.peek()
        if char == '"':
            return self.basic_string()
        if char == "'":
            return self.literal_string()
        if char == "[":
            self.pos += 1
            items = []
            while True:
                self.skip_blank()
                if self.peek() == "]":
                    self.pos += 1
                    return items
                items.append(self.value())
                self.skip_blank()
                if self.peek() == ",":
                    self.pos += 1
                elif self.peek() != "]":
                    raise self.error("expected ',' or ']' in an array")
        if char == "{":
            self.pos += 1
            table: dict[str, Any] = {}
            self.skip_space()
            if self.peek() == "}":
                self.pos += 1
                return table
            while True:
                keys = self.key()
                if self.peek() != "=":
                    raise self.error("expected '='")
                self.pos += 1
                self.assign(table, keys, self.value())
                self.skip_space()
                if self.peek() == "}":
                    self.pos += 1
                    return table
                if self.peek() != ",":
                    raise self.error("expected ',' or '}' in an inline table")
                self.pos += 1
        for word, result in (("true", True), ("false", False)):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return result
        match = _NUMBER.match(self.text, self.pos)
        if not match or not match.group():
            raise self.error("expected a value")
        self.pos = match.end()
        return _number(match.group())

    # structure
    def assign(self, table: dict[str, Any], keys: list[str], value: Any) -> None:
        for part in keys[:-1]:
            table = table.setdefault(part, {})
            if not isinstance(table, dict):
                raise self.error(f"key {part!r} is not a table")
        if keys[-1] in table:
            raise self.error(f"duplicate key {keys[-1]!r}")
        table[keys[-1]] = value

    def parse(self) -> dict[str, Any]:
        root: dict[str, Any] = {}
        current = root
        while True:
            self.skip_blank()
            if self.pos >= len(self.text):
                return root
            if self.peek(2) == "[[":
                self.pos += 2
                keys = self.key()
                if self.peek(2) != "]]":
                    raise self.error("expected ']]'")
                self.pos += 2
                parent = self._table(root, keys[:-1])
                array = parent.setdefault(keys[-1], [])
                if not isinstance(array, list):
                    raise self.error(f"{'.'.join(keys)} is not an array of tables")
                current = {}
                array.append(current)
            elif self.peek() == "[":
                self.pos += 1
                keys = self.key()
                if self.peek() != "]":
                    raise self.error("expected ']'")
                self.pos += 1
                current = self._table(root, keys)
            else:
                keys = self.key()
                if self.peek() != "=":
                    raise self.error("expected '='")
                self.pos += 1
                self.assign(current, keys, self.value())
            self.end_of_line()

    def _table(self, root: dict[str, Any], keys: list[str]) -> dict[str, Any]:
        table = root
        for part in keys:
            child = table.setdefault(part, {})
            if isinstance(child, list):  # [a.b] after [[a]] extends the last element
                child = child[-1]
            if not isinstance(child, dict):
                raise self.error(f"key {part!r} is not a table")
            table = child
        return table


def _number(text: str) -> int | float:
    clean = text.replace("_", "")
    sign = -1 if clean.startswith("-") else 1
    body = clean.lstrip("+-")
    if body in ("inf", "nan"):
        return sign * float(body)
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if body.startswith(prefix):
            return int(body[2:], base)
    if any(c in body for c in ".eE"):
        return sign * float(body)
    return sign * int(body)


def parse(text: str) -> dict[str, Any]:
    """The fallback parser (used when tomllib is missing)."""
    return _Parser(text).parse()
