"""Flask's JSON: orjson on the hot path, the standard library where orjson would differ, and
strict RFC 8259 either way.

Every request body, response body and response check goes through Flask's JSON provider, and
the standard library is several times slower. orjson reads integers past 64 bits as floats
(10**30 would pass as a whole number and reach SQLite), so a document in which orjson found a
float of 2**63 or more is read again by the standard library, which keeps integers exact for
the range checks.
NaN and Infinity are not JSON, and a lone UTF-16 surrogate ("\\ud800") is not text: this
reader refuses all three as invalid JSON (they would otherwise reach the services as values
that no JSON number or SQLite text can hold). So is a document nested deeper than MAX_DEPTH
(ERRATA E-16): validators and services walk bodies recursively.
"""

from __future__ import annotations

import json
import math
import typing as t

import orjson
from flask.json.provider import DefaultJSONProvider

if t.TYPE_CHECKING:
    from werkzeug.sansio.response import Response

# Dates and dataclasses go through Flask's own `default` (HTTP dates, asdict), as before.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# orjson keeps integers that fit in 64 bits exact and reads wider ones as floats; a float this
# large may have been such an integer, so its document is read again by the exact reader.
_INTEGRAL_RANGE = 2.0**63
MAX_DEPTH = 64


class TooDeep(ValueError):
    """A document nested deeper than MAX_DEPTH."""

    def __init__(self) -> None:
        super().__init__(f"request body is nested deeper than {MAX_DEPTH} levels")


def _not_json(constant: str) -> t.NoReturn:
    raise ValueError(f"{constant} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range for a JSON number")
    return value


def _require_text(value: t.Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")  # UnicodeEncodeError (a ValueError) on a lone surrogate
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _require_depth(value: t.Any) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise TooDeep()
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))


def number_outside(value: t.Any, low: float, high: float, kinds: tuple[type, ...] = (int, float)) -> bool:
    """Whether a parsed JSON value holds a number of one of ``kinds`` outside [low, high]
    (booleans are not numbers). One pass, no generator: it runs on every body read."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind in kinds:
            if not low <= item <= high:
                return True
        elif kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
    return False


# The floats strictly between -2**63 and 2**63, as closed bounds.
_INTEGRAL_FLOATS = (math.nextafter(-_INTEGRAL_RANGE, 0.0), math.nextafter(_INTEGRAL_RANGE, 0.0))


def _may_hide_a_wide_integer(value: t.Any) -> bool:
    """Whether orjson's reading holds a float at or beyond 2**63 (a scan of the parsed value:
    several times cheaper than a search of the text, which a large response body made slow)."""
    return number_outside(value, *_INTEGRAL_FLOATS, kinds=(float,))


def _check_depth(data: str | bytes, value: t.Any) -> t.Any:
    """Walk the document only when it has more brackets than the limit (strings included)."""
    opened = data.count(b"[") + data.count(b"{") if isinstance(data, bytes) else data.count("[") + data.count("{")
    if opened > MAX_DEPTH:
        _require_depth(value)
    return value


def strict_loads(data: str | bytes) -> t.Any:
    """The standard library's reader, without NaN, Infinity, lone surrogates or deep nesting."""
    try:
        value = json.loads(data, parse_constant=_not_json, parse_float=_finite)
    except RecursionError:
        raise TooDeep() from None
    _require_text(value)
    return _check_depth(data, value)


def encode(obj: t.Any) -> bytes:
    """``obj`` as compact JSON in UTF-8, keys in their order: the encoding of every answer."""
    try:
        return orjson.dumps(obj, default=DefaultJSONProvider.default, option=_OPTIONS)
    except TypeError:
        return json.dumps(obj, default=DefaultJSONProvider.default, ensure_ascii=True, separators=(",", ":")).encode()


def encode_text(obj: t.Any) -> str:
    """``encode(obj)`` as text: JSON kept in a database column, encoded as the answers are."""
    return encode(obj).decode()


def loads(s: str | bytes) -> t.Any:
    """A JSON document as every request body and response check reads it (ValueError if it is
    not one): orjson, or the strict standard library reader where orjson would differ."""
    data = s.encode() if isinstance(s, str) else s
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return strict_loads(s)  # not UTF-8, say: the standard library decides
    if _may_hide_a_wide_integer(value):
        return strict_loads(s)
    return _check_depth(data, value)


class OrjsonProvider(DefaultJSONProvider):
    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        if kwargs:  # an explicit formatting request (indent, sort_keys...): the standard library
            return super().dumps(obj, **kwargs)
        return self._encode(obj).decode()

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        if kwargs:
            return json.loads(s, **kwargs)
        return loads(s)

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        if self._app.debug or self.sort_keys:
            return super().response(obj)
        # The provider's app is typed as the sans-IO App, whose response class takes no body;
        # at run time it is a flask.Flask, whose response class does.
        return self._app.response_class(self._encode(obj) + b"\n", mimetype=self.mimetype)  # type: ignore[arg-type]

    def _encode(self, obj: t.Any) -> bytes:
        if self.sort_keys:
            return super().dumps(obj).encode()
        return encode(obj)


def sorted_compact(obj: t.Any) -> bytes:
    """``obj`` as compact JSON with sorted keys: one text per document, for fingerprints."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
