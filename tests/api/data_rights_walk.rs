//! The schema walk: every table that names a person (a column such as
//! `user_id` or `researcher_id`, an e-mail blind index, or a foreign key
//! to `users` or `researchers`) is in `db::personal_data`, exported or
//! excluded with a reason, so a migration that adds personal data cannot
//! be forgotten by the data export. Also: the list's selectors and
//! withheld columns match the schema, and docs/privacy.md carries the
//! records of processing generated from the same list, and the Art. 14
//! notice rendered from the invitation's own template.

use colloquy::db::personal_data::{entry, Treatment, PERSONAL_TABLES, SUBJECT_COLUMNS};
use colloquy::services::data_rights::records;

use crate::helpers::spawn_app;

fn strings(conn: &rusqlite::Connection, sql: &str, arg: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([arg], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn every_table_naming_a_person_is_exported_or_excluded_with_a_reason() {
    let app = spawn_app().await;
    let conn = app.db();
    let tables = strings(
        &conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
            AND name NOT LIKE ?1 ORDER BY name",
        "papers_fts%",
    );
    assert!(tables.len() > 40, "{tables:?}");
    let mut missing = Vec::new();
    for table in &tables {
        let columns = strings(&conn, "SELECT name FROM pragma_table_info(?1)", table);
        let refs = strings(
            &conn,
            "SELECT \"table\" FROM pragma_foreign_key_list(?1)",
            table,
        );
        let names_a_person = columns
            .iter()
            .any(|c| SUBJECT_COLUMNS.contains(&c.as_str()) || c.ends_with("_bidx"))
            || refs.iter().any(|t| t == "users" || t == "researchers");
        if names_a_person && entry(table).is_none() {
            missing.push(table.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "tables holding personal data that db::personal_data neither exports nor excludes: {missing:?}"
    );

    for t in PERSONAL_TABLES {
        assert!(tables.contains(&t.table.to_string()), "{} is gone", t.table);
        let columns = strings(&conn, "SELECT name FROM pragma_table_info(?1)", t.table);
        for text in [t.holds, t.purpose, t.basis, t.retention] {
            assert!(!text.trim().is_empty(), "{}: a record is empty", t.table);
        }
        match t.treatment {
            Treatment::Exported { selector, withheld } => {
                for (column, reason) in withheld {
                    assert!(
                        columns.contains(&column.to_string()),
                        "{}.{column}",
                        t.table
                    );
                    assert!(reason.len() > 20, "{}.{column}: say why", t.table);
                }
                // The selector is valid SQL over this table.
                let sql = format!("SELECT count(*) FROM {} WHERE {selector}", t.table);
                let mut stmt = conn.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                for name in [":user", ":researcher", ":email_bidx"] {
                    if let Some(i) = stmt.parameter_index(name).unwrap() {
                        stmt.raw_bind_parameter(i, 1).unwrap();
                    }
                }
                stmt.raw_query().next().unwrap();
            }
            Treatment::Excluded { reason } => {
                assert!(reason.len() > 30, "{}: say why it is excluded", t.table)
            }
        }
    }
}

/// Checks (or, with `UPDATE_PRIVACY_DOC` set, rewrites) the block of
/// docs/privacy.md between `begin` and `end`.
fn generated_block(begin: &str, end: &str, generated: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/privacy.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let (Some(a), Some(b)) = (doc.find(begin), doc.find(end)) else {
        panic!("docs/privacy.md has no generated block {begin}");
    };
    let current = &doc[a..b + end.len()];
    if current != generated {
        if std::env::var_os("UPDATE_PRIVACY_DOC").is_some() {
            let updated = format!("{}{generated}{}", &doc[..a], &doc[b + end.len()..]);
            std::fs::write(path, updated).unwrap();
        } else {
            panic!("docs/privacy.md's {begin} is out of date: run `UPDATE_PRIVACY_DOC=1 cargo test --test api data_rights_walk`");
        }
    }
}

/// One test for both blocks, so `UPDATE_PRIVACY_DOC` rewrites the file
/// once at a time.
#[test]
fn the_privacy_doc_carries_the_generated_records_of_processing_and_the_art_14_notice() {
    generated_block(records::BEGIN, records::END, &records::markdown());
    let notice = records::notice_markdown().unwrap();
    assert!(notice.contains("Art. 6(1)(f)"), "{notice}");
    generated_block(records::NOTICE_BEGIN, records::NOTICE_END, &notice);
}
