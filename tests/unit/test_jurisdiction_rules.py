"""What a collection policy's jurisdiction profile becomes on chain (api.jurisdiction.rules_for)."""

from __future__ import annotations

import pytest

from api.errors import UnprocessableError
from api.jurisdiction import MAX_HOLDING_S, Rules, rules_for

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("secondary", "hold", "identity", "expected"), [
    (True, 0, False, Rules(False, False, False, 0)),      # asks nothing: the collection stays free
    (False, 0, False, Rules(True, True, False, 0)),
    (True, 3600, False, Rules(True, False, False, 3600)),
    (True, 0, True, Rules(True, False, True, 0)),
    (False, 86400, True, Rules(True, True, True, 86400)),
])
def test_each_profile_maps_to_its_rules(secondary, hold, identity, expected):
    assert rules_for(secondary, hold, identity) == expected


def test_a_holding_period_beyond_32_bits_is_refused():
    assert rules_for(True, MAX_HOLDING_S, False).holding_period == MAX_HOLDING_S
    with pytest.raises(UnprocessableError):
        rules_for(True, MAX_HOLDING_S + 1, False)
