"""Reminders written by the cron job before it sends the outbox: open tasks due within the
programme's ``reminder_days`` (once per task), and funders' payments expected soon or late
(once each). Overdue tasks are told by the escalation timer (``workflow_timers``)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from viewflow.workflow.models import Task

from funding.models import Tranche
from notifications.models import Notification
from projects.models import Programme

from . import flows, notices


def _flow_of(task: Task):
    return task.flow_task.flow_class.instance


@transaction.atomic
def queue_reminders(today: datetime.date | None = None) -> int:
    """Write the reminders due today; returns how many tasks and payments were reminded."""
    today = today or timezone.localdate()
    count = 0
    days = dict(Programme.objects.values_list("pk", "reminder_days"))
    open_tasks = (
        Task.objects.filter(status__in=flows.OPEN, data__has_key="due")
        .exclude(data__has_key="reminded")
        .select_related("process")
    )
    for task in open_tasks.iterator(chunk_size=500):
        due = datetime.date.fromisoformat(task.data["due"])
        if due < today:
            continue  # overdue: the escalation says so
        notice = _flow_of(task).notice(task)
        if (due - today).days > days.get(notice["programme"].pk, 7):
            continue
        notices.task_reminder(**notice, due=due, key=f"reminder:{task.pk}")
        task.data = {**task.data, "reminded": today.isoformat()}
        task.save(update_fields=["data"])
        count += 1
    told = set(
        Notification.objects.filter(key__startswith="payment-").values_list("key", flat=True)
    )
    for programme_id, ahead in days.items():
        expected = Tranche.objects.filter(
            request__action__programme_id=programme_id,
            received_date__isnull=True,
            expected_date__lte=today + datetime.timedelta(days=ahead),
        ).select_related("request__action__programme", "request__funder")
        for tranche in expected:
            late = tranche.expected_date < today
            if f"payment-{'late' if late else 'due'}:{tranche.pk}" in told:
                continue
            notices.payment_due(tranche, late=late)
            count += 1
    return count
