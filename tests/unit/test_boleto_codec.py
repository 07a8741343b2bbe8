"""Behaviour of the FEBRABAN boleto codec (simulator.domains.bankslips.boleto).

Error-detection properties claim exactly what the check-digit arithmetic
guarantees, with the real caveats spelled out:

* mod 10 (Luhn weighting) catches every single-digit change and every adjacent
  transposition except 0<->9;
* a weighted sum with weights 2..9 mod 11 always changes under a single-digit
  change or an adjacent transposition, but the digit derived from it does not:
  the bank DAC maps remainders 0, 1 and 10 all to 1, the dealership rule maps
  0 and 1 both to 0, so moves inside those sets go unseen.
"""

from __future__ import annotations

import pickle
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pismo_sandbox.domains.bankslips.boleto import (
    BANK,
    DEALERSHIP,
    InvalidSlip,
    Slip,
    bar_code_to_line,
    due_date_candidates,
    due_date_for_factor,
    factor_for_date,
    generate_bank_slip,
    generate_dealership_slip,
    line_to_bar_code,
    mod10,
    mod11_bank,
    mod11_dealership,
    normalize,
    parse,
    parse_bar_code,
    parse_digitable_line,
)

# --------------------------------------------------------------------------- independent references
# Written from the FEBRABAN text, not from the module, so the properties do not
# check the code against itself.

BANK_COLLAPSED_REMAINDERS = {0, 1, 10}  # bank DAC: 11 - r in (0, 10, 11) -> 1
DEALERSHIP_COLLAPSED_REMAINDERS = {0, 1}  # arrecadacao: r in (0, 1) -> 0


def ref_mod11_remainder(digits: str) -> int:
    return sum(int(c) * (2 + i % 8) for i, c in enumerate(reversed(digits))) % 11


def bank_dac_blind(old_payload: str, new_payload: str) -> bool:
    """True when the bank DAC cannot tell these two 43-digit payloads apart."""
    remainders = {ref_mod11_remainder(old_payload), ref_mod11_remainder(new_payload)}
    return remainders <= BANK_COLLAPSED_REMAINDERS


def dealership_mod11_blind(old_digits: str, new_digits: str) -> bool:
    """True when the arrecadacao mod 11 cannot tell these two digit strings apart."""
    remainders = {ref_mod11_remainder(old_digits), ref_mod11_remainder(new_digits)}
    return remainders <= DEALERSHIP_COLLAPSED_REMAINDERS


def ref_luhn_ok(digits_with_dv: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits_with_dv)):
        product = int(c) * (1 if i % 2 == 0 else 2)
        total += product // 10 + product % 10
    return total % 10 == 0


def bank_payload(bar_code: str) -> str:
    return bar_code[:4] + bar_code[5:]


def dealership_payload(bar_code: str) -> str:
    return bar_code[:3] + bar_code[4:]


def bank_line_to_bar_code_layout(line: str) -> str:
    # FEBRABAN 6.1 table: line 1-4 -> bc 1-4, line 33 -> bc 5, line 34-47 -> bc 6-19,
    # line 5-9 / 11-20 / 22-31 -> bc 20-44.
    return line[0:4] + line[32] + line[33:47] + line[4:9] + line[10:20] + line[21:31]


def is_rejected(text: str, today: date) -> bool:
    try:
        parse(text, today=today)
    except InvalidSlip:
        return True
    return False


def replace_at(text: str, index: int, digit: str) -> str:
    return text[:index] + digit + text[index + 1 :]


def swap_at(text: str, index: int) -> str:
    return text[:index] + text[index + 1] + text[index] + text[index + 2 :]


TODAY = date(2024, 6, 1)

# --------------------------------------------------------------------------- strategies

