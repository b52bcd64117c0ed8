//! Which of async-stripe's typed answers parse a stand-in's: the relay's calls, each sent
//! once typed and reported `ok` or the parse error. Against localstripe 1.15.10 (behind
//! tests/python/localstripe_shim.py) customers parse and invoices and invoice items do not,
//! which is why the relay reads every answer as JSON for the fields it uses.
//!
//!   .venv/bin/python tests/python/localstripe_shim.py --port 8420 --from-scratch &
//!   cargo run -p tollgate-billing --example stripe_typed_probe -- http://127.0.0.1:8420

use stripe::StripeRequest as _;
use stripe_billing::invoice::{
    CreateInvoice, CreateInvoicePendingInvoiceItemsBehavior, FinalizeInvoiceInvoice, ListInvoice,
    RetrieveInvoice,
};
use stripe_billing::invoice_item::CreateInvoiceItem;
use stripe_core::customer::{CreateCustomer, ListCustomer};

type Error = Box<dyn std::error::Error>;

fn report<T>(call: &str, answer: Result<T, stripe::StripeError>) {
    match answer {
        Ok(_) => println!("{call:<18} typed answer: ok"),
        Err(e) => println!("{call:<18} typed answer: {e}"),
    }
}

/// Sends `req` and reads the answer's `id` from plain JSON.
async fn id_of(
    client: &stripe::Client,
    req: stripe_client_core::RequestBuilder,
) -> Result<String, Error> {
    let raw: miniserde::json::Value = req.customize().send(client).await?;
    let v: serde_json::Value = serde_json::from_str(&miniserde::json::to_string(&raw))?;
    Ok(v["id"].as_str().ok_or("no id")?.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let base = std::env::args()
        .nth(1)
        .ok_or("usage: stripe_typed_probe API_BASE")?;
    let client = stripe::ClientBuilder::new("sk_test_probe")
        .url(format!("{}/", base.trim_end_matches('/')))
        .build()?;
    report(
        "CreateCustomer",
        CreateCustomer::new().name("probe").send(&client).await,
    );
    report(
        "ListCustomer",
        ListCustomer::new().limit(10).send(&client).await,
    );
    let customer = id_of(&client, CreateCustomer::new().name("probe").build()).await?;
    let create = CreateInvoice::new()
        .customer(customer.clone())
        .pending_invoice_items_behavior(CreateInvoicePendingInvoiceItemsBehavior::Exclude)
        .auto_advance(false);
    report("CreateInvoice", create.send(&client).await);
    let invoice = id_of(&client, create.build()).await?;
    let item = CreateInvoiceItem::new()
        .customer(customer.clone())
        .invoice(invoice.clone())
        .amount(100)
        .currency(stripe_types::Currency::USD);
    report("CreateInvoiceItem", item.send(&client).await);
    report(
        "RetrieveInvoice",
        RetrieveInvoice::new(invoice.clone()).send(&client).await,
    );
    report(
        "ListInvoice",
        ListInvoice::new().customer(customer).send(&client).await,
    );
    report(
        "FinalizeInvoice",
        FinalizeInvoiceInvoice::new(invoice).send(&client).await,
    );
    Ok(())
}
