"""Pages about the ledger itself: the accessibility statement."""

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView


class AccessibilityStatementView(LoginRequiredMixin, TemplateView):
    """The statement the Public Sector Bodies (Websites and Mobile Applications) Accessibility
    Regulations 2018 expect. Any signed-in user may read it, with a role or without: it says how to
    report a problem, which a user who cannot use the pages needs most."""

    template_name = "accessibility.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(contact=settings.LEDGER_ACCESSIBILITY_CONTACT, **kwargs)
