"""Demo data: the fictional Val-de-Lys territory (``territory``: its organisations, people,
programmes and fiches), brought to life through the services (``fiches``) by ``seed_demo``."""
