"""The outbox: every message Coordo sends is a row written in the transaction of the change
that causes it, delivered afterwards by a sender (immediately, or grouped in a daily digest),
and listed in the recipient's notifications page."""
