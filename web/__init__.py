"""The web layer: pages (``views``), their forms and filters, the frontend and its menu, the
template tags and the admin. It reads through selectors and querysets and changes nothing
itself: every write goes to ``workflows.services``, whose predicates decide what a page offers.
"""
