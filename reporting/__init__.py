"""Figures of a programme for its governance and the ARS: the dashboard, the annual report and
their workbook, the funding follow-up workbook. Read-only: nothing here changes data."""
