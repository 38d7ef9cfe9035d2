//! Moving personal values to per-subject keys (`colloquy keys
//! migrate-subjects`): PROFILES collected researcher profiles (default
//! 100,000) whose e-mail address is under the keyring key, as an instance
//! upgraded from before subject keys holds them, are moved to a key per
//! profile. Reports the time, the rate, and a rerun (nothing left to do).
//!
//! Run: `cargo bench --bench subject_keys` (PROFILES=100000).

use std::error::Error;
use std::process::ExitCode;
use std::time::Instant;

use colloquy::services::subject_migration;

#[path = "common.rs"]
mod common;
use common::*;

fn main() -> Result<ExitCode, Box<dyn Error>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    let (_base, state) = rt.block_on(start_server(dir.path()))?;
    let profiles = env_usize("PROFILES", 100_000);
    let t = Instant::now();
    let keys = state.keys.clone();
    state.db.write_blocking(|tx| {
        let mut insert = tx.prepare(
            "INSERT INTO researchers (name, email_enc, email_bidx, created_at, updated_at)
             VALUES (?1, ?2, ?3, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        )?;
        for i in 0..profiles {
            let email = format!("researcher{i}@uni.example");
            insert.execute(rusqlite::params![
                format!("Researcher {i}"),
                keys.encrypt("researchers.email", &email),
                keys.blind_index("email", &email),
            ])?;
        }
        Ok(())
    })?;
    println!(
        "set-up: {profiles} profiles with a v1 address in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let moved = subject_migration::migrate(&state, &|col, done, total| {
        if total > 0 && (done == total || done % 20_000 == 0) {
            eprintln!("  {col}: {done}/{total}");
        }
    })?;
    let took = t.elapsed();
    println!(
        "migrate-subjects: {moved} values in {:.1} s ({:.0} values/s)",
        took.as_secs_f64(),
        moved as f64 / took.as_secs_f64()
    );
    let t = Instant::now();
    let again = subject_migration::migrate(&state, &|_, _, _| {})?;
    println!(
        "rerun: {again} values in {:.1} ms; {} left",
        ms(t.elapsed()),
        subject_migration::remaining(&state)?
    );
    let (live, destroyed) = state.keys.subject_key_counts()?;
    println!("subject keys: {live} live, {destroyed} destroyed");
    Ok(ExitCode::SUCCESS)
}
