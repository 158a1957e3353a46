"""The GOV.UK-style error summary (templates/includes/error_summary.html): every form page, posted
with nothing filled in, shows "There is a problem" at the top, with a link to each field's input."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test.html import parse_html

from grants.models import Allocation, LedgerEntry
from tests.factories import FundingCategoryFactory, submit_return

TEMPLATES = Path(settings.BASE_DIR) / "templates"
SUMMARY = '{% include "includes/error_summary.html"'

# Each form page of the app, and what to post so that it has errors: an empty form, where the
# form has a required field; `LINE` and `ENTRY` stand for the seed fund's first line and its award.
FORM_PAGES = [
    ("/funds/add/", {}),
    ("/funds/moj-ecf-2020/edit/", {}),
    ("/funds/moj-ecf-2020/budgets/", {"budget_shelter": "lots"}),
    ("/funds/moj-ecf-2020/profile/", {}),
    ("/funds/moj-ecf-2020/allocations/add/", {}),
    ("/funds/moj-ecf-2020/import/", {}),
    ("/funds/moj-ecf-2020/received/add/", {}),
    ("/funds/moj-ecf-2020/returned/add/", {}),
    ("/funds/moj-ecf-2020/carry-forward/", {}),
    ("/allocations/LINE/amount/", {}),
    ("/allocations/LINE/edit/", {"line_number": "x"}),
    ("/allocations/LINE/payments/add/", {}),
    ("/allocations/LINE/underspend/add/", {}),
    ("/allocations/LINE/underspend-due/add/", {}),
    ("/allocations/LINE/carry-forward/", {}),
    ("/entries/ENTRY/reverse/", {}),
    ("/organisations/add/", {}),
    ("/organisations/ORGANISATION/edit/", {"name": ""}),
    ("/accounts/password/", {}),
    ("/funds/moj-ecf-2020/publication/", {"data_source_url": "not a web page", "register_purpose": "=1+1"}),
    ("/allocations/LINE/register/", {"purpose": "=HYPERLINK(1)"}),
]


def summary_links(page: str) -> tuple[list[str], str]:
    """The summary's link targets and its text; fails if the page has no summary."""
    match = re.search(r'<div class="error-summary" role="alert"[^>]*>(.*?)</div>', page, re.S)
    assert match, "no error summary"
    return re.findall(r'href="#([^"]+)"', match.group(1)), match.group(1)


@pytest.mark.parametrize(("path", "data"), FORM_PAGES)
def test_every_form_page_shows_the_error_summary_linking_to_each_field(staff_client, seed_fund, path, data):
    FundingCategoryFactory(code="shelter", name="Shelter")
    line = Allocation.objects.get(fund=seed_fund, line_number=1)
    entry = LedgerEntry.objects.filter(allocation=line).earliest("pk")
    path = (
        path.replace("LINE", str(line.pk))
        .replace("ENTRY", str(entry.pk))
        .replace("ORGANISATION", str(line.organisation_id))
    )

    response = staff_client.post(path, data)

    assert response.status_code == 200, path
    page = response.content.decode()
    targets, summary = summary_links(page)
    assert '<h2 id="error-summary-title">There is a problem</h2>' in summary
    assert targets, f"{path}: no field linked"
    for target in targets:
        # The link leads to the input, which says it is invalid and is described by its message.
        inputs = re.findall(rf'<(?:input|select|textarea)[^>]*\bid="{target}"[^>]*>', page)
        assert len(inputs) == 1, f"{path}: #{target} is not one input"
        assert 'aria-invalid="true"' in inputs[0], f"{path}: #{target}"
        assert re.search(r'aria-describedby="[^"]*_error', inputs[0]), f"{path}: #{target}"
    parse_html(page)  # still well-formed


def test_the_reopen_form_shows_the_summary_for_a_missing_reason(client, seed_fund, approver):
    submit_return(seed_fund, approver)
    client.force_login(approver)

    response = client.post("/funds/moj-ecf-2020/reopen/", {"reason": ""})

    targets, summary = summary_links(response.content.decode())
    assert targets == ["id_reason"]


def test_a_non_field_error_is_listed_without_a_link(staff_client, seed_fund):
    opened = staff_client.get("/funds/moj-ecf-2020/edit/").context["form"].initial
    data = {
        name: (value.isoformat() if hasattr(value, "isoformat") else value) for name, value in opened.items()
    }
    data["version"] = 0  # opened before a colleague's save

    response = staff_client.post("/funds/moj-ecf-2020/edit/", {**data, "notes": "Late"})

    targets, summary = summary_links(response.content.decode())
    assert targets == []
    assert "since you opened" in summary


def test_every_template_with_a_posted_form_includes_the_summary():
    """A template that renders a form (`{{ form }}`) has the summary above it; the login page says
    its one error itself, and the submit page's tick box has its own message beside it."""
    rendering = [
        path for path in TEMPLATES.rglob("*.html") if re.search(r"\{\{ *form *\}\}", path.read_text())
    ]
    assert len(rendering) >= 13
    missing = [str(path.relative_to(TEMPLATES)) for path in rendering if SUMMARY not in path.read_text()]
    assert missing == []
