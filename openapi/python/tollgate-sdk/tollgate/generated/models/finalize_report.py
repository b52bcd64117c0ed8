from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.finalize_failure import FinalizeFailure
  from ..models.invoice_summary import InvoiceSummary





T = TypeVar("T", bound="FinalizeReport")



@_attrs_define
class FinalizeReport:
    """ What finalizing a period did.

        Attributes:
            period (str): The period.
            finalized (list[InvoiceSummary]): Invoices written now.
            already (int): Tenants whose invoice was written before (nothing changed).
            not_billed (int): Tenants whose plan had no price in the period (nothing billed).
            failed (list[FinalizeFailure]): Tenants that could not be finalized (the others were).
     """

    period: str
    finalized: list[InvoiceSummary]
    already: int
    not_billed: int
    failed: list[FinalizeFailure]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.finalize_failure import FinalizeFailure # noqa: PLC0415
        from ..models.invoice_summary import InvoiceSummary # noqa: PLC0415
        period = self.period

        finalized = []
        for finalized_item_data in self.finalized:
            finalized_item = finalized_item_data.to_dict()
            finalized.append(finalized_item)



        already = self.already

        not_billed = self.not_billed

        failed = []
        for failed_item_data in self.failed:
            failed_item = failed_item_data.to_dict()
            failed.append(failed_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "period": period,
            "finalized": finalized,
            "already": already,
            "not_billed": not_billed,
            "failed": failed,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.finalize_failure import FinalizeFailure # noqa: PLC0415
        from ..models.invoice_summary import InvoiceSummary # noqa: PLC0415
        d = dict(src_dict)
        period = d.pop("period")

        finalized = []
        _finalized = d.pop("finalized")
        for finalized_item_data in (_finalized):
            finalized_item = InvoiceSummary.from_dict(finalized_item_data)



            finalized.append(finalized_item)


        already = d.pop("already")

        not_billed = d.pop("not_billed")

        failed = []
        _failed = d.pop("failed")
        for failed_item_data in (_failed):
            failed_item = FinalizeFailure.from_dict(failed_item_data)



            failed.append(failed_item)


        finalize_report = cls(
            period=period,
            finalized=finalized,
            already=already,
            not_billed=not_billed,
            failed=failed,
        )


        finalize_report.additional_properties = d
        return finalize_report

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