OLD_ERA = st.dates(date(2000, 7, 3), date(2025, 2, 21))
NEW_ERA = st.dates(date(2025, 2, 22), date(2100, 12, 31))
cents = st.integers(0, 9_999_999_999)
bank_amounts = st.none() | cents.map(lambda c: Decimal(c).scaleb(-2))
dealership_amounts = st.none() | st.integers(0, 99_999_999_999).map(lambda c: Decimal(c).scaleb(-2))
bank_codes = st.integers(0, 999).filter(lambda n: n // 100 != 8).map("{:03d}".format)


def digit_strings(size: int):
    return st.text(alphabet="0123456789", min_size=size, max_size=size)


@st.composite
def bank_slips(draw, due_dates=None):
    due = draw(due_dates if due_dates is not None else st.none() | OLD_ERA | NEW_ERA)
    return generate_bank_slip(
        draw(bank_amounts),
        due_date=due,
        bank_code=draw(bank_codes),
        currency=draw(st.sampled_from("90")),
        free_field=draw(st.none() | digit_strings(25)),
    )


@st.composite
def dealership_slips(draw, value_ids="6789"):
    value_id = draw(st.sampled_from(value_ids))
    segment = draw(st.sampled_from("12345679"))
    cnpj_root = segment == "6" and draw(st.booleans())
    company_code = draw(digit_strings(8) if cnpj_root else digit_strings(4))
    free_width = 44 - 15 - len(company_code)
    return generate_dealership_slip(
        draw(dealership_amounts) if value_id in "68" else None,
        segment=segment,
        value_id=value_id,
        company_code=company_code,
        free_field=draw(st.none() | digit_strings(free_width)),
    )


def today_for(slip: Slip) -> date:
    return slip.due_date or TODAY


# --------------------------------------------------------------------------- check-digit functions


@pytest.mark.parametrize(
    ("digits", "expected"),
    # The three fields of the real Bradesco line 23792.37403 90021.214003 85000.334004 6 ...
    [("237923740", 3), ("9002121400", 3), ("8500033400", 4), ("0", 0), ("9", 1), ("18", 2)],
)
def test_mod10_weights_2_1_from_the_right_and_adds_the_digits_of_each_product(digits, expected):
    assert mod10(digits) == expected


@pytest.mark.parametrize(
    ("digits", "remainder", "bank_dv", "dealership_dv"),
    [
        # A lone digit d sits under weight 2, so the remainder is 2d % 11.
        ("0", 0, 1, 0),
        ("6", 1, 1, 0),
        ("5", 10, 1, 1),
        ("1", 2, 9, 9),
        ("3", 6, 5, 5),
        ("00000000004", 8, 3, 3),
        ("100000000", 2, 9, 9),  # ninth digit from the right wraps back to weight 2
    ],
)
def test_bank_and_dealership_mod11_differ_only_on_remainders_0_and_1(digits, remainder, bank_dv, dealership_dv):
    assert ref_mod11_remainder(digits) == remainder
    assert mod11_bank(digits) == bank_dv
    assert mod11_dealership(digits) == dealership_dv


def test_mod10_cannot_see_a_0_9_transposition():
    assert mod10("09") == mod10("90")
    assert mod10("1234509") == mod10("1234590")


@pytest.mark.parametrize("bad", ["", "12a4", "١٢"])
def test_check_digit_functions_reject_non_digit_input(bad):
    for function in (mod10, mod11_bank, mod11_dealership):
        with pytest.raises(ValueError):
            function(bad)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=60))
def test_check_digit_functions_agree_with_the_febraban_definitions(digits):
    assert ref_luhn_ok(digits + str(mod10(digits)))
    r = ref_mod11_remainder(digits)
    assert mod11_bank(digits) == (1 if 11 - r in (0, 10, 11) else 11 - r)
    assert mod11_dealership(digits) == (0 if r in (0, 1) else 1 if r == 10 else 11 - r)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=2, max_size=60), st.data())
def test_mod10_catches_every_single_digit_change_and_every_adjacent_swap_but_0_9(digits, data):
    full = digits + str(mod10(digits))
    i = data.draw(st.integers(0, len(full) - 1))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != full[i]]))
    changed = replace_at(full, i, new)
    assert mod10(changed[:-1]) != int(changed[-1])

    j = data.draw(st.integers(0, len(full) - 2))
    if full[j] != full[j + 1]:
        swapped = swap_at(full, j)
        detected = mod10(swapped[:-1]) != int(swapped[-1])
        assert detected or {full[j], full[j + 1]} == {"0", "9"}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=2, max_size=60), st.data())
def test_mod11_weighted_remainder_always_moves_under_a_single_change_or_adjacent_swap(digits, data):
    # 11 is prime and both |digit delta| <= 9 and |weight delta| in {1, 7} are below it.
    i = data.draw(st.integers(0, len(digits) - 1))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != digits[i]]))
    assert ref_mod11_remainder(replace_at(digits, i, new)) != ref_mod11_remainder(digits)
    j = data.draw(st.integers(0, len(digits) - 2))
    if digits[j] != digits[j + 1]:
        assert ref_mod11_remainder(swap_at(digits, j)) != ref_mod11_remainder(digits)


# --------------------------------------------------------------------------- real slips


def test_real_bradesco_line_is_502_27_due_2022_02_15():
    slip = parse("23792374039002121400385000334004688970000050227", today=date(2022, 1, 20))
    assert slip.kind == BANK
    assert slip.amount == Decimal("502.27")
    assert slip.due_factor == 8897
    assert slip.due_date == date(2022, 2, 15)
    assert slip.bank_code == "237"
    assert slip.currency == "BRL"
    assert slip.bar_code == "23796889700000502272374090021214008500033400"
    assert slip.free_field == "2374090021214008500033400"


