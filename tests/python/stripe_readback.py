"""Reads a customer's invoices back with Stripe's official Python library (a second client
of the Stripe API Tollgate's relay wrote to), as one JSON list on stdout.

    python stripe_readback.py API_BASE CUSTOMER_ID
"""

import json
import sys

import stripe

api_base, customer = sys.argv[1], sys.argv[2]
client = stripe.StripeClient("sk_test_tollgate", base_addresses={"api": api_base})
invoices = client.v1.invoices.list(params={"customer": customer, "limit": 100})
out = []
for inv in invoices.data:
    lines = client.v1.invoices.line_items.list(inv.id, params={"limit": 100})
    out.append({
        "id": inv.id,
        "status": inv.status,
        "total": inv.total,
        "currency": inv.currency,
        "tollgate_invoice_id": inv.metadata.to_dict().get("tollgate_invoice_id"),
        "lines": [{"amount": l.amount, "tollgate_line_id": l.metadata.to_dict().get("tollgate_line_id")}
                  for l in lines.data],
    })
json.dump(out, sys.stdout)
