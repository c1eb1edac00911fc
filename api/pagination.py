"""Pages of 50 (``?taille=`` up to 200); the audit trail by cursor, oldest first."""

from rest_framework import pagination


class Page(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "taille"
    max_page_size = 200


class AuditCursor(pagination.CursorPagination):
    ordering = "seq"
    page_size = 200
