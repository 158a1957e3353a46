"""Pages about the ledger itself: the accessibility statement."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.utils.decorators import method_decorator
from django.views.generic import TemplateView


@method_decorator(login_not_required, name="dispatch")
class AccessibilityStatementView(TemplateView):
    """The statement the Public Sector Bodies (Websites and Mobile Applications) Accessibility
    Regulations 2018 expect. Anyone may read it, signed in or not, with a role or without: a fund's
    public grants register (no login) is a public website whose footer links here, the Regulations
    want its statement published, and it says how to report a problem, which a user who cannot use
    the pages needs most. It holds nothing of the ledger's data."""

    template_name = "accessibility.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(contact=settings.LEDGER_ACCESSIBILITY_CONTACT, **kwargs)
