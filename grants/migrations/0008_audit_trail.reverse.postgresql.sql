-- What migration 0008_audit_trail runs when reversed on postgresql: recorded from the code it called when it was
-- written (grants/audit.py, grants/figures.py), so that it never changes with that code.
-- Never edit this file (docs/triggers.md).
;
DROP TRIGGER IF EXISTS grants_funder_audit ON grants_funder
;
DROP TRIGGER IF EXISTS grants_fund_audit ON grants_fund
;
DROP TRIGGER IF EXISTS grants_controltotalrevision_audit ON grants_controltotalrevision
;
DROP TRIGGER IF EXISTS grants_categorybudget_audit ON grants_categorybudget
;
DROP TRIGGER IF EXISTS grants_organisation_audit ON grants_organisation
;
DROP TRIGGER IF EXISTS grants_thematicarea_audit ON grants_thematicarea
;
DROP TRIGGER IF EXISTS grants_fundingcategory_audit ON grants_fundingcategory
;
DROP TRIGGER IF EXISTS grants_allocation_audit ON grants_allocation
;
DROP TRIGGER IF EXISTS grants_ledgerentry_audit ON grants_ledgerentry
;
DROP TRIGGER IF EXISTS grants_returnsubmission_audit ON grants_returnsubmission
;
DROP TRIGGER IF EXISTS grants_auditevent_refuse_change ON grants_auditevent
;
DROP TRIGGER IF EXISTS grants_auditevent_refuse_forgery ON grants_auditevent
;
DROP FUNCTION IF EXISTS grants_refuse_change_to_audit_trail()
;
DROP FUNCTION IF EXISTS grants_audit_row()
;
