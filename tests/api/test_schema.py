"""Schemathesis against the live OpenAPI schema, in process: for every operation, 50
generated requests (valid and invalid) as several roles — no server error, and every answer
(status, content type, body) as the schema documents it."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from config.wsgi import application
from projects.models import ActionState
from tests.api.conftest import token_for
from tests.world import action_in, build_world

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


# The schema the application serves (generating it reads no data).
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)


@pytest.fixture
def in_process(db):
    """As Django's test client does: a request must not close the test's database
    connection (it holds the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def populated(db, settings):
    """A programme with fiches at several stages, its people, one token per role."""
    settings.API_RATE = "1000000/hour"
    world = build_world()
    for state in (ActionState.DRAFT, ActionState.COPIL_REVIEW, ActionState.FUNDING):
        action_in(world, state)
    return world


ROLES = ("coordinator", "action_lead", "funder", "ars_referent")


@pytest.fixture
def bearers(populated, in_process) -> list[dict]:
    """One token per role: each generated request is sent as each of them."""
    return [{"Authorization": f"Bearer {token_for(getattr(populated, role))}"} for role in ROLES]


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_as_the_schema_says(case, bearers):
    for headers in bearers:
        case.call_and_validate(headers=headers, checks=CHECKS)
