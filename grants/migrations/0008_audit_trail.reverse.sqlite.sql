-- What migration 0008_audit_trail runs when reversed on sqlite: recorded from the code it called when it was
-- written (grants/audit.py, grants/figures.py), so that it never changes with that code.
-- Never edit this file (docs/triggers.md).
;
DROP TRIGGER IF EXISTS grants_funder_audit_insert
;
DROP TRIGGER IF EXISTS grants_funder_audit_update
;
DROP TRIGGER IF EXISTS grants_funder_audit_delete
;
DROP TRIGGER IF EXISTS grants_fund_audit_insert
;
DROP TRIGGER IF EXISTS grants_fund_audit_update
;
DROP TRIGGER IF EXISTS grants_fund_audit_delete
;
DROP TRIGGER IF EXISTS grants_controltotalrevision_audit_insert
;
DROP TRIGGER IF EXISTS grants_controltotalrevision_audit_update
;
DROP TRIGGER IF EXISTS grants_controltotalrevision_audit_delete
;
DROP TRIGGER IF EXISTS grants_categorybudget_audit_insert
;
DROP TRIGGER IF EXISTS grants_categorybudget_audit_update
;
DROP TRIGGER IF EXISTS grants_categorybudget_audit_delete
;
DROP TRIGGER IF EXISTS grants_organisation_audit_insert
;
DROP TRIGGER IF EXISTS grants_organisation_audit_update
;
DROP TRIGGER IF EXISTS grants_organisation_audit_delete
;
DROP TRIGGER IF EXISTS grants_thematicarea_audit_insert
;
DROP TRIGGER IF EXISTS grants_thematicarea_audit_update
;
DROP TRIGGER IF EXISTS grants_thematicarea_audit_delete
;
DROP TRIGGER IF EXISTS grants_fundingcategory_audit_insert
;
DROP TRIGGER IF EXISTS grants_fundingcategory_audit_update
;
DROP TRIGGER IF EXISTS grants_fundingcategory_audit_delete
;
DROP TRIGGER IF EXISTS grants_allocation_audit_insert
;
DROP TRIGGER IF EXISTS grants_allocation_audit_update
;
DROP TRIGGER IF EXISTS grants_allocation_audit_delete
;
DROP TRIGGER IF EXISTS grants_ledgerentry_audit_insert
;
DROP TRIGGER IF EXISTS grants_ledgerentry_audit_update
;
DROP TRIGGER IF EXISTS grants_ledgerentry_audit_delete
;
DROP TRIGGER IF EXISTS grants_returnsubmission_audit_insert
;
DROP TRIGGER IF EXISTS grants_returnsubmission_audit_update
;
DROP TRIGGER IF EXISTS grants_returnsubmission_audit_delete
;
DROP TRIGGER IF EXISTS grants_auditevent_refuse_change
;
