"""What a line of a fund says in the statutory grants register (the Elected Local Policing Bodies
(Specified Information) Order 2011, Schedule 1 paragraph 3(f)) where it differs from its fund's
defaults: the grant's purpose, its conditions and why it is expected to reduce crime and disorder.

Kept in its own table, not on the line: a line is frozen while its fund's return is submitted, but
the register is a separate publication that may still need correcting. The audit trail records each
change (audit.tables), so one officer's word is enough and is never lost."""

from __future__ import annotations

from django.db import models

from grants.models._base import Versioned, not_a_formula, not_a_formula_constraint
from grants.models.allocations import Allocation

REGISTER_FIELDS = ("purpose", "conditions", "crime_reduction")


class LineRegisterText(Versioned):
    allocation = models.OneToOneField(Allocation, on_delete=models.PROTECT, related_name="register_text")
    purpose = models.TextField(blank=True, validators=[not_a_formula])
    conditions = models.TextField(blank=True, validators=[not_a_formula])
    crime_reduction = models.TextField(
        "why it reduces crime and disorder", blank=True, validators=[not_a_formula]
    )

    class Meta:
        verbose_name = "line's register text"
        constraints = [
            not_a_formula_constraint("line_register", "purpose", "A purpose"),
            not_a_formula_constraint("line_register", "conditions", "Conditions"),
            not_a_formula_constraint("line_register", "crime_reduction", "A reason"),
        ]

    def __str__(self):
        return f"Register text of line {self.allocation_id}"
