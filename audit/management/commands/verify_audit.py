from django.core.management.base import BaseCommand, CommandError

from audit.chain import verify_chain
from projects.models import Programme


class Command(BaseCommand):
    help = (
        "Vérifie la chaîne d'empreintes du journal d'audit (tous les dispositifs, ou un seul). "
        "Code de sortie 0 si elle est intacte, 1 en nommant le premier événement rompu."
    )

    def add_arguments(self, parser):
        parser.add_argument("--programme", type=int, help="identifiant du dispositif")

    def handle(self, *args, programme=None, **options):
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
        if broken:
            raise CommandError(f"{broken} chaîne(s) d'audit rompue(s).", returncode=1)