def test_real_bradesco_line_resolves_to_the_2046_candidate_when_today_is_near_2046():
    slip = parse("23792374039002121400385000334004688970000050227", today=date(2046, 1, 1))
    assert slip.due_date == date(2046, 10, 7)
    assert due_date_candidates(8897)[:2] == [date(2022, 2, 15), date(2046, 10, 7)]


@pytest.mark.parametrize(
    ("text", "amount", "factor", "due"),
    [
        # Banco do Brasil sample published with several open-source validators.
        (
            "00190.50095 40144.816069 06809.350314 3 37370000000100",
            "1.00",
            3737,
            date(2007, 12, 31),
        ),
        # Bradesco sample whose issuer data states due date 16/06/2016 and R$ 289,90.
        (
            "23791.10006 60000.000079 89010.200304 4 68270000028990",
            "289.90",
            6827,
            date(2016, 6, 16),
        ),
        ("23794682700000289901100060000000078901020030", "289.90", 6827, date(2016, 6, 16)),
    ],
)
def test_published_bank_slips_decode_to_their_stated_amount_and_due_date(text, amount, factor, due):
    slip = parse(text, today=due)
    assert (slip.amount, slip.due_factor, slip.due_date) == (Decimal(amount), factor, due)


def test_published_dealership_slip_with_value_id_6_checks_every_block_mod_10():
    slip = parse("83640000001-1 33120138000-2 81288462711-6 08013618155-1", today=TODAY)
    assert slip.kind == DEALERSHIP
    assert (slip.segment, slip.value_id, slip.amount, slip.currency) == (
        "3",
        "6",
        Decimal("133.12"),
        "BRL",
    )
    assert slip.bar_code == "83640000001331201380008128846271108013618155"
    assert slip.bank_code is None and slip.due_factor is None and slip.due_date is None


def test_published_dealership_slip_with_value_id_8_maps_remainder_1_to_dv_0():
    line = "85890000460-9 52460179160-5 60759305086-5 83148300001-0"
    # Block 4 has remainder 1: the arrecadacao rule gives 0 where the bank rule would give 1.
    assert ref_mod11_remainder("83148300001") == 1
    slip = parse(line, today=TODAY)
    assert (slip.segment, slip.value_id, slip.amount) == ("5", "8", Decimal("46052.46"))
    with pytest.raises(InvalidSlip, match="block 4 check digit is 1, expected 0"):
        parse(line[:-1] + "1", today=TODAY)


# --------------------------------------------------------------------------- due-date factor


@pytest.mark.parametrize(
    ("day", "factor"),
    [
        (date(2000, 7, 3), 1000),
        (date(2000, 7, 4), 1001),
        (date(2012, 4, 27), 5316),
        (date(2025, 2, 21), 9999),
        (date(2025, 2, 22), 1000),
        (date(2025, 2, 23), 1001),
        (date(2049, 10, 13), 9999),
        (date(2049, 10, 14), 1000),
    ],
)
def test_factor_anchors_across_the_2025_rollover(day, factor):
    assert factor_for_date(day) == factor
    assert day in due_date_candidates(factor)


@pytest.mark.parametrize(
    ("factor", "today", "due"),
    [
        (1000, date(2001, 1, 1), date(2000, 7, 3)),
        (1000, date(2025, 3, 1), date(2025, 2, 22)),
        (9999, date(2025, 1, 1), date(2025, 2, 21)),
        (9999, date(2049, 1, 1), date(2049, 10, 13)),
        (5316, date(2012, 4, 1), date(2012, 4, 27)),
    ],
)
def test_due_date_for_factor_resolves_the_anchor_nearest_today(factor, today, due):
    assert due_date_for_factor(factor, today) == due


def test_due_date_for_factor_breaks_a_tie_towards_the_later_date():
    earlier, later = due_date_candidates(5316)[:2]
    assert (later - earlier).days == 9000
    assert due_date_for_factor(5316, earlier + timedelta(days=4500)) == later
    assert due_date_for_factor(5316, earlier + timedelta(days=4499)) == earlier


def test_factor_for_date_rejects_dates_before_the_first_issued_factor():
    with pytest.raises(ValueError):
        factor_for_date(date(2000, 7, 2))


@pytest.mark.parametrize("factor", [0, 1, 999, 10000, -5])
def test_due_date_candidates_reject_factors_outside_1000_9999(factor):
    with pytest.raises(ValueError):
        due_date_candidates(factor)


