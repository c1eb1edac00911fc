"""Import of existing fiches actions, budget lines and funding requests from a workbook:
the template to fill (``template``), the file's safety bounds (``archive``), reading its cells
(``cells``) and the whole file (``reader``). Nothing here writes: the import service
(``workflows.services.imports``) creates the rows through the ordinary services."""
