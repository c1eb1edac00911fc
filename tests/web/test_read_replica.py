"""Reports and exports read from the read replica when one is configured; pages and every
write stay on the primary. Here the "replica" is a second connection to the same PostgreSQL
test database (what a streaming replica serves), so that each query can be seen where it runs."""

import pytest
from django.db import connections
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.models import ActionState
from tests.world import action_in, build_world


@pytest.fixture
def replica(settings, committed_db, postgres_only):
    conf = dict(connections["default"].settings_dict)
    settings.DATABASES = {**settings.DATABASES, "replica": conf}  # what the router looks for
    replica = load_backend(conf["ENGINE"]).DatabaseWrapper(conf, "replica")
    connections["replica"] = replica  # a connection of its own, as to a real replica
    yield replica
    replica.close()
    del connections["replica"]


def _reads(queries, table: str) -> int:
    return sum(1 for q in queries if q["sql"].startswith("SELECT") and table in q["sql"])


@pytest.mark.parametrize(
    "name, table",
    [
        ("coordo:funding-export", "funding_fundingrequest"),
        ("coordo:audit-export-csv", "workflows_auditevent"),
        ("coordo:annual-report-xlsx", "projects_action"),
    ],
)
def test_exports_read_from_the_replica_pages_from_the_primary(client, replica, name, table):
    world = build_world()
    action_in(world, ActionState.FUNDING)
    client.force_login(world.coordinator)
    pk = world.programme.pk
    url = reverse(name, args=[pk, 2026] if "report" in name else [pk])
    if name == "coordo:audit-export-csv":
        url += "?du=2000-01-01&au=2100-01-01"
    with CaptureQueriesContext(replica) as on_replica:
        with CaptureQueriesContext(connections["default"]) as on_primary:
            response = client.get(url)
            body = b"".join(response.streaming_content)
    assert response.status_code == 200 and body
    assert _reads(on_replica.captured_queries, table) > 0
    assert _reads(on_primary.captured_queries, table) == 0

    with CaptureQueriesContext(replica) as on_replica:
        assert client.get(reverse("coordo:funding", args=[pk])).status_code == 200
    assert on_replica.captured_queries == []