def test_candidates_are_ascending_9000_days_apart_and_inside_the_window():
    for factor in (1000, 5316, 9999):
        candidates = due_date_candidates(factor)
        assert candidates == sorted(candidates)
        assert all((b - a).days == 9000 for a, b in zip(candidates, candidates[1:]))
        assert candidates[0] >= date(2000, 7, 3) and candidates[-1] <= date(2100, 12, 31)


@settings(max_examples=200, deadline=None)
@given(st.integers(1000, 9999), st.dates(date(1990, 1, 1), date(2150, 12, 31)))
def test_due_date_for_factor_picks_a_candidate_no_other_candidate_is_nearer(factor, today):
    chosen = due_date_for_factor(factor, today)
    candidates = due_date_candidates(factor)
    assert chosen in candidates
    distance = abs((chosen - today).days)
    for other in candidates:
        other_distance = abs((other - today).days)
        assert other_distance > distance or (other_distance == distance and other <= chosen)


@settings(max_examples=200, deadline=None)
@given(OLD_ERA | NEW_ERA)
def test_every_candidate_of_a_dates_factor_has_that_factor(day):
    factor = factor_for_date(day)
    assert 1000 <= factor <= 9999
    assert day in due_date_candidates(factor)
    assert all(factor_for_date(c) == factor for c in due_date_candidates(factor))


# --------------------------------------------------------------------------- masks and characters


REAL_LINE = "23792374039002121400385000334004688970000050227"


@pytest.mark.parametrize(
    "text",
    [
        "23792.37403 90021.214003 85000.334004 6 88970000050227",
        " 23792-37403-90021-214003-85000-334004-6-88970000050227 ",
        "23792.37403\t90021.214003\n85000.334004 6 88970000050227",
    ],
)
def test_masked_lines_parse_like_the_bare_digits(text):
    assert parse(text, today=date(2022, 2, 1)) == parse(REAL_LINE, today=date(2022, 2, 1))


def test_normalize_strips_only_mask_characters():
    assert normalize("8364 0000001-1.33") == "836400000011" + "33"


@pytest.mark.parametrize(
    ("text", "character", "position"),
    [
        ("2379237403A002121400385000334004688970000050227", "'A'", 11),
        ("23792.37403/90021", "'/'", 12),
        ("2379_", "'_'", 5),
        ("٣", "'٣'", 1),  # a non-ASCII digit is not a boleto digit
    ],
)
def test_non_digit_characters_are_rejected_naming_the_character_and_position(text, character, position):
    with pytest.raises(InvalidSlip) as caught:
        parse(text, today=TODAY, field="digitable_line")
    assert character in caught.value.reason
    assert f"position {position}" in caught.value.reason
    assert caught.value.field == "digitable_line"


def test_normalize_rejects_letters_with_the_default_field():
    with pytest.raises(InvalidSlip, match="'x' at position 3") as caught:
        normalize("12x4")
    assert caught.value.field == "bar_code"


def test_non_string_input_is_rejected():
    with pytest.raises(InvalidSlip, match="int"):
        parse(12345, today=TODAY)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(bank_slips() | dealership_slips(), st.data())
def test_mask_characters_anywhere_do_not_change_the_result(slip, data):
    for text in (slip.bar_code, slip.digitable_line):
        gaps = len(text) + 1
        masks = data.draw(st.lists(st.text(alphabet=" .-", max_size=2), min_size=gaps, max_size=gaps))
        masked = "".join(m + d for m, d in zip(masks, text)) + masks[-1]
        assert parse(masked, today=today_for(slip)) == slip


@settings(max_examples=100, deadline=None)
@given(
    bank_slips() | dealership_slips(),
    st.characters(exclude_categories=("Cs",), exclude_characters="0123456789 .-\t\r\n"),
    st.data(),
)
def test_any_other_character_anywhere_is_rejected_and_named(slip, character, data):
    index = data.draw(st.integers(0, len(slip.digitable_line)))
    text = slip.digitable_line[:index] + character + slip.digitable_line[index:]
    with pytest.raises(InvalidSlip) as caught:
        parse(text, today=TODAY)
    assert repr(character) in caught.value.reason
    assert f"position {index + 1}" in caught.value.reason


# --------------------------------------------------------------------------- lengths and shapes


@pytest.mark.parametrize("length", [0, 1, 43, 45, 46, 49, 60])
def test_lengths_other_than_44_47_48_are_rejected(length):
    with pytest.raises(InvalidSlip, match=f"got {length}") as caught:
        parse("1" * length, today=TODAY, field="payload.barcode")
    assert caught.value.field == "payload.barcode"


