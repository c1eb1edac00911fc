from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from importer.archive import FileRefused
from importer.reader import read_workbook
from projects.models import Programme
from workflows.services import ImportRefused, Refused, import_workbook


class Command(BaseCommand):
    help = (
        "Importe un classeur de fiches actions et de financements (le modèle de la page "
        "« Importer ») dans un dispositif, au nom d'un·e coordonnateur·rice. Pour les gros "
        "classeurs que la page refuse ; mêmes contrôles, même journal d'audit, tout ou rien."
    )

    def add_arguments(self, parser):
        parser.add_argument("fichier", type=Path, help="le classeur .xlsx")
        parser.add_argument("--dispositif", type=int, required=True, help="n° du dispositif")
        parser.add_argument("--utilisateur", required=True, help="identifiant du coordonnateur")

    def handle(self, *args, fichier: Path, dispositif: int, utilisateur: str, **options):
        try:
            programme = Programme.objects.get(pk=dispositif)
            actor = get_user_model().objects.get(username=utilisateur)
        except (Programme.DoesNotExist, get_user_model().DoesNotExist) as exc:
            raise CommandError(f"Introuvable : {exc}") from exc
        if not fichier.is_file():
            raise CommandError(f"Fichier introuvable : {fichier}")
        with fichier.open("rb") as file:
            try:
                parsed = read_workbook(file, size=fichier.stat().st_size, programme=programme)
                errors = parsed.errors
                if not errors:
                    summary = import_workbook(
                        programme=programme, actor=actor, parsed=parsed, filename=fichier.name
                    )
            except FileRefused as exc:
                raise CommandError(exc.message) from exc
            except ImportRefused as exc:
                errors = exc.errors
            except Refused as exc:
                raise CommandError(exc.message) from exc
        for e in errors:
            where = " · ".join(str(part) for part in (e.sheet, e.row, e.column, e.header) if part)
            self.stderr.write(f"{where} : {e.message}")
        if errors:
            raise CommandError(f"{len(errors)} erreur(s) : rien n'a été importé.")
        self.stdout.write(
            f"Import terminé : {summary.actions} fiche(s), {summary.budget_lines} ligne(s) "
            f"budgétaire(s), {summary.funding_requests} demande(s) de financement."
        )
