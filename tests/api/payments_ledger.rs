//! The ledger's balance, checked when every test's app goes away
//! (`helpers::LedgerCheck`) and inside the money scenarios: for each
//! session, what was authorised was captured or released (or is still
//! held), and no more was refunded than captured.

use std::collections::BTreeMap;

use rusqlite::Connection;

use crate::helpers::TestApp;

/// Per session: (authorised, captured, released, refunded), in minor units.
fn sums(db: &Connection) -> BTreeMap<i64, [i64; 4]> {
    let mut stmt = db
        .prepare(
            "SELECT session_id, kind, amount_minor FROM ledger
              WHERE session_id IS NOT NULL AND kind IN ('authorization', 'capture', 'release', 'refund')",
        )
        .unwrap();
    let mut out: BTreeMap<i64, [i64; 4]> = BTreeMap::new();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (session, kind, amount) = row.unwrap();
        let slot = match kind.as_str() {
            "authorization" => 0,
            "capture" => 1,
            "release" => 2,
            _ => 3,
        };
        out.entry(session).or_default()[slot] += amount;
    }
    out
}

/// Each session's payment still held now (status `authorized`).
fn held(db: &Connection, session: i64) -> i64 {
    db.query_row(
        "SELECT COALESCE(SUM(amount_minor), 0) FROM session_payments
              WHERE session_id = ?1 AND status = 'authorized'",
        [session],
        |r| r.get(0),
    )
    .unwrap()
}

/// authorised = captured + released (+ what is held now), and
/// refunded <= captured, for every session in the ledger.
pub fn assert_balanced(app: &TestApp) {
    assert_balanced_in(&app.db());
}

/// `assert_balanced` on a database.
pub fn assert_balanced_in(db: &Connection) {
    for (session, [authorised, captured, released, refunded]) in sums(db) {
        assert_eq!(
            authorised,
            captured + released + held(db, session),
            "session {session}: authorised {authorised}, captured {captured}, released {released}"
        );
        assert!(
            refunded <= captured,
            "session {session}: refunded {refunded} of {captured} captured"
        );
    }
}