def test_parse_bar_code_refuses_a_digitable_line_and_vice_versa():
    slip = parse(REAL_LINE, today=date(2022, 2, 1))
    with pytest.raises(InvalidSlip, match="44 digits, got 47"):
        parse_bar_code(slip.digitable_line, today=TODAY)
    with pytest.raises(InvalidSlip, match="got 44") as caught:
        parse_digitable_line(slip.bar_code, today=TODAY)
    assert caught.value.field == "digitable_line"
    assert parse_bar_code(slip.bar_code, today=date(2022, 2, 1)) == slip
    assert parse_digitable_line(slip.digitable_line, today=date(2022, 2, 1)) == slip


def test_a_48_digit_line_must_start_with_8():
    line = generate_dealership_slip(Decimal("10.00")).digitable_line
    with pytest.raises(InvalidSlip, match="must start with 8"):
        parse("7" + line[1:], today=TODAY)


def test_a_47_digit_line_starting_with_8_is_rejected():
    with pytest.raises(InvalidSlip, match="cannot start with 8"):
        parse("8" + REAL_LINE[1:], today=TODAY)


def test_field_check_digit_errors_say_which_field_and_what_was_expected():
    wrong = replace_at(REAL_LINE, 20, "7")  # field 2 DV is 3
    with pytest.raises(InvalidSlip) as caught:
        parse(wrong, today=TODAY, field="digitable_line")
    assert caught.value.reason == "digitable line field 2 check digit is 7, expected 3"
    assert caught.value.field == "digitable_line"
    assert str(caught.value) == caught.value.reason


def test_a_line_with_right_field_dvs_but_wrong_general_dv_is_rejected():
    # Changing the amount keeps all three mod-10 fields valid; only the DAC can object.
    wrong = REAL_LINE[:-1] + "8"
    with pytest.raises(InvalidSlip, match=r"general check digit \(bar code position 5\) is 6"):
        parse(wrong, today=TODAY)
    with pytest.raises(InvalidSlip):
        line_to_bar_code(wrong)


def test_bar_code_with_wrong_general_dv_is_rejected_everywhere():
    bar_code = "23796889700000502272374090021214008500033400"
    wrong = replace_at(bar_code, 4, "5")
    with pytest.raises(InvalidSlip, match="is 5, expected 6"):
        parse(wrong, today=TODAY)
    with pytest.raises(InvalidSlip):
        bar_code_to_line(wrong)


def test_invalid_slip_is_a_value_error_that_survives_pickling():
    error = InvalidSlip("bad", "digitable_line")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.reason, copy.field) == ("bad", "digitable_line")


# --------------------------------------------------------------------------- decoded fields


def bank_bar_code(body43: str) -> str:
    """A bank bar code with the correct DAC for 43 digits (bank, currency, factor, amount, free)."""
    return body43[:4] + str(mod11_bank(body43)) + body43[4:]


def dealership_bar_code(body43: str) -> str:
    module = mod10 if body43[2] in "67" else mod11_dealership
    return body43[:3] + str(module(body43)) + body43[3:]


@pytest.mark.parametrize("factor", ["0001", "0500", "0999"])
def test_factors_0001_to_0999_are_never_issued(factor):
    bar_code = bank_bar_code("0019" + factor + "0000001000" + "1" * 25)
    with pytest.raises(InvalidSlip, match=f"factor {factor}"):
        parse(bar_code, today=TODAY)
    with pytest.raises(InvalidSlip, match=f"factor {factor}"):
        parse(bar_code_to_line(bar_code), today=TODAY)


def test_factor_0000_means_no_due_date():
    slip = parse(bank_bar_code("0019" + "0000" + "0000001000" + "1" * 25), today=TODAY)
    assert slip.due_factor is None and slip.due_date is None
    assert slip.amount == Decimal("10.00")
    assert generate_bank_slip(Decimal("10.00"), free_field="1" * 25) == slip


def test_zero_amount_means_amount_to_be_informed():
    slip = parse(bank_bar_code("0019" + "9000" + "0" * 10 + "2" * 25), today=TODAY)
    assert slip.amount is None
    assert slip.currency == "BRL"
    assert generate_bank_slip(Decimal("0"), free_field="3" * 25).amount is None


def test_currency_0_is_another_currency_and_other_codes_are_rejected():
    slip = parse(bank_bar_code("0010" + "9000" + "0000012345" + "2" * 25), today=TODAY)
    assert slip.currency is None
    assert slip.amount == Decimal("123.45")
    with pytest.raises(InvalidSlip, match="currency code"):
        parse(bank_bar_code("0015" + "9000" + "0000012345" + "2" * 25), today=TODAY)


