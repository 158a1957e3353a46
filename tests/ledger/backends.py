"""django-axes' backend, made to step aside when there is no request.

Django's test client `login()` calls authenticate() without a request, which AxesStandaloneBackend
refuses. Tests that log in that way are not testing throttling; the ones that are
(tests/ledger/test_login_throttling.py) post to the login form, which passes the request.
"""

from axes.backends import AxesStandaloneBackend


class AxesBackendForTests(AxesStandaloneBackend):
    def authenticate(self, request=None, *args, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)
