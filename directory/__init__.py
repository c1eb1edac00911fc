"""The partner directory: the people to reach in each partner organisation (contacts) and the
organisations a programme's coordination adds to its directory beyond those its memberships,
signatures, fiches and funding already name. Contacts are personal data: professional details
only, erased on request; nothing of them enters the audit trail (``workflows.services.directory``
writes a contact's number, never its name or details). Models only: changes go through the
services, reads of a whole programme's directory live in ``reporting.directory``."""
