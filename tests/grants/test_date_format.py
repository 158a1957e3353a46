"""One date format on every page: "2 December 2026" (`j F Y`), never "02 December" or "2 Dec"."""

import datetime
import re
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from django.urls import reverse

from grants.services._base import locked_message
from grants.services.line_changes import line_change_pending_message
from grants.tables import _short_date

DAY = datetime.datetime(2026, 12, 2, 9, 5, tzinfo=datetime.UTC)


def test_every_template_date_filter_writes_the_day_month_and_year_one_way():
    formats = set()
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        formats |= set(re.findall(r'\|date:"([^"]*)"', path.read_text()))
    assert formats  # the templates do show dates
    assert {fmt for fmt in formats if not fmt.startswith("j F Y")} == set()


def test_no_python_message_pads_the_day_or_shortens_the_month():
    padded = []
    for folder in ("grants", "audit"):
        for path in Path(settings.BASE_DIR, folder).rglob("*.py"):
            if "migrations" not in path.parts:
                text = path.read_text()
                padded += [f"{path.name}: {hit}" for hit in re.findall(r"%d %[bB]|\"j M Y", text)]
    assert padded == []


def test_messages_write_the_day_unpadded_with_the_months_name():
    submission = SimpleNamespace(version=1, submitted_at=DAY, submitted_by="approver")
    assert "(version 1, 2 December 2026 09:05, by approver)" in locked_message(submission)
    change = SimpleNamespace(proposed_by="officer", proposed_at=DAY)
    assert line_change_pending_message(change).startswith(
        "A change to this line proposed by officer on 2 December 2026 awaits approval"
    )
    assert _short_date(datetime.date(2026, 12, 2), "en-gb") == "2 December 2026"


def test_the_fund_page_and_the_fund_list_write_the_spend_period_the_same_way(client, officer, seed_fund):
    client.force_login(officer)
    fund_page = client.get(reverse("grants:fund_detail", args=["moj-ecf-2020"])).content.decode()
    fund_list = client.get(reverse("grants:fund_list")).content.decode()
    period = "23 March 2020 to 31 October 2020"
    assert period in fund_page and period in fund_list
    assert not re.search(
        r"\b0\d (January|February|March|April|May|June|July|August|September|"
        r"October|November|December)\b",
        fund_page + fund_list,
    )
    assert not re.search(
        r"\b\d{1,2} (Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}", fund_page + fund_list
    )
