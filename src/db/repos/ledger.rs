//! The append-only ledger of money movements and the invoices and credit
//! notes issued for them. Invoice numbers come from a per-year counter
//! bumped inside the caller's write transaction, so they have no gaps and
//! no duplicates whatever the concurrency.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use crate::crypto::Keyring;
use crate::db::ts;
pub use crate::domain::billing::{InvoiceParty as Party, Line, TaxLine};
use crate::domain::money::{Currency, Money};
use crate::domain::{ConsultingSessionId, InvoiceId, LedgerEntryId, SubscriptionId, UserId};
use crate::error::{AppError, AppResult};

pub const BUYER_AAD: &str = "invoices.buyer";

type Time = chrono::DateTime<chrono::Utc>;

pub struct NewEntry<'a> {
    /// authorization, release, capture, refund, subscription_charge, dispute
    pub kind: &'a str,
    pub user_id: Option<UserId>,
    pub session_id: Option<ConsultingSessionId>,
    pub subscription_id: Option<SubscriptionId>,
    pub amount: Money,
    /// In `amount`'s currency.
    pub tax_minor: i64,
    pub fee_minor: i64,
    pub stripe_ref: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LedgerEntry {
    pub id: LedgerEntryId,
    pub kind: String,
    pub user_id: Option<UserId>,
    pub session_id: Option<ConsultingSessionId>,
    pub subscription_id: Option<SubscriptionId>,
    pub amount_minor: i64,
    pub tax_minor: i64,
    pub fee_minor: i64,
    pub currency: Currency,
    pub stripe_ref: Option<String>,
    /// The invoice or credit note issued for it, if any.
    pub invoice_number: Option<String>,
    pub invoice_id: Option<InvoiceId>,
    pub created_at: String,
}

/// Appends an entry; `None` when this kind of entry for this Stripe object
/// is already there (a replayed event).
pub fn append(conn: &Connection, e: &NewEntry<'_>, now: Time) -> AppResult<Option<LedgerEntryId>> {
    let n = conn
        .prepare_cached(
            "INSERT INTO ledger (kind, user_id, session_id, subscription_id, amount_minor, tax_minor,
                 fee_minor, currency, stripe_ref, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (kind, stripe_ref) DO NOTHING",
        )?
        .execute(params![
            e.kind,
            e.user_id,
            e.session_id,
            e.subscription_id,
            e.amount.minor,
            e.tax_minor,
            e.fee_minor,
            e.amount.currency,
            e.stripe_ref,
            ts(now)
        ])?;
    Ok((n == 1).then(|| LedgerEntryId(conn.last_insert_rowid())))
}

fn entry(r: &Row<'_>) -> rusqlite::Result<LedgerEntry> {
    Ok(LedgerEntry {
        id: r.get(0)?,
        kind: r.get(1)?,
        user_id: r.get(2)?,
        session_id: r.get(3)?,
        subscription_id: r.get(4)?,
        amount_minor: r.get(5)?,
        tax_minor: r.get(6)?,
        fee_minor: r.get(7)?,
        currency: r.get(8)?,
        stripe_ref: r.get(9)?,
        created_at: r.get(10)?,
        invoice_id: r.get(11)?,
        invoice_number: r.get(12)?,
    })
}

pub struct LedgerFilter {
    /// `None`: every user's (admins).
    pub user_id: Option<UserId>,
    pub kind: Option<String>,
    pub session_id: Option<ConsultingSessionId>,
    pub before_id: Option<LedgerEntryId>,
    pub limit: usize,
}

/// Entries newest first.
pub fn list(conn: &Connection, f: &LedgerFilter) -> AppResult<Vec<LedgerEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.id, l.kind, l.user_id, l.session_id, l.subscription_id, l.amount_minor, l.tax_minor,
                l.fee_minor, l.currency, l.stripe_ref, l.created_at, i.id, i.number
           FROM ledger l LEFT JOIN invoices i ON i.ledger_id = l.id
          WHERE (?1 IS NULL OR l.user_id = ?1) AND (?2 IS NULL OR l.kind = ?2)
            AND (?3 IS NULL OR l.session_id = ?3) AND l.id < ?4
          ORDER BY l.id DESC LIMIT ?5",
    )?;
    let rows = stmt.query_map(
        // `l.id < ?` without "or none": SQLite starts at the cursor.
        params![
            f.user_id,
            f.kind,
            f.session_id,
            f.before_id.map_or(i64::MAX, |b| b.0),
            f.limit as i64
        ],
        entry,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[derive(Debug, Clone, Serialize)]
pub struct Invoice {
    pub id: InvoiceId,
    pub number: String,
    /// `invoice` or `credit_note`.
    pub kind: String,
    pub user_id: Option<UserId>,
    pub ledger_id: LedgerEntryId,
    pub credits_invoice_id: Option<InvoiceId>,
    pub seller: Party,
    pub buyer: Party,
    pub lines: Vec<Line>,
    pub tax_lines: Vec<TaxLine>,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub currency: Currency,
    pub issued_at: String,
}

pub struct NewInvoice<'a> {
    pub kind: &'a str,
    pub user_id: Option<UserId>,
    pub ledger_id: LedgerEntryId,
    pub credits_invoice_id: Option<InvoiceId>,
    pub seller: &'a Party,
    pub buyer: &'a Party,
    pub lines: &'a [Line],
    pub tax_lines: &'a [TaxLine],
    pub currency: Currency,
}

/// The next number of `year`: the counter row is updated in the caller's
/// write transaction, which the single writer serialises.
fn next_seq(conn: &Connection, year: i32) -> AppResult<i64> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO invoice_counters (year, last) VALUES (?1, 1)
             ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
        )?
        .query_row([year], |r| r.get(0))?)
}

