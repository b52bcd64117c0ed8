from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.invoice_status import InvoiceStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.invoice_line_body import InvoiceLineBody
  from ..models.price_body import PriceBody





T = TypeVar("T", bound="UpcomingInvoice")



@_attrs_define
class UpcomingInvoice:
    """ The current period's draft invoice.

        Attributes:
            period (str): The period (`YYYY-MM`).
            status (InvoiceStatus): An invoice's state.
            plan (str): The tenant's plan.
            currency (str): ISO 4217 code of every amount.
            units (int): Units recorded in the period so far.
            lines (list[InvoiceLineBody]): Lines, base fee first, credit applied last; their amounts sum to `total`.
            subtotal (int): Minor units before credit: the sum of every line but the credit.
            credit_applied (int): Prepaid credit it would use now (at most the subtotal).
            total (int): Minor units owed: `subtotal - credit_applied`.
            price (PriceBody): A plan's price. Money is integer minor units of `currency`; a line is rounded half to
                even, once. Tier bounds count overage units (those past `included_units`).
     """

    period: str
    status: InvoiceStatus
    plan: str
    currency: str
    units: int
    lines: list[InvoiceLineBody]
    subtotal: int
    credit_applied: int
    total: int
    price: PriceBody
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.invoice_line_body import InvoiceLineBody # noqa: PLC0415
        from ..models.price_body import PriceBody # noqa: PLC0415
        period = self.period

        status = self.status.value

        plan = self.plan

        currency = self.currency

        units = self.units

        lines = []
        for lines_item_data in self.lines:
            lines_item = lines_item_data.to_dict()
            lines.append(lines_item)



        subtotal = self.subtotal

        credit_applied = self.credit_applied

        total = self.total

        price = self.price.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "period": period,
            "status": status,
            "plan": plan,
            "currency": currency,
            "units": units,
            "lines": lines,
            "subtotal": subtotal,
            "credit_applied": credit_applied,
            "total": total,
            "price": price,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.invoice_line_body import InvoiceLineBody # noqa: PLC0415
        from ..models.price_body import PriceBody # noqa: PLC0415
        d = dict(src_dict)
        period = d.pop("period")

        status = InvoiceStatus(d.pop("status"))




        plan = d.pop("plan")

        currency = d.pop("currency")

        units = d.pop("units")

        lines = []
        _lines = d.pop("lines")
        for lines_item_data in (_lines):
            lines_item = InvoiceLineBody.from_dict(lines_item_data)



            lines.append(lines_item)


        subtotal = d.pop("subtotal")

        credit_applied = d.pop("credit_applied")

        total = d.pop("total")

        price = PriceBody.from_dict(d.pop("price"))




        upcoming_invoice = cls(
            period=period,
            status=status,
            plan=plan,
            currency=currency,
            units=units,
            lines=lines,
            subtotal=subtotal,
            credit_applied=credit_applied,
            total=total,
            price=price,
        )


        upcoming_invoice.additional_properties = d
        return upcoming_invoice

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
