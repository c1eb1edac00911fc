"""Coordo's REST API (``/api/v1/``): the same data and the same rules as the pages. Reads
are filtered by the memberships (404 for what a person cannot see); every write goes through
``workflows.services`` (never around them), and a refusal answers with its rule as a stable
code. Authentication: the browser session, or a personal token (hashed, revocable,
optionally read-only and expiring)."""
