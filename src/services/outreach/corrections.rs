//! The corrections a researcher makes to the collected profile while
//! registering: checked like any input, then written as the researcher's
//! own (never overwritten by collection again).

use serde_json::json;

use crate::db::repos::researchers;
use crate::domain::researcher::{Field, FieldValue, Provenance};
use crate::domain::{text, ResearcherId};
use crate::error::{AppResult, FieldErrors};
use crate::services::public_urls;

/// Corrections the researcher made on the registration page.
#[derive(Debug, Default, Clone)]
pub struct Corrections {
    pub bio: Option<String>,
    pub affiliation: Option<String>,
    pub homepage: Option<String>,
    pub publications: Option<Vec<String>>,
    pub achievements: Option<Vec<(String, Option<String>)>>,
}

/// Valid corrections, as field values; `None` values mean "remove".
pub(super) type Correction = (Field, Option<FieldValue>);

pub(super) async fn validate_corrections(
    c: &Corrections,
    errs: &mut FieldErrors,
) -> Vec<Correction> {
    let mut out = Vec::new();
    if let Some(bio) = &c.bio {
        if let Some(v) = errs.check("bio", text::optional_block(Some(bio), 5000)) {
            out.push((Field::Bio, v.map(FieldValue::Text)));
        }
    }
    if let Some(a) = &c.affiliation {
        if let Some(v) = errs.check("affiliation", text::optional_line(Some(a), 300)) {
            out.push((Field::Affiliation, v.map(FieldValue::Text)));
        }
    }
    if let Some(h) = &c.homepage {
        let h = h.trim();
        if h.is_empty() {
            out.push((Field::Homepage, None));
        } else if let Some(h) = errs.check("homepage", public_urls::check_entered(h).await) {
            out.push((Field::Homepage, Some(FieldValue::Text(h))));
        }
    }
    if let Some(p) = &c.publications {
        let mut list = Vec::new();
        let mut bad = false;
        for (i, title) in p.iter().enumerate().take(100) {
            let title = title.trim();
            if title.is_empty() {
                continue;
            }
            if text::line(title, 500).is_err() {
                errs.add(
                    &format!("publications[{i}]"),
                    "the title must be at most 500 characters, on one line",
                );
                bad = true;
            }
            list.push(title.to_string());
        }
        if !bad {
            out.push((
                Field::Publications,
                (!list.is_empty()).then(|| FieldValue::Json(json!(list))),
            ));
        }
    }
    if let Some(a) = &c.achievements {
        let mut list = Vec::new();
        for (i, (t, u)) in a
            .iter()
            .enumerate()
            .filter(|(_, (t, _))| !t.trim().is_empty())
            .take(50)
        {
            let key = format!("achievements[{i}]");
            if text::optional_line(Some(t), 500).is_err() {
                errs.add(&key, "the text must be at most 500 characters, on one line");
                continue;
            }
            let source = match u.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
                None => String::new(),
                Some(u) => match public_urls::check_entered(u).await {
                    Ok(u) => u,
                    Err(m) => {
                        errs.add(&key, format!("the link {m}"));
                        continue;
                    }
                },
            };
            list.push(json!({"text": t.trim(), "source_url": source}));
        }
        out.push((
            Field::Achievements,
            (!list.is_empty()).then(|| FieldValue::Json(json!(list))),
        ));
    }
    out
}

/// Writes the corrected fields as the researcher's own (never overwritten
/// by collection again).
pub(super) fn apply_corrections(
    tx: &rusqlite::Connection,
    keys: &crate::crypto::Keyring,
    rid: ResearcherId,
    c: &[Correction],
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    if c.is_empty() {
        return Ok(());
    }
    let fields: Vec<Field> = c.iter().map(|(f, _)| *f).collect();
    let p = Provenance {
        provider: "researcher".into(),
        source_url: None,
    };
    for (field, value) in c {
        match value {
            Some(v) => {
                researchers::apply(tx, keys, rid, &[(*field, v.clone())], &p, now)?;
            }
            None => researchers::clear_field(tx, rid, *field, now)?,
        }
    }
    researchers::mark_edited(tx, rid, &fields)
}
