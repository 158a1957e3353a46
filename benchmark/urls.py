"""The project's URLs plus the trivial login-protected page the page measurements compare against."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from ledger.urls import urlpatterns as project_urlpatterns

TRIVIAL_PAGE = "/bench/trivial/"


@login_required
def trivial_page(request):
    return HttpResponse("<!doctype html><title>Trivial</title><p>Signed in.</p>")


urlpatterns = [path(TRIVIAL_PAGE.strip("/") + "/", trivial_page), *project_urlpatterns]
