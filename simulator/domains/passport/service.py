"""Server login: check the tenant's server credentials and issue a tenant or account token."""

from __future__ import annotations

from pismo_sandbox.domains.passport import errors
from pismo_sandbox.domains.passport.schemas import ROLES, ServerLogin
from pismo_sandbox.domains.tenancy.service import TenancyService
from pismo_sandbox.tokens import IssuedToken, Tokens


class PassportService:
    def __init__(self, tenancy: TenancyService, tokens: Tokens):
        self.tenancy = tenancy
        self.tokens = tokens

    def server_login(self, login: ServerLogin) -> tuple[dict, IssuedToken]:
        if not login.server_secret:
            raise errors.MissingSecret(details="server_secret: is required")
        tenant = self.tenancy.authenticate_server(login.server_key, login.server_secret)
        if login.account_id is not None and self.tenancy.find_account(tenant["tenant_id"], login.account_id) is None:
            raise errors.UnknownAccount(details=f"account {login.account_id} is not in this tenant")
        issued = self.tokens.issue(tenant["tenant_id"], login.account_id, roles=ROLES)
        return tenant, issued
