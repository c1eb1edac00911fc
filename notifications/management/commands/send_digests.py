"""Cron job (once a day): one e-mail per person grouping what they chose to read as a digest."""

from django.core.management.base import BaseCommand

from notifications.sending import send_digests


class Command(BaseCommand):
    help = "Envoie le résumé quotidien des notifications (cron, une fois par jour)."

    def handle(self, *args, **options):
        result = send_digests()
        self.stdout.write(
            f"Résumés envoyés : {result.sent} · en échec : {result.failed} · notifications "
            f"annulées (plus membres) : {result.cancelled}"
        )
