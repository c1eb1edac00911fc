from django.core.management.base import BaseCommand, CommandError

from projects.models import ActionState
from workflows.flows import STAGES, disagreements, funder_disagreements


class Command(BaseCommand):
    help = (
        "Vérifie que la tâche ouverte de chaque fiche action correspond à son état, et que "
        "chaque demande de financement déposée attend la décision de son financeur. "
        "Code de sortie 0 si tout concorde, 1 en listant les désaccords."
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
        missing, stale = funder_disagreements()
        for request_id in missing:
            self.stderr.write(
                f"Demande de financement n°{request_id} déposée : aucune tâche de décision "
                "pour son financeur"
            )
        for request_id in stale:
            self.stderr.write(
                f"Demande de financement n°{request_id} : tâche de décision ouverte alors que "
                "la demande n'attend plus de décision"
            )
        total = len(found) + len(missing) + len(stale)
        if total:
            raise CommandError(f"{total} désaccord(s) entre les états et les processus.")
        self.stdout.write(
            "Toutes les fiches actions et les demandes de financement concordent avec leurs "
            "processus."
        )
