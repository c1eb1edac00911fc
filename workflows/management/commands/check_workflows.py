from django.core.management.base import BaseCommand, CommandError

from projects.models import ActionState
from workflows.flows import STAGES, disagreements


class Command(BaseCommand):
    help = (
        "Vérifie que la tâche ouverte de chaque fiche action correspond à son état. "
        "Code de sortie 0 si tout concorde, 1 en listant les fiches en désaccord."
    )

    def handle(self, *args, **options):
        found = disagreements()
        labels = dict(ActionState.choices)
        for d in found:
            expected = STAGES[d.expected].label if d.expected else "aucune tâche"
            self.stderr.write(
                f"Fiche n°{d.action_id} « {labels.get(d.state, d.state)} » : attendu "
                f"{expected} ; trouvé {', '.join(d.found) or 'aucune tâche'}"
            )
        if found:
            raise CommandError(f"{len(found)} fiche(s) en désaccord avec leur processus.")
        self.stdout.write("Toutes les fiches actions concordent avec leur processus.")
