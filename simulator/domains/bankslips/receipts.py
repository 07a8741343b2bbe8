"""List bank slip receipts: the account's payments, filtered and paged by cursor. No Flask here."""

from __future__ import annotations

from datetime import datetime

from pismo_sandbox.clock import isoformat, parse_instant
from pismo_sandbox.domains.bankslips import errors, providers
from pismo_sandbox.domains.bankslips.lifecycle import due_datetime
from pismo_sandbox.domains.bankslips.repository import ReceiptsFilter
from pismo_sandbox.domains.bankslips.schemas import ReceiptsQuery
from pismo_sandbox.tokens import Principal
from pismo_sandbox.domains.bankslips.rules import CURSOR_SEPARATOR, SlipRules, as_money, control_number


class ListReceipts(SlipRules):
    # -- List bank slip receipts -----------------------------------------------------------------
    def receipts(self, principal: Principal, query: ReceiptsQuery) -> dict:
        self.lifecycle.progress()
        begin = self._instant(query.begin, "beginDatetime")
        end = self._instant(query.end, "endDatetime")
        if begin and end and begin > end:
            raise errors.ValidationFailed(details="beginDatetime: must not be after endDatetime")
        rows = self.repo.receipts(
            ReceiptsFilter(
                tenant_id=principal.tenant_id,
                account_id=principal.required_account_id,
                limit=query.per_page + 1,
                descending=query.order.lower() != "asc",
                authorization_id=query.authorization_id,
                begin=begin,
                end=end,
                after=self._cursor(query.cursor),
            )
        )
        page = rows[: query.per_page]
        body: dict = {"items": [self._receipt(row) for row in page], "per_page": query.per_page}
        if len(rows) > query.per_page:
            last = page[-1]
            body["last_evaluated_payment_datetime"] = (
                f"{last['payment_at']}{CURSOR_SEPARATOR}{last['authorization_id']}"
            )
        return body

    @staticmethod
    def _instant(value: object, name: str) -> str | None:
        if value is None:
            return None
        try:
            return isoformat(parse_instant(value if isinstance(value, datetime) else str(value)))
        except ValueError:
            raise errors.ValidationFailed(details=f"{name}: must be an RFC 3339 date-time") from None

    @classmethod
    def _cursor(cls, text: str | None) -> tuple[str, int | None] | None:
        if not text:
            return None
        moment, _, last_id = text.partition(CURSOR_SEPARATOR)
        try:
            return (isoformat(parse_instant(moment)), int(last_id) if last_id else None)
        except ValueError:
            raise errors.ValidationFailed(
                details="lastEvaluatedPaymentDatetimeQuery: must be the last_evaluated_payment_datetime"
                " of a previous page (or an RFC 3339 date-time)"
            ) from None

    @staticmethod
    def _receipt(row: dict) -> dict:
        receipt = {
            "authorization_id": row["authorization_id"],
            "account_id": row["account_id"],
            "status": row["status"],
            "type": row["type"],
            "amount": as_money(row["amount"]),
        }
        for name in ("original_amount", "fine", "interest", "discount"):
            if row[name] is not None:
                receipt[name] = as_money(row[name])
        receipt.update(
            {
                "currency_code": "BRL",
                "bar_code": row["bar_code"],
                "digitable_line": row["digitable_line"],
            }
        )
        if row["due_date"]:
            receipt["due_datetime"] = due_datetime(row["due_date"])
        receipt.update(
            {
                "payment_datetime": row["payment_at"],
                "update_datetime": row["updated_at"],
                "beneficiary": {
                    "name": row["beneficiary_name"],
                    "document": row["beneficiary_document"],
                    "document_type": row["beneficiary_document_type"],
                },
                "provider_id": row["provider_id"],
                "settlement_partner": providers.PROVIDERS[row["provider"]].settlement_partner,
                "additional_info": f"NumCtrl = {control_number(row)}",
            }
        )
        return receipt
