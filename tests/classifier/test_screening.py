"""When the model abstains."""

from __future__ import annotations

import pytest

from coopclf.screening import abstain_reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        ("12345 !!!", "empty"),
        ("Heroin seized", "too_short"),
        ("Террористы атаковали пост полиции на границе вчера вечером", "not_english"),
        ("Les ministres ont discuté de la coopération dans la lutte contre le terrorisme "
         "et le trafic de drogue lors de leur rencontre", "not_english"),
        ("Police seized heroin at the port.", None),
        ("Ministers discussed cooperation against terrorism and drug trafficking during "
         "their meeting in the capital on Thursday.", None),
    ],
)
def test_abstain_reason(text: str, reason: str | None) -> None:
    assert abstain_reason(text) == reason
