//! Reads one person's rows of a table listed in `db::personal_data`, as
//! JSON objects: every column but the withheld ones, encrypted columns
//! decrypted (under their name without `_enc`), JSON text as JSON.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension};
use serde_json::{Map, Value};

use crate::crypto::Keyring;
use crate::db::encrypted_columns::ENCRYPTED_COLUMNS;
use crate::db::personal_data::{PersonalTable, Treatment};
use crate::error::AppResult;

/// Whose rows: an account and the profile it owns, or a collected
/// profile nobody owns (no account).
#[derive(Debug, Clone)]
pub struct Subject {
    pub user: Option<i64>,
    pub researcher: Option<i64>,
    pub email_bidx: Option<String>,
}

/// The subject of an account: its address's blind index and its profile.
pub fn subject(conn: &Connection, user: i64) -> AppResult<Option<Subject>> {
    let Some(email_bidx) = conn
        .prepare_cached("SELECT email_bidx FROM users WHERE id = ?1")?
        .query_row([user], |r| r.get::<_, String>(0))
        .optional()?
    else {
        return Ok(None);
    };
    let researcher = conn
        .prepare_cached("SELECT id FROM researchers WHERE user_id = ?1")?
        .query_row([user], |r| r.get(0))
        .optional()?;
    Ok(Some(Subject {
        user: Some(user),
        researcher,
        email_bidx: Some(email_bidx),
    }))
}

/// The subject of a researcher profile: its owner's account when it has
/// one, else the profile alone (with the address it was collected with).
pub fn researcher_subject(conn: &Connection, researcher: i64) -> AppResult<Option<Subject>> {
    let Some((owner, bidx)) = conn
        .prepare_cached(
            "SELECT user_id, email_bidx FROM researchers WHERE id = ?1 AND erased_at IS NULL",
        )?
        .query_row([researcher], |r| {
            Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<String>>(1)?))
        })
        .optional()?
    else {
        return Ok(None);
    };
    match owner {
        Some(user) => subject(conn, user),
        None => Ok(Some(Subject {
            user: None,
            researcher: Some(researcher),
            email_bidx: bidx,
        })),
    }
}

/// A person found by an admin: an account or a researcher profile.
#[derive(Debug, Clone)]
pub struct SubjectMatch {
    /// `user` or `researcher`.
    pub kind: &'static str,
    pub id: i64,
    pub name: String,
    /// For a profile: the account that owns it, if any.
    pub owner: Option<i64>,
}

/// Accounts (not deleted) and profiles whose address has the blind index
/// `email_bidx`, or whose name contains `name` (at most `limit` of each).
pub fn find_subjects(
    conn: &Connection,
    email_bidx: Option<&str>,
    name: Option<&str>,
    limit: usize,
) -> AppResult<Vec<SubjectMatch>> {
    // `%` and `_` in a name are matched as themselves.
    let pattern = name.map(|n| {
        let escaped = n
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let mut out = Vec::new();
    for (kind, sql) in [
        (
            "user",
            "SELECT id, name, NULL FROM users WHERE deleted_at IS NULL
               AND (email_bidx = ?1 OR name LIKE ?2 ESCAPE '\\') ORDER BY id LIMIT ?3",
        ),
        (
            "researcher",
            "SELECT id, name, user_id FROM researchers
              WHERE erased_at IS NULL AND (email_bidx = ?1 OR name LIKE ?2 ESCAPE '\\')
              ORDER BY id LIMIT ?3",
        ),
    ] {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(rusqlite::params![email_bidx, pattern, limit as i64], |r| {
            Ok(SubjectMatch {
                kind,
                id: r.get(0)?,
                name: r.get(1)?,
                owner: r.get(2)?,
            })
        })?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

/// The column names of a table, in order.
pub fn columns(conn: &Connection, table: &str) -> AppResult<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let rows = stmt.query_map([table], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The subject's rows of `t` (none for an excluded table), and how many
/// encrypted values did not decrypt (exported as null).
pub fn rows(
    conn: &Connection,
    keys: &Keyring,
    t: &PersonalTable,
    s: &Subject,
) -> AppResult<(Vec<Map<String, Value>>, usize)> {
    let Treatment::Exported { selector, withheld } = t.treatment else {
        return Ok((Vec::new(), 0));
    };
    let names = columns(conn, t.table)?;
    // `t.table` and `selector` are constants of `personal_data`, never input.
    let sql = format!("SELECT * FROM {} WHERE {selector} ORDER BY 1", t.table);
    let mut stmt = conn.prepare(&sql)?;
    // Only the parameters a selector names may be bound.
    let params: [(&str, &dyn rusqlite::ToSql); 3] = [
        (":user", &s.user),
        (":researcher", &s.researcher),
        (":email_bidx", &s.email_bidx),
    ];
    for (name, value) in params {
        if let Some(i) = stmt.parameter_index(name)? {
            stmt.raw_bind_parameter(i, value)?;
        }
    }
    let mut out = Vec::new();
    // Per column, once: its position, its name in the export, and the
    // associated data it is decrypted with (encrypted columns only).
    let exported: Vec<(usize, String, Option<&str>)> = names
        .iter()
        .enumerate()
        .filter(|(_, name)| !withheld.iter().any(|(c, _)| c == name))
        .map(|(i, name)| {
            let aad = ENCRYPTED_COLUMNS
                .iter()
                .find(|c| c.table == t.table && c.column == name)
                .map(|c| c.aad);
            let key = match aad {
                Some(_) => name.trim_end_matches("_enc").to_string(),
                None => name.clone(),
            };
            (i, key, aad)
        })
        .collect();
    let mut undecryptable = 0;
    let mut rows = stmt.raw_query();
    while let Some(r) = rows.next()? {
        let mut obj = Map::new();
        for (i, key, aad) in &exported {
            let value = match (aad, r.get_ref(*i)?) {
                (Some(aad), ValueRef::Text(b)) => {
                    let plain = keys.decrypt(aad, &String::from_utf8_lossy(b)).ok();
                    if plain.is_none() {
                        undecryptable += 1;
                    }
                    plain.map_or(Value::Null, |p| text(&p))
                }
                (Some(_), _) => Value::Null,
                (None, v) => value(v),
            };
            obj.insert(key.clone(), value);
        }
        out.push(obj);
    }
    Ok((out, undecryptable))
}

/// Text as JSON when it is a JSON array or object, else as a string.
fn text(s: &str) -> Value {
    let t = s.trim_start();
    if t.starts_with('[') || t.starts_with('{') {
        if let Ok(v) = serde_json::from_str(s) {
            return v;
        }
    }
    Value::String(s.to_string())
}

fn value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Value::from(f),
        ValueRef::Text(b) => text(&String::from_utf8_lossy(b)),
        ValueRef::Blob(b) => Value::String(hex::encode(b)),
    }
}
