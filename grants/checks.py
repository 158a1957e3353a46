"""System checks: `manage.py check`, `runserver` and every management command run them at startup."""

from django.core import checks


@checks.register(checks.Tags.security)
def openpyxl_parses_with_defusedxml(app_configs=None, **kwargs):
    """Uploaded workbooks are parsed by openpyxl; without defusedxml an XML entity bomb would expand."""
    import openpyxl
    from openpyxl.xml import functions

    parsers = (functions.iterparse, functions.fromstring)
    defused = openpyxl.DEFUSEDXML is True and all(
        getattr(parser, "__module__", "").startswith("defusedxml") for parser in parsers
    )
    if defused:
        return []
    return [
        checks.Error(
            "openpyxl is not parsing workbooks with defusedxml, so an uploaded .xlsx could carry an XML "
            "entity bomb.",
            hint=(
                "Install defusedxml (it is in pyproject.toml), leave OPENPYXL_DEFUSEDXML unset, and let "
                "ledger.settings set OPENPYXL_LXML=False before openpyxl is first imported."
            ),
            id="grants.E001",
        )
    ]
