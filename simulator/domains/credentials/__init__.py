"""banking-auth: provider credentials (POST /banking-auth/v1/credentials)."""
