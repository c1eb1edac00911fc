"""Import of existing fiches actions and their funding from a workbook: the page, the upload
and the template to download. The programme's coordinators only (403 for its other members,
404 outside it)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from importer.archive import MAX_FILE_BYTES, MAX_ROWS, FileRefused
from importer.reader import read_workbook
from importer.template import template_filename, write_template
from projects.models import Programme
from projects.permissions import get_visible_programme
from spreadsheet import xlsx_response
from uploads import SizeLimit
from workflows import services
from workflows.services.imports import ImportRefused, import_workbook

from ..pages import client_ip

ERRORS_SHOWN = 1000  # a file with more errors than this is listed in part (the total is given)
# Objects written by one upload: each costs ~15 ms through the services (about 15 s here), and
# the programme's audit chain stays locked meanwhile. Bigger files go through the command.
WEB_MAX_OBJECTS = 1000


def _coordinated_programme(request: HttpRequest, pk: int) -> Programme:
    programme = get_visible_programme(request.user, pk)  # 404 outside the programme
    refusal = services.IMPORT.refusal(request.user, programme)
    if refusal:
        raise PermissionDenied(refusal.message)
    return programme


@csrf_exempt  # the CSRF check runs in ``_import_page``, once the upload handlers are set
@login_required
def import_page(request: HttpRequest, pk: int) -> HttpResponse:
    limit = SizeLimit(request, limit=MAX_FILE_BYTES)
    if request.method == "POST":
        request.upload_handlers.insert(0, limit)
    return _import_page(request, pk, limit)


@csrf_protect
def _import_page(request: HttpRequest, pk: int, limit: SizeLimit) -> HttpResponse:
    programme = _coordinated_programme(request, pk)
    errors, file_error = [], ""
    if request.method == "POST":
        upload = request.FILES.get("fichier")
        if limit.too_large or (upload is not None and upload.size > MAX_FILE_BYTES):
            file_error = _("Le fichier dépasse la limite de {limit} Mo : il est refusé.").format(
                limit=MAX_FILE_BYTES // (1024 * 1024)
            )
        elif upload is None:
            file_error = _("Choisissez le classeur (.xlsx) à importer.")
        else:
            try:
                parsed = read_workbook(upload, size=upload.size, programme=programme)
                size = len(parsed.actions) + len(parsed.budget_lines) + len(parsed.requests)
                if parsed.errors:
                    errors = parsed.errors
                elif size > WEB_MAX_OBJECTS:
                    file_error = _(
                        "Le classeur est correct mais contient {n} fiches, lignes budgétaires et "
                        "demandes : la page en importe au plus {max} à la fois. Découpez-le en "
                        "plusieurs classeurs, ou demandez à l'administrateur de l'importer avec "
                        "la commande « import_workbook ». Rien n'a été importé."
                    ).format(n=size, max=WEB_MAX_OBJECTS)
                else:
                    summary = import_workbook(
                        programme=programme,
                        actor=request.user,
                        parsed=parsed,
                        filename=upload.name[:200],
                        ip=client_ip(request),
                    )
            except FileRefused as exc:
                file_error = exc.message
            except ImportRefused as exc:
                errors = exc.errors
            except services.Refused as exc:  # the role, checked again in the transaction
                raise PermissionDenied(exc.message) from exc
            else:
                if not errors and not file_error:
                    messages.success(
                        request, _("Import terminé : {counts}.").format(counts=summary.counts())
                    )
                    return redirect("coordo:programme", pk=programme.pk)
    return render(
        request,
        "coordo/import.html",
        {
            "programme": programme,
            "errors": errors[:ERRORS_SHOWN],
            "errors_total": len(errors),
            "file_error": file_error,
            "max_megabytes": MAX_FILE_BYTES // (1024 * 1024),
            "max_rows": MAX_ROWS,
        },
        status=400 if errors or file_error else 200,
    )


@login_required
def import_template(request: HttpRequest, pk: int) -> FileResponse:
    """The workbook to fill: French headers, an example row per sheet, the explanations and the
    programme's lists (objectives, organisations, working groups)."""
    programme = _coordinated_programme(request, pk)
    return xlsx_response(
        lambda out: write_template(programme=programme, out=out),
        template_filename(programme.name),
    )
