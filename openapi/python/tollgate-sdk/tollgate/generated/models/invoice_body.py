from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.final_status import FinalStatus
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.invoice_line_body import InvoiceLineBody
  from ..models.price_body import PriceBody
  from ..models.usage_snapshot import UsageSnapshot





T = TypeVar("T", bound="InvoiceBody")



@_attrs_define
class InvoiceBody:
    """ A finalized invoice with its lines.

        Attributes:
            id (str): Id.
            tenant_id (str): The tenant.
            number (int): Per tenant, from 1, without gaps.
            period (str): The period (`YYYY-MM`).
            status (FinalStatus): A finalized invoice's state.
            plan (str): The plan it was rated under.
            currency (str): ISO 4217 code of every amount.
            units (int): Units billed (the period's, plus any recorded late for earlier periods).
            subtotal (int): Minor units before credit.
            credit_applied (int): Prepaid credit used.
            total (int): Minor units owed: `subtotal - credit_applied`, the sum of the lines.
            finalized_at (datetime.datetime): When it was finalized.
            due_at (datetime.datetime): When it is due.
            lines (list[InvoiceLineBody]): Lines, base fee first, credit applied last; their amounts sum to `total`.
            price (PriceBody): A plan's price. Money is integer minor units of `currency`; a line is rounded half to
                even, once. Tier bounds count overage units (those past `included_units`).
            usage (UsageSnapshot): The usage an invoice was rated from.
            paid_at (datetime.datetime | Unset): When it was paid.
            stripe_invoice_id (str | Unset): Stripe's id of it, once synced.
     """

    id: str
    tenant_id: str
    number: int
    period: str
    status: FinalStatus
    plan: str
    currency: str
    units: int
    subtotal: int
    credit_applied: int
    total: int
    finalized_at: datetime.datetime
    due_at: datetime.datetime
    lines: list[InvoiceLineBody]
    price: PriceBody
    usage: UsageSnapshot
    paid_at: datetime.datetime | Unset = UNSET
    stripe_invoice_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.invoice_line_body import InvoiceLineBody # noqa: PLC0415
        from ..models.price_body import PriceBody # noqa: PLC0415
        from ..models.usage_snapshot import UsageSnapshot # noqa: PLC0415
        id = self.id

        tenant_id = self.tenant_id

        number = self.number

        period = self.period

        status = self.status.value

        plan = self.plan

        currency = self.currency

        units = self.units

        subtotal = self.subtotal

        credit_applied = self.credit_applied

        total = self.total

        finalized_at = self.finalized_at.isoformat()

        due_at = self.due_at.isoformat()

        lines = []
        for lines_item_data in self.lines:
            lines_item = lines_item_data.to_dict()
            lines.append(lines_item)



        price = self.price.to_dict()

        usage = self.usage.to_dict()

        paid_at: str | Unset = UNSET
        if not isinstance(self.paid_at, Unset):
            paid_at = self.paid_at.isoformat()

        stripe_invoice_id = self.stripe_invoice_id


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "tenant_id": tenant_id,
            "number": number,
            "period": period,
            "status": status,
            "plan": plan,
            "currency": currency,
            "units": units,
            "subtotal": subtotal,
            "credit_applied": credit_applied,
            "total": total,
            "finalized_at": finalized_at,
            "due_at": due_at,
            "lines": lines,
            "price": price,
            "usage": usage,
        })
        if paid_at is not UNSET:
            field_dict["paid_at"] = paid_at
        if stripe_invoice_id is not UNSET:
            field_dict["stripe_invoice_id"] = stripe_invoice_id

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.invoice_line_body import InvoiceLineBody # noqa: PLC0415
        from ..models.price_body import PriceBody # noqa: PLC0415
        from ..models.usage_snapshot import UsageSnapshot # noqa: PLC0415
        d = dict(src_dict)
        id = d.pop("id")

        tenant_id = d.pop("tenant_id")

        number = d.pop("number")

        period = d.pop("period")

        status = FinalStatus(d.pop("status"))




        plan = d.pop("plan")

        currency = d.pop("currency")

        units = d.pop("units")

        subtotal = d.pop("subtotal")

        credit_applied = d.pop("credit_applied")

        total = d.pop("total")

        finalized_at = datetime.datetime.fromisoformat(d.pop("finalized_at"))




        due_at = datetime.datetime.fromisoformat(d.pop("due_at"))




        lines = []
        _lines = d.pop("lines")
        for lines_item_data in (_lines):
            lines_item = InvoiceLineBody.from_dict(lines_item_data)



            lines.append(lines_item)


        price = PriceBody.from_dict(d.pop("price"))




        usage = UsageSnapshot.from_dict(d.pop("usage"))




        _paid_at = d.pop("paid_at", UNSET)
        paid_at: datetime.datetime | Unset
        if isinstance(_paid_at,  Unset):
            paid_at = UNSET
        else:
            paid_at = datetime.datetime.fromisoformat(_paid_at)




        stripe_invoice_id = d.pop("stripe_invoice_id", UNSET)

        invoice_body = cls(
            id=id,
            tenant_id=tenant_id,
            number=number,
            period=period,
            status=status,
            plan=plan,
            currency=currency,
            units=units,
            subtotal=subtotal,
            credit_applied=credit_applied,
            total=total,
            finalized_at=finalized_at,
            due_at=due_at,
            lines=lines,
            price=price,
            usage=usage,
            paid_at=paid_at,
            stripe_invoice_id=stripe_invoice_id,
        )


        invoice_body.additional_properties = d
        return invoice_body

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