fn json<T: Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(|e| AppError::internal(format!("invoice json: {e}")))
}

/// Issues an invoice or credit note with the next number of the year.
pub fn issue(
    conn: &Connection,
    keys: &Keyring,
    prefix: &str,
    inv: &NewInvoice<'_>,
    now: Time,
) -> AppResult<Invoice> {
    use chrono::Datelike;
    let year = now.year();
    let seq = next_seq(conn, year)?;
    let letter = if inv.kind == "credit_note" { "CN-" } else { "" };
    let number = format!("{prefix}-{letter}{year}-{seq:06}");
    let net: i64 = inv.lines.iter().map(|l| l.net_minor).sum();
    let tax: i64 = inv.lines.iter().map(|l| l.tax_minor).sum();
    let total: i64 = inv.lines.iter().map(|l| l.total_minor).sum();
    conn.prepare_cached(
        "INSERT INTO invoices (number, year, seq, kind, user_id, ledger_id, credits_invoice_id, seller,
             buyer_enc, lines, tax_lines, net_minor, tax_minor, total_minor, currency, issued_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        number,
        year,
        seq,
        inv.kind,
        inv.user_id,
        inv.ledger_id,
        inv.credits_invoice_id,
        json(inv.seller)?,
        keys.encrypt(BUYER_AAD, &json(inv.buyer)?),
        json(&inv.lines)?,
        json(&inv.tax_lines)?,
        net,
        tax,
        total,
        inv.currency,
        ts(now)
    ])?;
    let id = InvoiceId(conn.last_insert_rowid());
    find(conn, keys, id)?.ok_or(AppError::NotFound)
}

fn parse<T: for<'de> Deserialize<'de>>(s: &str) -> AppResult<T> {
    serde_json::from_str(s).map_err(|e| AppError::internal(format!("stored invoice: {e}")))
}

pub fn find(conn: &Connection, keys: &Keyring, id: InvoiceId) -> AppResult<Option<Invoice>> {
    let row = conn
        .prepare_cached(
            "SELECT id, number, kind, user_id, ledger_id, credits_invoice_id, seller, buyer_enc, lines,
                    tax_lines, net_minor, tax_minor, total_minor, currency, issued_at
               FROM invoices WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                (
                    r.get::<_, InvoiceId>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<UserId>>(3)?,
                    r.get::<_, LedgerEntryId>(4)?,
                    r.get::<_, Option<InvoiceId>>(5)?,
                ),
                (
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                ),
                (
                    r.get::<_, i64>(10)?,
                    r.get::<_, i64>(11)?,
                    r.get::<_, i64>(12)?,
                    r.get::<_, Currency>(13)?,
                    r.get::<_, String>(14)?,
                ),
            ))
        })
        .optional()?;
    let Some((
        (id, number, kind, user_id, ledger_id, credits),
        (seller, buyer, lines, taxes),
        (net, tax, total, currency, issued_at),
    )) = row
    else {
        return Ok(None);
    };
    Ok(Some(Invoice {
        id,
        number,
        kind,
        user_id,
        ledger_id,
        credits_invoice_id: credits,
        seller: parse(&seller)?,
        buyer: parse(&super::decrypt(keys, BUYER_AAD, &buyer)?)?,
        lines: parse(&lines)?,
        tax_lines: parse(&taxes)?,
        net_minor: net,
        tax_minor: tax,
        total_minor: total,
        currency,
        issued_at,
    }))
}

/// The invoice issued for a ledger entry.
pub fn invoice_for_ledger(
    conn: &Connection,
    ledger_id: LedgerEntryId,
) -> AppResult<Option<InvoiceId>> {
    Ok(conn
        .prepare_cached("SELECT id FROM invoices WHERE ledger_id = ?1")?
        .query_row([ledger_id], |r| r.get(0))
        .optional()?)
}

/// The invoice of a session's capture (what a refund's credit note corrects).
pub fn capture_invoice_of_session(
    conn: &Connection,
    session_id: ConsultingSessionId,
) -> AppResult<Option<InvoiceId>> {
    Ok(conn
        .prepare_cached(
            "SELECT i.id FROM invoices i JOIN ledger l ON l.id = i.ledger_id
              WHERE l.session_id = ?1 AND l.kind = 'capture'",
        )?
        .query_row([session_id], |r| r.get(0))
        .optional()?)
}

/// An invoice or credit note as an export lists it (no buyer details).
#[derive(Debug, Clone)]
pub struct InvoiceLine {
    pub id: InvoiceId,
    pub number: String,
    pub kind: String,
    pub user_id: Option<UserId>,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub currency: String,
    pub issued_at: String,
}

/// Invoices newest first, of one user or (`None`) everyone's.
pub fn invoice_lines(
    conn: &Connection,
    user: Option<UserId>,
    before: Option<InvoiceId>,
    limit: usize,
) -> AppResult<Vec<InvoiceLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, number, kind, user_id, net_minor, tax_minor, total_minor, currency, issued_at
           FROM invoices WHERE (?1 IS NULL OR user_id = ?1) AND id < ?2
          ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(
            params![user, before.map_or(i64::MAX, |b| b.0), limit as i64],
            |r| {
                Ok(InvoiceLine {
                    id: r.get(0)?,
                    number: r.get(1)?,
                    kind: r.get(2)?,
                    user_id: r.get(3)?,
                    net_minor: r.get(4)?,
                    tax_minor: r.get(5)?,
                    total_minor: r.get(6)?,
                    currency: r.get(7)?,
                    issued_at: r.get(8)?,
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