@pytest.mark.parametrize("value_id", ["0", "5"])
def test_dealership_value_ids_outside_6_to_9_are_rejected(value_id):
    bar_code = "82" + value_id + "0" + "00000001000" + "0123" + "4" * 25
    with pytest.raises(InvalidSlip, match=f"value id .* is {value_id}, expected 6, 7, 8 or 9"):
        parse(bar_code, today=TODAY)


@pytest.mark.parametrize("value_id", ["7", "9"])
def test_dealership_value_ids_7_and_9_carry_a_reference_not_an_amount(value_id):
    bar_code = dealership_bar_code("82" + value_id + "00000001000" + "0123" + "4" * 25)
    slip = parse(bar_code, today=TODAY)
    assert slip.value_id == value_id
    assert slip.amount is None and slip.currency is None


@pytest.mark.parametrize(
    ("value_id", "module"),
    [("6", mod10), ("7", mod10), ("8", mod11_dealership), ("9", mod11_dealership)],
)
def test_dealership_value_id_chooses_the_modulus_for_general_and_block_dvs(value_id, module):
    slip = generate_dealership_slip(
        Decimal("12.34") if value_id in "68" else None, value_id=value_id, free_field="5" * 25
    )
    bar_code = slip.bar_code
    assert int(bar_code[3]) == module(dealership_payload(bar_code))
    blocks = [slip.digitable_line[i : i + 12] for i in range(0, 48, 12)]
    assert [int(b[11]) for b in blocks] == [module(b[:11]) for b in blocks]


def test_dealership_segments_0_and_8_are_rejected():
    for segment in "08":
        with pytest.raises(InvalidSlip, match="segment"):
            body = "8" + segment + "6" + "00000001000" + "0123" + "4" * 25
            parse(dealership_bar_code(body), today=TODAY)


def test_segment_6_accepts_an_8_digit_cnpj_root():
    slip = generate_dealership_slip(Decimal("1.00"), segment="6", company_code="12345678", free_field="9" * 21)
    assert slip.bar_code[15:23] == "12345678"
    assert slip.free_field == "5678" + "9" * 21


# --------------------------------------------------------------------------- generation


def test_generation_is_deterministic():
    args = dict(due_date=date(2026, 5, 1), bank_code="341")
    first = generate_bank_slip(Decimal("99.90"), **args)
    assert generate_bank_slip(Decimal("99.90"), **args) == first
    assert generate_bank_slip(Decimal("99.91"), **args).free_field != first.free_field
    assert generate_dealership_slip(Decimal("5")) == generate_dealership_slip(Decimal("5"))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(amount=Decimal("1.005")),
        dict(amount=Decimal("-1")),
        dict(amount=Decimal("100000000.00")),
        dict(amount=Decimal("NaN")),
        dict(amount=1.5),
        dict(amount=Decimal("1"), bank_code="800"),
        dict(amount=Decimal("1"), bank_code="01"),
        dict(amount=Decimal("1"), currency="5"),
        dict(amount=Decimal("1"), due_date=date(2000, 7, 2)),
        dict(amount=Decimal("1"), due_date=date(2101, 1, 1)),
        dict(amount=Decimal("1"), free_field="123"),
    ],
)
def test_generate_bank_slip_rejects_bad_input(kwargs):
    amount = kwargs.pop("amount")
    with pytest.raises(ValueError):
        generate_bank_slip(amount, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(amount=Decimal("1"), value_id="7"),
        dict(amount=None, value_id="5"),
        dict(amount=Decimal("1000000000.00")),
        dict(amount=Decimal("1"), segment="8"),
        dict(amount=Decimal("1"), company_code="12345678"),
        dict(amount=Decimal("1"), free_field="1" * 24),
    ],
)
def test_generate_dealership_slip_rejects_bad_input(kwargs):
    amount = kwargs.pop("amount")
    with pytest.raises(ValueError):
        generate_dealership_slip(amount, **kwargs)


def test_generated_maximum_bank_amount_round_trips():
    slip = generate_bank_slip(Decimal("99999999.99"), due_date=date(2030, 1, 1))
    assert slip.amount == Decimal("99999999.99")
    assert slip.bar_code[9:19] == "9999999999"


