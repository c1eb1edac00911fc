"""The audit trail: what the ARS receives.

An append-only, hash-chained store of events (``models``, ``chain``), guarded by database
triggers (``db_guards``), read in people's words (``labels``), verified (``verify_audit``) and
exported (``export``). It knows the domain's models only to label them; it never changes them.
"""
