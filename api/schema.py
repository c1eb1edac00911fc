"""The OpenAPI schema's shared parts: every operation documents the errors it may answer
(``{"code", "message", "errors"}``), the way clients and schemathesis read them."""

from __future__ import annotations

ERROR = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["code", "message", "errors"],
}
ERRORS = {
    "400": "Données invalides (code `invalid` ou `comment`).",
    "401": "Non authentifié, jeton inconnu, révoqué ou expiré.",
    "403": "Vous voyez l'objet mais n'avez pas ce droit (code `role`, `separation`).",
    "404": "Introuvable, ou hors de vos dispositifs.",
    "409": "Version dépassée, course perdue, état ou condition (`already_moved`, `state`, "
    "`guard`).",
    "429": "Trop de requêtes pour ce jeton : réessayez après `Retry-After` secondes.",
}


def add_errors(result, generator, request, public):
    """Postprocessing hook of drf-spectacular: the error responses on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                responses.setdefault(code, {"description": description, "content": reference})
    return result
