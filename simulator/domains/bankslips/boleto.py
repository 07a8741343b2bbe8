"""FEBRABAN boleto codec: parse, check, convert, decode and generate bank and dealership slips.

Two families share the 44-digit bar code:

* bank slips ("boleto de cobranca"), first digit not 8: 47-digit digitable line,
  three mod-10 field check digits plus a mod-11 general check digit;
* dealership slips ("arrecadacao"/"concessionaria"), first digit 8: 48-digit
  digitable line made of four 11-digit blocks, each with its own check digit,
  plus a general check digit at bar-code position 4; the modulus (10 or 11)
  is chosen by the value id at position 3.

Everything here is pure: no I/O, no clock.  Functions that need "today"
(to resolve the due-date factor after the 2025 rollover) take it as an argument.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

__all__ = [
    "BANK",
    "DEALERSHIP",
    "InvalidSlip",
    "Slip",
    "bar_code_to_line",
    "due_date_candidates",
    "due_date_for_factor",
    "factor_for_date",
    "generate_bank_slip",
    "generate_dealership_slip",
    "line_to_bar_code",
    "mod10",
    "mod11_bank",
    "mod11_dealership",
    "normalize",
    "parse",
    "parse_bar_code",
    "parse_digitable_line",
]

BANK = "bank"
DEALERSHIP = "dealership"

BAR_CODE_LENGTH = 44
BANK_LINE_LENGTH = 47
DEALERSHIP_LINE_LENGTH = 48

# Due-date factor (BACEN Carta-Circular 2.926; FEBRABAN "Manual Operacional do
# Fator de Vencimento"): days since 1997-10-07, first issued value 1000
# (2000-07-03), limit 9999 (2025-02-21).  On 2025-02-22 the count restarts at
# 1000 and keeps going, so every factor recurs every 9000 days.
_FACTOR_BASE = date(1997, 10, 7)
_FIRST_ISSUED_DATE = date(2000, 7, 3)
_ROLLOVER_DATE = date(2025, 2, 22)
_FACTOR_MIN = 1000
_FACTOR_MAX = 9999
_FACTOR_CYCLE_DAYS = _FACTOR_MAX - _FACTOR_MIN + 1  # 9000
# Upper end of the window searched for candidate due dates.
WINDOW_END = date(2100, 12, 31)

_MASK_CHARACTERS = frozenset(" .-\t\r\n")
_DIGITS = frozenset("0123456789")

_BANK_AMOUNT_MAX = Decimal("99999999.99")  # 10 digits, 2 decimals
_DEALERSHIP_AMOUNT_MAX = Decimal("999999999.99")  # 11 digits, 2 decimals

_MOD10_VALUE_IDS = ("6", "7")
_MOD11_VALUE_IDS = ("8", "9")
_AMOUNT_VALUE_IDS = ("6", "8")
# FEBRABAN segments: 1-7 and 9 (9 is bank-exclusive); 8 is undefined and 0 unused.
_SEGMENTS = frozenset("12345679")

# Deterministic mixing constants for default free fields (Knuth's MMIX LCG).
_LCG_MULTIPLIER = 6364136223846793005
_LCG_INCREMENT = 1442695040888963407


class InvalidSlip(ValueError):
    """A slip that is not a valid FEBRABAN bar code or digitable line."""

    def __init__(self, reason: str, field: str = "bar_code"):
        super().__init__(reason)
        self.reason = reason
        self.field = field

    def __reduce__(self) -> tuple[type[InvalidSlip], tuple[str, str]]:
        return (type(self), (self.reason, self.field))


@dataclass(frozen=True)
class Slip:
    """A decoded, fully checked slip."""

    kind: str
    bar_code: str
    digitable_line: str
    amount: Decimal | None
    currency: str | None
    bank_code: str | None
    segment: str | None
    value_id: str | None
    due_factor: int | None
    due_date: date | None
    free_field: str


# --------------------------------------------------------------------------- moduli


def _require_digits(digits: str) -> None:
    if not isinstance(digits, str) or not digits or not set(digits) <= _DIGITS:
        raise ValueError(f"expected a non-empty string of ASCII digits, got {digits!r}")


def _weighted_sum_mod11(digits: str) -> int:
    total = 0
    weight = 2
    for ch in reversed(digits):
        total += int(ch) * weight
        weight = 2 if weight == 9 else weight + 1
    return total


def mod10(digits: str) -> int:
    """Mod-10 check digit: weights 2,1,2,1... from the right, products' digits summed.

    dv = (10 - sum % 10) % 10 (FEBRABAN, used by bank line fields and dealership
    value ids 6/7).
    """
    _require_digits(digits)
    total = 0
    weight = 2
    for ch in reversed(digits):
        product = int(ch) * weight
        total += product // 10 + product % 10
        weight = 3 - weight
    return (10 - total % 10) % 10


def mod11_bank(digits: str) -> int:
    """Bank general check digit (DAC) over the 43 bar-code digits without position 5.

    Weights 2..9 cycling from the right; dv = 11 - sum % 11, and 0, 10 or 11 become 1.
    """
    _require_digits(digits)
    dv = 11 - _weighted_sum_mod11(digits) % 11
    return 1 if dv in (0, 10, 11) else dv


def mod11_dealership(digits: str) -> int:
    """Dealership (arrecadacao) mod-11 check digit, value ids 8/9.

    Weights 2..9 cycling from the right; r = sum % 11; r 0 or 1 -> 0; r 10 -> 1;
    otherwise 11 - r.  (Unlike the bank variant, which maps 0/10/11 to 1.)
    """
    _require_digits(digits)
    remainder = _weighted_sum_mod11(digits) % 11
    if remainder in (0, 1):
        return 0
    if remainder == 10:
        # Same as 11 - r; kept because FEBRABAN spells the case out.
        return 1
    return 11 - remainder


# --------------------------------------------------------------------------- due-date factor


def factor_for_date(d: date) -> int:
    """Due-date factor for `d`, using the base in force on that date.

    Before 2025-02-22: days since 1997-10-07.  From 2025-02-22: 1000 + days since
    2025-02-22, wrapping back to 1000 every 9000 days.  Dates before 2000-07-03
    (factor 1000 under the first base) have no issuable factor: ValueError.
    """
    if d < _FIRST_ISSUED_DATE:
        raise ValueError(f"no due-date factor before {_FIRST_ISSUED_DATE.isoformat()}, got {d.isoformat()}")
    if d < _ROLLOVER_DATE:
        return (d - _FACTOR_BASE).days
    return _FACTOR_MIN + (d - _ROLLOVER_DATE).days % _FACTOR_CYCLE_DAYS


def _check_factor(factor: int) -> None:
    if isinstance(factor, bool) or not isinstance(factor, int):
        raise ValueError(f"factor must be an int, got {factor!r}")
    if not _FACTOR_MIN <= factor <= _FACTOR_MAX:
        raise ValueError(f"due-date factor must be 1000..9999, got {factor}")


def due_date_candidates(factor: int) -> list[date]:
    """Every date from 2000-07-03 to 2100-12-31 whose due-date factor is `factor`, ascending.

    Candidates are 9000 days apart: the first under the 1997-10-07 base, the
    others after each rollover (2025-02-22, 2049-10-14, ...).  Factors outside
    1000..9999 (0 = no due date, 1-999 never issued): ValueError.
    """
    _check_factor(factor)
    candidates = []
    candidate = _FACTOR_BASE + timedelta(days=factor)
    while candidate <= WINDOW_END:
        candidates.append(candidate)
        candidate += timedelta(days=_FACTOR_CYCLE_DAYS)
    return candidates


def due_date_for_factor(factor: int, today: date) -> date:
    """The candidate due date for `factor` nearest to `today` (a tie goes to the later one)."""
    return min(
        due_date_candidates(factor),
        key=lambda candidate: (abs((candidate - today).days), -candidate.toordinal()),
    )


# --------------------------------------------------------------------------- text handling


def _normalize(text: str, field: str) -> str:
    if not isinstance(text, str):
        raise InvalidSlip(f"expected a string of digits, got {type(text).__name__}", field)
    digits = []
    for position, ch in enumerate(text, start=1):
        if ch in _DIGITS:
            digits.append(ch)
        elif ch not in _MASK_CHARACTERS:
            raise InvalidSlip(
                f"character {ch!r} at position {position} is not a digit or a mask character (space, '.', '-')",
                field,
            )
    return "".join(digits)


def normalize(text: str) -> str:
    """Strip mask characters (spaces, dots, dashes) and return the digits.

    Any other character raises InvalidSlip naming the character and its 1-based
    position in `text`.
    """
    return _normalize(text, "bar_code")


# --------------------------------------------------------------------------- layout


def _bank_payload(bar_code: str) -> str:
    # Bank DAC covers the 43 digits without position 5 (the DAC itself).
    return bar_code[:4] + bar_code[5:]


def _dealership_payload(bar_code: str) -> str:
    # Dealership general DV sits at position 4 and covers the other 43 digits.
    return bar_code[:3] + bar_code[4:]


def _dealership_module(value_id: str, field: str) -> tuple[Callable[[str], int], str]:
    if value_id in _MOD10_VALUE_IDS:
        return mod10, "mod 10"
    if value_id in _MOD11_VALUE_IDS:
        return mod11_dealership, "mod 11"
    raise InvalidSlip(f"dealership value id (bar code position 3) is {value_id}, expected 6, 7, 8 or 9", field)


def _check_bank_bar_code(bar_code: str, field: str) -> None:
    expected = mod11_bank(_bank_payload(bar_code))
    if int(bar_code[4]) != expected:
        raise InvalidSlip(
            f"general check digit (bar code position 5) is {bar_code[4]}, expected {expected} (mod 11)",
            field,
        )


def _check_dealership_bar_code(bar_code: str, field: str) -> None:
    module, name = _dealership_module(bar_code[2], field)
    expected = module(_dealership_payload(bar_code))
    if int(bar_code[3]) != expected:
        raise InvalidSlip(
            f"general check digit (bar code position 4) is {bar_code[3]}, expected {expected} ({name})",
            field,
        )


def _check_bar_code(bar_code: str, field: str) -> None:
    if bar_code[0] == "8":
        _check_dealership_bar_code(bar_code, field)
    else:
        _check_bank_bar_code(bar_code, field)


def _bank_line_fields(bar_code: str) -> tuple[str, str, str]:
    return (
        bar_code[0:4] + bar_code[19:24],
        bar_code[24:34],
        bar_code[34:44],
    )


def _bank_bar_code_to_line(bar_code: str) -> str:
    fields = _bank_line_fields(bar_code)
    return "".join(f + str(mod10(f)) for f in fields) + bar_code[4] + bar_code[5:19]


def _dealership_bar_code_to_line(bar_code: str) -> str:
    module, _ = _dealership_module(bar_code[2], "bar_code")
    blocks = [bar_code[i : i + 11] for i in range(0, BAR_CODE_LENGTH, 11)]
    return "".join(block + str(module(block)) for block in blocks)


def _bank_line_to_bar_code(line: str, field: str) -> str:
    if line[0] == "8":
        # A bar code starting with 8 is a dealership slip, so no bank line can.
        raise InvalidSlip("a 47-digit bank digitable line cannot start with 8", field)
    # Line layout (FEBRABAN): AAABC CCCCX / DDDDDDDDDDY / EEEEEEEEEEZ / K / UUUU VVVVVVVVVV.
    for number, (start, end) in enumerate(((0, 9), (10, 20), (21, 31)), start=1):
        data, given = line[start:end], int(line[end])
        expected = mod10(data)
        if given != expected:
            raise InvalidSlip(
                f"digitable line field {number} check digit is {given}, expected {expected}",
                field,
            )
    bar_code = line[0:4] + line[32] + line[33:47] + line[4:9] + line[10:20] + line[21:31]
    _check_bank_bar_code(bar_code, field)
    return bar_code


def _dealership_line_to_bar_code(line: str, field: str) -> str:
    if line[0] != "8":
        raise InvalidSlip(f"a 48-digit digitable line must start with 8 (dealership), got {line[0]}", field)
    module, name = _dealership_module(line[2], field)
    blocks = []
    for number in range(1, 5):
        start = (number - 1) * 12
        block, given = line[start : start + 11], int(line[start + 11])
        expected = module(block)
        if given != expected:
            raise InvalidSlip(
                f"digitable line block {number} check digit is {given}, expected {expected} ({name})",
                field,
            )
        blocks.append(block)
    bar_code = "".join(blocks)
    _check_dealership_bar_code(bar_code, field)
    return bar_code


def _line_to_bar_code(digits: str, field: str) -> str:
    if len(digits) == BANK_LINE_LENGTH:
        return _bank_line_to_bar_code(digits, field)
    if len(digits) == DEALERSHIP_LINE_LENGTH:
        return _dealership_line_to_bar_code(digits, field)
    raise InvalidSlip(f"a digitable line has 47 (bank) or 48 (dealership) digits, got {len(digits)}", field)


def bar_code_to_line(bar_code: str) -> str:
    """Convert a 44-digit bar code (masked or not) into its unmasked digitable line.

    47 digits for a bank slip, 48 for a dealership slip; the line check digits
    are computed.  The bar code's general check digit must be right (InvalidSlip).
    """
    digits = _normalize(bar_code, "bar_code")
    if len(digits) != BAR_CODE_LENGTH:
        raise InvalidSlip(f"a bar code has 44 digits, got {len(digits)}", "bar_code")
    _check_bar_code(digits, "bar_code")
    if digits[0] == "8":
        return _dealership_bar_code_to_line(digits)
    return _bank_bar_code_to_line(digits)


def line_to_bar_code(line: str) -> str:
    """Convert a 47- or 48-digit digitable line (masked or not) into its 44-digit bar code.

    All field/block check digits and the general check digit are verified (InvalidSlip).
    """
    return _line_to_bar_code(_normalize(line, "digitable_line"), "digitable_line")


# --------------------------------------------------------------------------- decoding


def _decode_amount(digits: str) -> Decimal | None:
    # An all-zero amount means "to be informed" (e.g. card invoices).
    if int(digits) == 0:
        return None
    return Decimal(f"{int(digits[:-2])}.{digits[-2:]}")


def _decode_bank(bar_code: str, line: str, today: date, field: str) -> Slip:
    currency_digit = bar_code[3]
    if currency_digit not in ("9", "0"):
        raise InvalidSlip(
            f"currency code (bar code position 4) is {currency_digit}, expected 9 (real) or 0 (other currency)",
            field,
        )
    factor = int(bar_code[5:9])
    if factor == 0:
        due_factor, due_date = None, None
    elif factor < _FACTOR_MIN:
        # Factors 0001-0999 (before 2000-07-03) were never issued.
        raise InvalidSlip(f"due-date factor {bar_code[5:9]} is never issued (0001-0999)", field)
    else:
        due_factor, due_date = factor, due_date_for_factor(factor, today)
    return Slip(
        kind=BANK,
        bar_code=bar_code,
        digitable_line=line,
        amount=_decode_amount(bar_code[9:19]),
        currency="BRL" if currency_digit == "9" else None,
        bank_code=bar_code[0:3],
        segment=None,
        value_id=None,
        due_factor=due_factor,
        due_date=due_date,
        free_field=bar_code[19:44],
    )


def _decode_dealership(bar_code: str, line: str, field: str) -> Slip:
    segment, value_id = bar_code[1], bar_code[2]
    if segment not in _SEGMENTS:
        raise InvalidSlip(f"dealership segment (bar code position 2) is {segment}, expected 1-7 or 9", field)
    carries_amount = value_id in _AMOUNT_VALUE_IDS
    return Slip(
        kind=DEALERSHIP,
        bar_code=bar_code,
        digitable_line=line,
        # Value ids 7/9 carry a reference/quantity, not a value in reais.
        amount=_decode_amount(bar_code[4:15]) if carries_amount else None,
        currency="BRL" if carries_amount else None,
        bank_code=None,
        segment=segment,
        value_id=value_id,
        due_factor=None,
        due_date=None,
        free_field=bar_code[19:44],
    )


def _decode(bar_code: str, line: str, today: date, field: str) -> Slip:
    if bar_code[0] == "8":
        return _decode_dealership(bar_code, line, field)
    return _decode_bank(bar_code, line, today, field)


# Parsing is pure (digits, business date, field name -> Slip or InvalidSlip), and clients send
# the same slip to validate and then to pay: remember recent answers (errors are not cached).
@functools.lru_cache(maxsize=4096)
def _parse_bar_code_digits(digits: str, today: date, field: str) -> Slip:
    _check_bar_code(digits, field)
    if digits[0] == "8":
        line = _dealership_bar_code_to_line(digits)
    else:
        line = _bank_bar_code_to_line(digits)
    return _decode(digits, line, today, field)


@functools.lru_cache(maxsize=4096)
def _parse_line_digits(digits: str, today: date, field: str) -> Slip:
    bar_code = _line_to_bar_code(digits, field)
    return _decode(bar_code, digits, today, field)


def parse(text: str, *, today: date, field: str = "bar_code") -> Slip:
    """Parse and fully check a bar code (44) or digitable line (47 bank / 48 dealership).

    Masks (spaces, dots, dashes) are accepted.  Every check digit is verified;
    bank factors 0001-0999 are rejected; a bank factor is resolved to the
    candidate due date nearest `today`.  Failures raise InvalidSlip with
    `field` copied into InvalidSlip.field.
    """
    digits = _normalize(text, field)
    if len(digits) == BAR_CODE_LENGTH:
        return _parse_bar_code_digits(digits, today, field)
    if len(digits) in (BANK_LINE_LENGTH, DEALERSHIP_LINE_LENGTH):
        return _parse_line_digits(digits, today, field)
    raise InvalidSlip(
        f"expected 44 digits (bar code), 47 (bank digitable line) or 48 (dealership digitable line), got {len(digits)}",
        field,
    )


def parse_bar_code(text: str, *, today: date, field: str = "bar_code") -> Slip:
    """Like parse, but only a 44-digit bar code is accepted."""
    digits = _normalize(text, field)
    if len(digits) != BAR_CODE_LENGTH:
        raise InvalidSlip(f"a bar code has 44 digits, got {len(digits)}", field)
    return _parse_bar_code_digits(digits, today, field)


def parse_digitable_line(text: str, *, today: date, field: str = "digitable_line") -> Slip:
    """Like parse, but only a 47-digit bank or 48-digit dealership digitable line is accepted."""
    digits = _normalize(text, field)
    if len(digits) not in (BANK_LINE_LENGTH, DEALERSHIP_LINE_LENGTH):
        raise InvalidSlip(f"a digitable line has 47 (bank) or 48 (dealership) digits, got {len(digits)}", field)
    return _parse_line_digits(digits, today, field)


# --------------------------------------------------------------------------- generation


def _amount_digits(amount: Decimal | None, width: int, maximum: Decimal) -> str:
    if amount is None:
        return "0" * width
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        raise ValueError(f"amount must be a Decimal (or int), got {type(amount).__name__}")
    amount = Decimal(amount)
    if not amount.is_finite() or amount < 0 or amount > maximum:
        raise ValueError(f"amount must be between 0 and {maximum}, got {amount}")
    try:
        cents = (amount * 100).to_integral_exact()
    except InvalidOperation as exc:  # pragma: no cover - defensive, finite values round fine
        raise ValueError(f"amount {amount} is not representable") from exc
    if cents != amount * 100:
        raise ValueError(f"amount must have at most 2 decimal places, got {amount}")
    return f"{int(cents):0{width}d}"


def _require_digit_text(value: str, name: str, lengths: tuple[int, ...]) -> None:
    if not isinstance(value, str) or len(value) not in lengths or not set(value) <= _DIGITS:
        wanted = " or ".join(str(n) for n in lengths)
        raise ValueError(f"{name} must be {wanted} ASCII digits, got {value!r}")


def _default_free_field(seed_digits: str, width: int) -> str:
    value = (int(seed_digits) * _LCG_MULTIPLIER + _LCG_INCREMENT) % 10**width
    return f"{value:0{width}d}"


def generate_bank_slip(
    amount: Decimal | None,
    *,
    due_date: date | None = None,
    bank_code: str = "001",
    currency: str = "9",
    free_field: str | None = None,
) -> Slip:
    """Build a valid bank slip.

    amount: None or 0 (amount to be informed) up to 99,999,999.99 with at most
    2 decimals.  due_date: None (factor 0000) or 2000-07-03..2100-12-31.
    bank_code: 3 digits not starting with 8.  currency: "9" (BRL) or "0".
    free_field: 25 digits; by default derived deterministically from the other inputs.
    Bad input raises ValueError.
    """
    amount_digits = _amount_digits(amount, 10, _BANK_AMOUNT_MAX)
    _require_digit_text(bank_code, "bank_code", (3,))
    if bank_code[0] == "8":
        raise ValueError("bank_code cannot start with 8 (that first digit marks dealership slips)")
    if currency not in ("9", "0"):
        raise ValueError(f"currency must be '9' (BRL) or '0' (other), got {currency!r}")
    if due_date is None:
        factor = 0
    else:
        if due_date > WINDOW_END:
            raise ValueError(f"due_date must not be after {WINDOW_END.isoformat()}")
        factor = factor_for_date(due_date)
    if free_field is None:
        free_field = _default_free_field(f"{bank_code}{currency}{factor:04d}{amount_digits}", 25)
    _require_digit_text(free_field, "free_field", (25,))
    without_dv = f"{bank_code}{currency}{factor:04d}{amount_digits}{free_field}"
    dv = mod11_bank(without_dv)
    bar_code = without_dv[:4] + str(dv) + without_dv[4:]
    # Resolving the factor against the due date itself yields exactly that date.
    return _parse_bar_code_digits(bar_code, due_date or _ROLLOVER_DATE, "bar_code")


def generate_dealership_slip(
    amount: Decimal | None,
    *,
    segment: str = "2",
    value_id: str = "6",
    company_code: str = "0123",
    free_field: str | None = None,
) -> Slip:
    """Build a valid dealership (arrecadacao) slip.

    value_id "6"/"8" carry a value in reais (amount None or 0 up to
    999,999,999.99, 2 decimals); "7"/"9" carry a reference, so amount must be
    None.  segment: 1-7 or 9.  company_code: 4 digits, or an 8-digit CNPJ root
    with segment "6" (the free field then shrinks to 21 digits).  free_field:
    25 (or 21) digits; by default derived deterministically from the other inputs.
    Bad input raises ValueError.
    """
    if segment not in _SEGMENTS:
        raise ValueError(f"segment must be one of 1-7 or 9, got {segment!r}")
    if value_id not in _MOD10_VALUE_IDS + _MOD11_VALUE_IDS:
        raise ValueError(f"value_id must be '6', '7', '8' or '9', got {value_id!r}")
    if value_id in _AMOUNT_VALUE_IDS:
        value_digits = _amount_digits(amount, 11, _DEALERSHIP_AMOUNT_MAX)
    elif amount is not None:
        raise ValueError(f"value_id {value_id} carries a reference, not an amount: pass None")
    else:
        value_digits = "0" * 11
    _require_digit_text(company_code, "company_code", (4, 8) if segment == "6" else (4,))
    free_width = 44 - 15 - len(company_code)
    if free_field is None:
        free_field = _default_free_field(f"{segment}{value_id}{value_digits}{company_code}", free_width)
    _require_digit_text(free_field, "free_field", (free_width,))
    without_dv = f"8{segment}{value_id}{value_digits}{company_code}{free_field}"
    module, _ = _dealership_module(value_id, "bar_code")
    bar_code = without_dv[:3] + str(module(without_dv)) + without_dv[3:]
    return _parse_bar_code_digits(bar_code, _ROLLOVER_DATE, "bar_code")
