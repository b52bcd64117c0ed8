"""localstripe (PyPI, pinned in requirements.txt) with the parts of Stripe's documented
invoice API that Tollgate's relay uses and localstripe 1.15 lacks. localstripe itself is not
changed; this wraps it, for Tollgate's tests only:

- POST /v1/invoices accepts `pending_invoice_items_behavior` (`include` | `exclude`: whether
  the customer's pending items are swept in), `auto_advance`, `collection_method`
  (`charge_automatically` | `send_invoice`), `days_until_due`, `due_date` and `currency`.
- POST /v1/invoiceitems with `invoice=in_…` adds the item to that draft invoice's lines
  (localstripe records the field but leaves the invoice's lines and total as they were).
- POST /v1/invoices/{id}/finalize moves a draft invoice to `open`, as Stripe does.
- POST /v1/invoices/{id}/pay with `paid_out_of_band=true` marks an open invoice paid without
  charging anyone.

Like localstripe, it ignores `Idempotency-Key`.

    python localstripe_shim.py --port PORT --from-scratch
"""

from localstripe import resources as r
from localstripe.errors import UserError

_invoice_create = r.Invoice.__dict__["_api_create"].__func__
_item_init = r.InvoiceItem.__init__
_list_items = r.InvoiceItem.__dict__["_api_list_all"]


def _no_pending(cls, url, **kwargs):
    li = r.List(url)
    li._list = []
    return li


def invoice_create(cls, customer=None, subscription=None, description=None,
                   metadata=None, pending_invoice_items_behavior=None,
                   auto_advance=None, collection_method=None, days_until_due=None,
                   due_date=None, currency=None, **kwargs):
    """A one-off invoice, as Stripe makes it (localstripe only makes subscription ones)."""
    if subscription is not None:
        return _invoice_create(cls, customer=customer, subscription=subscription,
                               description=description, metadata=metadata,
                               pending_invoice_items_behavior=pending_invoice_items_behavior,
                               **kwargs)
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    if pending_invoice_items_behavior not in (None, "include", "exclude"):
        raise UserError(400, "Bad request: pending_invoice_items_behavior")
    if collection_method not in (None, "charge_automatically", "send_invoice"):
        raise UserError(400, "Bad request: collection_method")
    if days_until_due is not None and not str(days_until_due).isdigit():
        raise UserError(400, "Bad request: days_until_due")
    if due_date is not None and not str(due_date).isdigit():
        raise UserError(400, "Bad request: due_date")
    # Stripe's default since API version 2022-08-01 is `exclude`.
    exclude = pending_invoice_items_behavior != "include"
    if exclude:
        r.InvoiceItem._api_list_all = classmethod(_no_pending)
    try:
        obj = cls(customer=customer, description=description, metadata=metadata)
    finally:
        if exclude:
            r.InvoiceItem._api_list_all = _list_items
    if collection_method is not None:
        obj.collection_method = collection_method
    if days_until_due is not None:
        obj.days_until_due = int(days_until_due)
    if due_date is not None:
        obj.due_date = int(due_date)
    if currency is not None and not obj.lines._list:
        obj.currency = currency.lower()
    return obj


def item_init(self, invoice=None, **kwargs):
    target = None
    if invoice is not None:
        target = r.Invoice._api_retrieve(invoice)
        if target.status != "draft":
            raise UserError(400, "Invoice items can only be added to draft invoices")
    _item_init(self, invoice=invoice, **kwargs)
    if target is not None:
        if target.lines._list and target.currency != self.currency:
            raise UserError(400, "The item's currency is not the invoice's")
        target.currency = self.currency
        target.lines._list.append(r.InvoiceLineItem(self))


def finalize(id, auto_advance=None, **kwargs):
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    obj = r.Invoice._api_retrieve(id)
    if obj.status != "draft":
        raise UserError(400, "This invoice is already finalized")
    obj._finalize()
    r.schedule_webhook(r.Event("invoice.finalized", obj))
    return obj


_status = r.Invoice.status
_pay = r.Invoice.__dict__["_api_pay_invoice"].__func__


def status(self):
    if getattr(self, "_paid_out_of_band", False):
        return "paid"
    return _status.fget(self)


def pay(cls, id, paid_out_of_band=None, **kwargs):
    if paid_out_of_band not in (None, "true", "false", True, False):
        raise UserError(400, "Bad request: paid_out_of_band")
    if paid_out_of_band in ("true", True):
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        obj = r.Invoice._api_retrieve(id)
        if obj.status != "open":
            raise UserError(400, "Only an open invoice can be paid out of band")
        obj._paid_out_of_band = True
        obj.status_transitions["paid_at"] = int(r.time.time())
        r.schedule_webhook(r.Event("invoice.paid", obj))
        return obj
    return _pay(cls, id, **kwargs)


r.Invoice.status = property(status)
r.Invoice._api_pay_invoice = classmethod(pay)
r.Invoice._api_create = classmethod(invoice_create)
r.InvoiceItem.__init__ = item_init
# The server registers `extra_apis` when it is imported: patch the list first.
r.extra_apis[:] = [
    (m, u, (lambda id, **kw: pay(r.Invoice, id, **kw)) if u == "/v1/invoices/{id}/pay" else f)
    for m, u, f in r.extra_apis
]
r.extra_apis.append(("POST", "/v1/invoices/{id}/finalize", finalize))

from localstripe import server  # noqa: E402

if __name__ == "__main__":
    server.start()
