"""intl-bankaccounts: Brazilian bank accounts of Pismo accounts (register, read back, remove)."""
