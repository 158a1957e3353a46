-- What migration 0009_import_record runs when reversed on postgresql: recorded from the code it called when it was
-- written (grants/audit.py, grants/figures.py), so that it never changes with that code.
-- Never edit this file (docs/triggers.md).
;
DROP TRIGGER IF EXISTS grants_importrecord_audit ON grants_importrecord
;
