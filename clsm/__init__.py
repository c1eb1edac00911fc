"""The CLSM's own work, beside its fiches: the resource unit for complex situations (its
sessions, as anonymous counts only — ``anonymity`` refuses what looks like a person), the
trainings and awareness events (PSSM, SISM…), and the observation of mental health in the
territory (indicators followed over the years). Models and pure rules only: changes go
through ``workflows.services.clsm``."""
