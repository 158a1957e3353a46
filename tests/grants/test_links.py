"""`url_for_key` gives what `reverse()` gives, for ids and slugs, under any script prefix."""

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from grants.links import url_for_key


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("grants:fund_detail", ["moj-ecf-2020", "a", "fund_2"]),
        ("grants:allocation_detail", [1, 7194420685, 42]),
        ("grants:allocation_change_amount", [3, 10]),
        ("grants:organisation_detail", [99]),
    ],
)
def test_a_url_for_a_key_is_the_reversed_url(name, keys):
    url = url_for_key(name)
    assert [url(key) for key in keys] == [reverse(name, args=[key]) for key in keys]


def test_a_url_for_a_key_follows_the_script_prefix_it_was_made_under():
    set_script_prefix("/ledger/")
    try:
        assert url_for_key("grants:allocation_detail")(5) == reverse("grants:allocation_detail", args=[5])
        assert url_for_key("grants:allocation_detail")(5).startswith("/ledger/")
    finally:
        set_script_prefix("/")


def test_a_url_without_a_key_is_refused():
    with pytest.raises(NoReverseMatch, match="dashboard"):
        url_for_key("grants:dashboard")
