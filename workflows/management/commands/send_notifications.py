"""Cron job (every few minutes): write the reminders due, then deliver the outbox."""

from django.core.management.base import BaseCommand

from notifications.sending import send_pending
from workflows.reminders import queue_reminders


class Command(BaseCommand):
    help = "Écrit les rappels dus puis envoie les notifications en attente (cron)."

    def handle(self, *args, **options):
        reminded = queue_reminders()
        result = send_pending()
        self.stdout.write(
            f"Rappels écrits : {reminded} · envoyées : {result.sent} · en échec (nouvel essai "
            f"prévu) : {result.failed} · annulées (plus membres) : {result.cancelled}"
        )