@settings(max_examples=200, deadline=None)
@given(
    bank_slips(due_dates=st.none() | OLD_ERA | NEW_ERA),
    st.integers(-4499, 4499),
)
def test_generated_bank_slips_round_trip_through_parse_in_both_factor_eras(slip, offset):
    today = today_for(slip) + timedelta(days=offset)
    assert parse(slip.bar_code, today=today) == slip
    assert parse(slip.digitable_line, today=today) == slip
    assert slip.kind == BANK and len(slip.bar_code) == 44 and len(slip.digitable_line) == 47
    if slip.due_date is not None:
        assert factor_for_date(slip.due_date) == slip.due_factor


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_generated_bank_slips_round_trip_in_each_era_explicitly(data):
    for era in (OLD_ERA, NEW_ERA):
        slip = data.draw(bank_slips(due_dates=era))
        assert parse(slip.digitable_line, today=slip.due_date) == slip


@settings(max_examples=200, deadline=None)
@given(dealership_slips())
def test_generated_dealership_slips_round_trip_through_parse(slip):
    assert parse(slip.bar_code, today=TODAY) == slip
    assert parse(slip.digitable_line, today=TODAY) == slip
    assert slip.kind == DEALERSHIP and len(slip.digitable_line) == 48
    assert (slip.amount is None) or slip.value_id in "68"


@settings(max_examples=200, deadline=None)
@given(bank_slips() | dealership_slips())
def test_bar_code_and_line_conversions_are_inverse(slip):
    assert bar_code_to_line(slip.bar_code) == slip.digitable_line
    assert line_to_bar_code(slip.digitable_line) == slip.bar_code
    assert line_to_bar_code(bar_code_to_line(slip.bar_code)) == slip.bar_code
    assert bar_code_to_line(line_to_bar_code(slip.digitable_line)) == slip.digitable_line


@settings(max_examples=100, deadline=None)
@given(bank_slips() | dealership_slips(), bank_slips() | dealership_slips())
def test_distinct_bar_codes_give_distinct_lines(a, b):
    assert (a.bar_code == b.bar_code) == (a.digitable_line == b.digitable_line)


# --------------------------------------------------------------------------- error detection: bank


@settings(max_examples=50, deadline=None)
@given(bank_slips())
def test_any_single_digit_change_in_a_bank_line_is_rejected_unless_the_dac_collapses(slip):
    # Line positions 1-32 sit in a mod-10 field (data or DV): always caught.
    # Position 33 is the DAC itself: always caught.  Positions 34-47 (factor,
    # amount) are covered only by the DAC, which cannot tell remainders 0/1/10 apart.
    line, today = slip.digitable_line, today_for(slip)
    for i in range(47):
        for new in "0123456789":
            if new == line[i]:
                continue
            changed = replace_at(line, i, new)
            if is_rejected(changed, today):
                continue
            assert i >= 33, f"change at line position {i + 1} went unseen"
            changed_payload = bank_payload(bank_line_to_bar_code_layout(changed))
            assert bank_dac_blind(bank_payload(slip.bar_code), changed_payload)


@settings(max_examples=50, deadline=None)
@given(bank_slips())
def test_any_single_digit_change_in_a_bank_bar_code_is_rejected_unless_the_dac_collapses(slip):
    bar_code, today = slip.bar_code, today_for(slip)
    for i in range(44):
        for new in "0123456789":
            if new == bar_code[i]:
                continue
            changed = replace_at(bar_code, i, new)
            try:
                result = parse(changed, today=today)
            except InvalidSlip:
                continue
            assert i != 4, "a changed DAC went unseen"
            if i == 0 and new == "8":
                # A leading 8 makes it a dealership bar code, checked by other rules.
                assert result.kind == DEALERSHIP
                continue
            assert bank_dac_blind(bank_payload(bar_code), bank_payload(changed))


@settings(max_examples=50, deadline=None)
@given(bank_slips())
def test_adjacent_swaps_in_a_bank_line_are_rejected_where_the_check_digits_guarantee_it(slip):
    line, today = slip.digitable_line, today_for(slip)
    fields = [range(10), range(10, 21), range(21, 32)]
    for i in range(46):
        a, b = line[i], line[i + 1]
        if a == b or i == 32:
            # Swapping the DAC with the first factor digit is guaranteed by nothing.
            continue
        swapped = swap_at(line, i)
        if is_rejected(swapped, today):
            continue
        inside_one_field = any(i in f and i + 1 in f for f in fields)
        if inside_one_field:
            assert {a, b} == {"0", "9"}, f"swap at line positions {i + 1}-{i + 2} went unseen"
        else:
            # Across a field boundary one field keeps its data but gets a new DV: never unseen.
            assert i >= 33, f"swap at line positions {i + 1}-{i + 2} went unseen"
            swapped_payload = bank_payload(bank_line_to_bar_code_layout(swapped))
            assert bank_dac_blind(bank_payload(slip.bar_code), swapped_payload)


