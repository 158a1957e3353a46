"""The audit trail: who changed what, when, from what to what, and why.

The database records every change to an audited table in `grants_auditevent` by a trigger, in the
same transaction as the change; this app says which tables (`tables`), holds the event model
(`models`), tells the triggers who acts and why (`context`), writes the triggers' SQL (`triggers`)
and shows the events in the admin (`admin`) and on the fund's and allocation's history pages
(`views`). How it works on each database: docs/triggers.md, "The audit trail".
"""
