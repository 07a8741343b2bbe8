"""integrated-payments bank slips: Validate, Pay (idempotent), the clock-driven lifecycle, receipts,
and their admin helpers; ``boleto.py`` is the FEBRABAN codec."""
