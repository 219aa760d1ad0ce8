"""Text as Chinese input methods type it."""

# Full-width digits and signs (a Chinese IME in full-width mode): the same number, typed another way.
_HALFWIDTH = str.maketrans("０１２３４５６７８９＋－（）　", "0123456789+-() ")


def halfwidth(text: str) -> str:
    return text.translate(_HALFWIDTH)
