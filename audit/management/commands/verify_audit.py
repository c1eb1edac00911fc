from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit import witness as _witness
from audit.chain import verify_chain
from projects.models import Programme


class Command(BaseCommand):
    help = (
        "Vérifie la chaîne d'empreintes du journal d'audit (tous les dispositifs, ou un seul). "
        "Code de sortie 0 si elle est intacte, 1 en nommant le premier événement rompu. "
        "Avec --witness FICHIER : vérifie aussi que la base contient encore la tête de chaque "
        "chaîne vue par ce témoin, puis y ajoute les têtes du jour."
    )

    def add_arguments(self, parser):
        parser.add_argument("--programme", type=int, help="identifiant du dispositif")
        parser.add_argument(
            "--witness",
            type=Path,
            help="fichier témoin des têtes de chaîne, à garder hors de la machine de la base",
        )

    def handle(self, *args, programme=None, witness=None, **options):
        programmes = Programme.objects.order_by("pk")
        if programme is not None:
            programmes = programmes.filter(pk=programme)
            if not programmes.exists():
                raise CommandError(f"Aucun dispositif n°{programme}.")
        broken = 0
        for prog in programmes:
            report = verify_chain(programme_id=prog.pk)
            if report.ok:
                self.stdout.write(
                    f"OK   {prog} (n°{prog.pk}) : {report.events} événements, "
                    f"dernière empreinte {report.last_hash}"
                )
            else:
                broken += 1
                self.stderr.write(
                    f"ROMPU {prog} (n°{prog.pk}) : premier événement rompu "
                    f"id={report.broken_event_id} "
                    f"(n° {report.broken_seq} de la chaîne) — {report.reason}"
                )
        if witness is not None:
            for problem in _witness.missing(witness):
                broken += 1
                self.stderr.write(f"TÉMOIN {problem}")
        if broken:
            raise CommandError(f"{broken} chaîne(s) d'audit rompue(s).", returncode=1)
        if witness is not None:
            count = _witness.publish(witness)
            self.stdout.write(f"Têtes de {count} chaîne(s) ajoutées au témoin {witness}")