@settings(max_examples=100, deadline=None)
@given(bank_slips())
def test_adjacent_swaps_in_a_bank_bar_code_are_rejected_unless_the_dac_collapses(slip):
    bar_code, today = slip.bar_code, today_for(slip)
    for i in range(43):
        if bar_code[i] == bar_code[i + 1] or i in (3, 4):
            continue  # swaps involving the DAC itself are not covered by the weighting argument
        swapped = swap_at(bar_code, i)
        try:
            result = parse(swapped, today=today)
        except InvalidSlip:
            continue
        if i == 0 and swapped[0] == "8":
            assert result.kind == DEALERSHIP
            continue
        assert bank_dac_blind(bank_payload(bar_code), bank_payload(swapped))


def test_bank_dac_cannot_see_a_change_between_remainders_0_1_and_10():
    # Demonstrates that the caveat above is real, not a loophole in the tests.
    for cents_value in range(1, 2000):
        amount = Decimal(cents_value).scaleb(-2)
        slip = generate_bank_slip(amount, due_date=date(2030, 1, 1), free_field="7" * 25)
        if ref_mod11_remainder(bank_payload(slip.bar_code)) not in BANK_COLLAPSED_REMAINDERS:
            continue
        for i in range(37, 47):  # amount digits of the line
            for new in "0123456789":
                changed = replace_at(slip.digitable_line, i, new)
                if new != slip.digitable_line[i] and not is_rejected(changed, date(2030, 1, 1)):
                    accepted = parse(changed, today=date(2030, 1, 1))
                    assert accepted.amount != slip.amount
                    return
    pytest.fail("no undetectable change found; the DAC caveat would be unnecessary")


# --------------------------------------------------------------------------- detection: dealership


def _family(value_id: str) -> str:
    return "mod10" if value_id in "67" else "mod11"


@settings(max_examples=50, deadline=None)
@given(dealership_slips())
def test_any_single_digit_change_in_a_dealership_line_is_rejected_where_guaranteed(slip):
    line = slip.digitable_line
    bar_code = slip.bar_code
    for i in range(48):
        block, offset = divmod(i, 12)
        for new in "0123456789":
            if new == line[i]:
                continue
            changed = replace_at(line, i, new)
            if is_rejected(changed, TODAY):
                continue
            assert offset != 11, "a changed block DV went unseen"
            assert i not in (0, 3), "a changed first digit or general DV went unseen"
            if i == 2 and _family(new) != _family(slip.value_id):
                continue  # a new value id re-reads every DV with the other modulus: no guarantee
            family = _family(new if i == 2 else slip.value_id)
            assert family == "mod11", f"mod 10 missed line position {i + 1}"
            changed_bar_code = "".join(changed[k : k + 11] for k in range(0, 48, 12))
            old_block = bar_code[block * 11 : block * 11 + 11]
            new_block = changed_bar_code[block * 11 : block * 11 + 11]
            # Both the block DV and the general DV must be blind for the change to pass.
            assert dealership_mod11_blind(old_block, new_block)
            assert dealership_mod11_blind(dealership_payload(bar_code), dealership_payload(changed_bar_code))


@settings(max_examples=50, deadline=None)
@given(dealership_slips())
def test_any_single_digit_change_in_a_dealership_bar_code_is_rejected_where_guaranteed(slip):
    bar_code = slip.bar_code
    for i in range(44):
        for new in "0123456789":
            if new == bar_code[i]:
                continue
            changed = replace_at(bar_code, i, new)
            try:
                result = parse(changed, today=TODAY)
            except InvalidSlip:
                continue
            assert i != 3, "a changed general DV went unseen"
            if i == 0:
                assert result.kind == BANK  # read as a bank bar code, under bank rules
                continue
            if i == 2 and _family(new) != _family(slip.value_id):
                continue  # value id switched modulus family: no guarantee
            assert _family(result.value_id) == "mod11", f"mod 10 missed bar code position {i + 1}"
            assert dealership_mod11_blind(dealership_payload(bar_code), dealership_payload(changed))


@settings(max_examples=100, deadline=None)
@given(dealership_slips())
def test_adjacent_swaps_after_a_dealership_general_dv_are_rejected_where_guaranteed(slip):
    bar_code = slip.bar_code
    for i in range(4, 43):  # positions 5-44: contiguous in the general-DV payload
        a, b = bar_code[i], bar_code[i + 1]
        if a == b:
            continue
        swapped = swap_at(bar_code, i)
        if is_rejected(swapped, TODAY):
            continue
        if _family(slip.value_id) == "mod10":
            assert {a, b} == {"0", "9"}, f"mod 10 missed a swap at positions {i + 1}-{i + 2}"
        else:
            assert dealership_mod11_blind(dealership_payload(bar_code), dealership_payload(swapped))
