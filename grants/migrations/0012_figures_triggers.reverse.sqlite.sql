-- What migration 0012_figures_triggers runs when reversed on sqlite: recorded from the code it called when it was
-- written (grants/audit.py, grants/figures.py), so that it never changes with that code.
-- Never edit this file (docs/triggers.md).
;
DROP TRIGGER IF EXISTS grants_entry_figures_insert
;
DROP TRIGGER IF EXISTS grants_entry_figures_update
;
DROP TRIGGER IF EXISTS grants_entry_figures_delete
;
DROP TRIGGER IF EXISTS grants_allocation_figures_insert
;
DROP TRIGGER IF EXISTS grants_allocation_figures_update
;
DROP TRIGGER IF EXISTS grants_allocation_figures_delete
;
DROP TRIGGER IF EXISTS grants_line_figures_insert
;
DROP TRIGGER IF EXISTS grants_line_figures_update
;
DROP TRIGGER IF EXISTS grants_line_figures_move
;
DROP TRIGGER IF EXISTS grants_line_figures_delete
;
