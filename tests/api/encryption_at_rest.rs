use serde_json::json;

use crate::helpers::spawn_app;

/// Every byte of the database, WAL included.
fn raw_database(app: &crate::helpers::TestApp) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        let p = format!("{}{suffix}", app.db_path().display());
        if let Ok(b) = std::fs::read(&p) {
            bytes.extend(b);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[tokio::test]
async fn the_raw_database_file_holds_no_registered_email_or_question() {
    let app = spawn_app().await;
    let emails = [
        "rosalind.franklin@kcl.ac.uk",
        "lise.meitner@kwi.de",
        "emmy.noether@uni-goettingen.de",
    ];
    let mut token = String::new();
    for e in emails {
        token = app.token(e).await;
    }
    let id = app.sample_paper(&token).await;
    app.post_json(
        &format!("/api/v1/papers/{id}/queries"),
        Some(&token),
        &json!({"question": "A very private question about quasicrystals"}),
    )
    .await;
    // Force the WAL into the main file too, then read both.
    colloquy::db::Db::open(&app.state.config.storage, &app.db_path()).unwrap();
    let raw = raw_database(&app);
    assert!(raw.len() > 10_000);
    for e in emails {
        assert!(!contains(&raw, e), "{e} found in the database file");
        assert!(
            !contains(&raw, e.split('@').next().unwrap()),
            "local part of {e} found"
        );
    }
    assert!(!contains(&raw, "quasicrystals"));
    // The title of a paper is public data and is stored in clear.
    assert!(contains(&raw, "Attention Is All You Need"));
}

#[tokio::test]
async fn the_keyring_is_created_private_in_the_data_dir() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    let path = app.dir.path().join("keys").join("keyring.json");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}
