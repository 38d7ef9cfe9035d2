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

/// Whose rows: an account and the profile it owns.
#[derive(Debug, Clone)]
pub struct Subject {
    pub user: i64,
    pub researcher: Option<i64>,
    pub email_bidx: String,
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
        user,
        researcher,
        email_bidx,
    }))
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
    let researcher = s.researcher.map_or(Value::Null, Value::from);
    for (name, value) in [
        (":user", Value::from(s.user)),
        (":researcher", researcher),
        (":email_bidx", Value::from(s.email_bidx.clone())),
    ] {
        if let Some(i) = stmt.parameter_index(name)? {
            match value {
                Value::Number(n) => stmt.raw_bind_parameter(i, n.as_i64())?,
                Value::String(v) => stmt.raw_bind_parameter(i, v)?,
                _ => stmt.raw_bind_parameter(i, rusqlite::types::Null)?,
            }
        }
    }
    let mut out = Vec::new();
    let mut undecryptable = 0;
    let mut rows = stmt.raw_query();
    while let Some(r) = rows.next()? {
        let mut obj = Map::new();
        for (i, name) in names.iter().enumerate() {
            if withheld.iter().any(|(c, _)| c == name) {
                continue;
            }
            let v = r.get_ref(i)?;
            let aad = ENCRYPTED_COLUMNS
                .iter()
                .find(|c| c.table == t.table && c.column == name)
                .map(|c| c.aad);
            let (key, value) = match (aad, v) {
                (Some(aad), ValueRef::Text(b)) => {
                    let stored = String::from_utf8_lossy(b);
                    let plain = keys.decrypt(aad, &stored).ok();
                    if plain.is_none() {
                        undecryptable += 1;
                    }
                    (
                        name.trim_end_matches("_enc").to_string(),
                        plain.map_or(Value::Null, |p| text(&p)),
                    )
                }
                (Some(_), _) => (name.trim_end_matches("_enc").to_string(), Value::Null),
                (None, v) => (name.clone(), value(v)),
            };
            obj.insert(key, value);
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
