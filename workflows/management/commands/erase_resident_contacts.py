"""Erase the residents' contacts whose retention period has ended (run daily from cron)."""

from django.core.management.base import BaseCommand

from workflows import services


class Command(BaseCommand):
    help = (
        "Efface les courriels laissés par les habitant·es dont la durée de conservation est "
        "écoulée (à lancer chaque jour) et affiche combien ont été effacés."
    )

    def handle(self, *args, **options):
        erased = services.erase_expired_contacts()
        self.stdout.write(f"{erased} contact(s) d'habitant·es effacé(s).")
