//! The records of processing (GDPR Art. 30) as a Markdown table, made from
//! the same list the export and the schema-walk test use, so docs/privacy.md
//! cannot drift from the code (a test compares them).

use crate::db::personal_data::{Treatment, PERSONAL_TABLES};

/// Where the generated table starts and ends in docs/privacy.md.
pub const BEGIN: &str = "<!-- records of processing: generated, do not edit -->";
pub const END: &str = "<!-- end of records of processing -->";

/// One row per personal table: what, why, legal basis, retention, and
/// whether the data export includes it.
pub fn markdown() -> String {
    let mut out = String::new();
    out.push_str(BEGIN);
    out.push_str(
        "\n\n| table | what it holds | purpose | legal basis | retention | in the export |\n",
    );
    out.push_str("|---|---|---|---|---|---|\n");
    for t in PERSONAL_TABLES {
        let export = match t.treatment {
            Treatment::Exported { withheld: [], .. } => "yes".to_string(),
            Treatment::Exported { withheld, .. } => format!(
                "yes, without {}",
                withheld
                    .iter()
                    .map(|(c, why)| format!("`{c}` ({why})"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Treatment::Excluded { reason } => format!("no: {reason}"),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            t.table,
            cell(t.holds),
            cell(t.purpose),
            t.basis,
            cell(t.retention),
            cell(&export)
        ));
    }
    out.push('\n');
    out.push_str(END);
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Where the Art. 14 notice starts and ends in docs/privacy.md.
pub const NOTICE_BEGIN: &str = "<!-- art. 14 notice: generated, do not edit -->";
pub const NOTICE_END: &str = "<!-- end of art. 14 notice -->";

/// The Art. 14 notice invitations carry, as docs/privacy.md shows it:
/// the plain-text part, rendered from the same template with placeholders
/// for what each instance fills in.
pub fn notice_markdown() -> crate::error::AppResult<String> {
    let text = crate::services::mail::data_rights_templates::notice_for_docs()?;
    Ok(format!(
        "{NOTICE_BEGIN}\n\n```text\n{}\n```\n\n{NOTICE_END}",
        text.trim_end()
    ))
}
