//! The do-not-collect list: identities (ORCID iDs, OpenAlex author ids)
//! whose profiles were erased, as blind indexes, so collection never
//! builds them again. Values are normalised here, once, for both the
//! writer (erasure) and the readers (collection).

use rusqlite::{params, Connection, OptionalExtension};

use crate::crypto::Keyring;
use crate::db::ts;
use crate::error::AppResult;

type Time = chrono::DateTime<chrono::Utc>;

/// An identity collection may meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity<'a> {
    Orcid(&'a str),
    OpenAlex(&'a str),
}

impl Identity<'_> {
    fn kind(self) -> &'static str {
        match self {
            Identity::Orcid(_) => "orcid",
            Identity::OpenAlex(_) => "openalex",
        }
    }

    /// The value as every source spells it alike: without its URL prefix,
    /// trimmed, upper-case (`0000-0002-1825-009X`, `A5023888391`). `None`
    /// for an empty value.
    fn normalised(self) -> Option<String> {
        let (raw, prefix) = match self {
            Identity::Orcid(v) => (v, "orcid.org/"),
            Identity::OpenAlex(v) => (v, "openalex.org/"),
        };
        let v = raw.trim();
        let v = v
            .find(prefix)
            .map_or(v, |i| &v[i + prefix.len()..])
            .trim_matches('/');
        (!v.is_empty()).then(|| v.to_ascii_uppercase())
    }

    /// Its blind index (`None` for an empty value).
    pub fn index(self, keys: &Keyring) -> Option<String> {
        self.normalised().map(|v| keys.blind_index(self.kind(), &v))
    }
}

/// Puts an identity on the list (once); answers whether it was new.
pub fn add(
    conn: &Connection,
    keys: &Keyring,
    identity: Identity<'_>,
    reason: &str,
    now: Time,
) -> AppResult<bool> {
    let Some(bidx) = identity.index(keys) else {
        return Ok(false);
    };
    Ok(conn.execute(
        "INSERT INTO do_not_collect (identity_bidx, kind, reason, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (identity_bidx) DO NOTHING",
        params![bidx, identity.kind(), reason, ts(now)],
    )? > 0)
}

/// Whether any of these identities is on the list.
pub fn any_listed(
    conn: &Connection,
    keys: &Keyring,
    identities: &[Identity<'_>],
) -> AppResult<bool> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM do_not_collect WHERE identity_bidx = ?1")?;
    for identity in identities {
        if let Some(bidx) = identity.index(keys) {
            if stmt.query_row([bidx], |_| Ok(())).optional()?.is_some() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Whether the list is empty (then no author needs checking).
pub fn is_empty(conn: &Connection) -> AppResult<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM do_not_collect LIMIT 1", [], |_| Ok(()))
        .optional()?
        .is_none())
}

#[cfg(test)]
mod tests {
    use super::Identity;

    #[test]
    fn identities_are_compared_without_their_url_and_case() {
        for (a, b) in [
            (
                Identity::Orcid("https://orcid.org/0000-0002-1825-009x"),
                Identity::Orcid(" 0000-0002-1825-009X "),
            ),
            (
                Identity::OpenAlex("https://openalex.org/A5023888391"),
                Identity::OpenAlex("a5023888391"),
            ),
        ] {
            assert_eq!(a.normalised(), b.normalised());
            assert!(a.normalised().is_some());
        }
        assert_eq!(Identity::Orcid("  ").normalised(), None);
    }
}
