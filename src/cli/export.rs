//! `colloquy export`: a dataset, all rows, to a file or standard output.

use std::path::PathBuf;

use anyhow::bail;

/// `colloquy export`: streams the dataset to a file or standard output,
/// with a progress line on standard error every few megabytes.
pub(super) async fn run(
    st: &crate::state::AppState,
    dataset: &str,
    format: &str,
    from: Option<String>,
    to: Option<String>,
    bucket: Option<String>,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    use crate::services::exports;
    use std::io::Write;
    let query = exports::Query {
        format: Some(format),
        from: from.as_deref(),
        to: to.as_deref(),
        bucket: bucket.as_deref(),
    };
    let e = exports::prepare(st, None, dataset, &query)
        .await
        .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
    let mut sink: Box<dyn Write> = match &out {
        Some(path) => {
            if path.exists() {
                bail!("{} exists; choose a new file", path.display());
            }
            Box::new(std::io::BufWriter::new(std::fs::File::create(path)?))
        }
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    exports::audit_export(st, None, &e, "cli", None)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
    let mut rx = exports::stream(st, e);
    let (mut written, mut reported) = (0usize, 0usize);
    while let Some(chunk) = rx.recv().await {
        let chunk = chunk?;
        sink.write_all(&chunk)?;
        written += chunk.len();
        if written - reported >= 8 << 20 {
            eprintln!("  {} MB written", written >> 20);
            reported = written;
        }
    }
    sink.flush()?;
    if let Some(path) = out {
        eprintln!("export written to {} ({written} bytes)", path.display());
    }
    Ok(())
}

/// An error as the command line says it: the message and each field's.
fn describe(e: &crate::error::AppError) -> String {
    match e {
        crate::error::AppError::Validation { fields, .. } => fields
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.public_message(),
    }
}
