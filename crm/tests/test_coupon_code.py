import itertools

from hypothesis import given
from hypothesis import strategies as st

from crm.lib import coupon_code

codes = st.text(alphabet=coupon_code.ALPHABET, min_size=9, max_size=9).map(lambda b: b + coupon_code.check_character(b))


def test_generated_codes_are_readable_and_check_themselves():
    code = coupon_code.generate()
    assert len(code) == 10 and not set(code) & set("01OI")
    assert coupon_code.parse(coupon_code.display(code).lower()) == code


@given(codes, st.integers(0, 9), st.sampled_from(coupon_code.ALPHABET))
def test_every_single_wrong_character_is_caught(code, position, char):
    if code[position] == char:
        return
    typo = code[:position] + char + code[position + 1 :]
    assert coupon_code.check_character(typo[:-1]) != typo[-1]


def test_every_swap_of_neighbours_is_caught():
    """Every pair of different characters, swapped at every place, the check character's place included."""
    for a, b in itertools.permutations(coupon_code.ALPHABET, 2):
        for position in range(9):
            body = list("ABCDEFGHJ")
            body[position] = a
            if position < 8:
                body[position + 1] = b
            code = "".join(body) + coupon_code.check_character("".join(body))
            swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
            if swapped != code:
                assert coupon_code.normalize(swapped) and _refused(swapped), (a, b, position)


def _refused(code: str) -> bool:
    try:
        coupon_code.parse(code)
    except coupon_code.InvalidCode:
        return True
    return False


def test_what_cannot_be_a_code_is_not_one():
    for text in ["", "ABC", "0000000000", "ABCDEFGHJK1", "ABCDE-FGHJ!"]:
        assert coupon_code.normalize(text) is None


def test_codes_are_unguessable_enough():
    assert len(coupon_code.ALPHABET) ** coupon_code.RANDOM_LENGTH >= 2**45
    assert len({coupon_code.generate() for _ in itertools.repeat(None, 2000)}) == 2000
