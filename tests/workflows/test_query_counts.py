"""Each main page runs the same number of SQL queries with 10 and with 500 fiches."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.models import ActionState
from tests.world import action_in, new_action


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("viewer", ["coordinator", "copil"])
def test_pages_query_counts_with_10_and_500_fiches(client, world, viewer):
    detail = action_in(world, ActionState.COPIL_REVIEW)
    for _ in range(9):
        new_action(world)
    client.force_login(getattr(world, viewer))
    urls = {
        "list": reverse("coordo:programme", args=[world.programme.pk]),
        "all fiches": reverse("coordo:actions") + "?q=a",
        "filtered list": reverse("coordo:programme", args=[world.programme.pk])
        + "?etat=draft&retard=1",
        "detail": reverse("coordo:action", args=[detail.pk]),
        "inbox": reverse("coordo:inbox"),
        "home": reverse("coordo:home"),
    }
    with_10 = {name: _count(client, url) for name, url in urls.items()}
    for _ in range(490):
        new_action(world)
    with_500 = {name: _count(client, url) for name, url in urls.items()}
    assert with_500 == with_10
