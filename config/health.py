"""``/healthz`` for load balancers and monitoring: the database answers, every migration is
applied, the audit trail's last event is readable. 200 with what was checked, or 503 saying
what failed — no personal data, no session needed."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audit.models import AuditEvent

_migrated = False  # once all are applied, this process need not read the migrations again


@never_cache
@require_GET
def healthz(request):
    checks: dict[str, str] = {}
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
        global _migrated
        if not _migrated:
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
            _migrated = not pending
            checks["migrations"] = "ok" if not pending else f"{len(pending)} not applied"
        checks.setdefault("migrations", "ok")
        head = AuditEvent.objects.order_by("-pk").values_list("hash", flat=True).first()
        checks["audit_head"] = head or "empty"
    except Exception as exc:  # noqa: BLE001 - whatever fails is what the balancer must know
        checks["error"] = type(exc).__name__
    healthy = checks.get("migrations") == "ok" and "error" not in checks
    return JsonResponse(
        {"status": "ok" if healthy else "failing", **checks}, status=200 if healthy else 503
    )
