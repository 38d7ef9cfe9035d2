//! Papers, their ordered authors and the full-text index over both.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::db::ts;
use crate::domain::paper::{NewPaper, REMOVED_AUTHOR};
use crate::domain::{CollectionStatus, PaperId, UserId};
use crate::error::{is_unique_violation, AppError, AppResult};

#[derive(Debug, Clone)]
pub struct AuthorRow {
    pub position: i64,
    pub name: String,
    pub affiliation: Option<String>,
    pub orcid: Option<String>,
    /// The author's profile was erased at their request: the name reads
    /// `paper::REMOVED_AUTHOR`, and collection skips them.
    pub removed: bool,
}

#[derive(Debug, Clone)]
pub struct PaperRow {
    pub id: PaperId,
    pub title: String,
    pub doi: Option<String>,
    pub year: Option<i32>,
    pub venue: Option<String>,
    pub abstract_text: Option<String>,
    pub url: Option<String>,
    pub source: String,
    pub created_by: Option<UserId>,
    pub collection_status: CollectionStatus,
    pub collected_at: Option<String>,
    pub created_at: String,
    pub authors: Vec<AuthorRow>,
}

const COLUMNS: &str = "p.id, p.title, p.doi, p.year, p.venue, p.abstract, p.url, p.source, p.created_by, p.collection_status, p.collected_at, p.created_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<PaperRow> {
    Ok(PaperRow {
        id: r.get(0)?,
        title: r.get(1)?,
        doi: r.get(2)?,
        year: r.get(3)?,
        venue: r.get(4)?,
        abstract_text: r.get(5)?,
        url: r.get(6)?,
        source: r.get(7)?,
        created_by: r.get(8)?,
        collection_status: r.get(9)?,
        collected_at: r.get(10)?,
        created_at: r.get(11)?,
        authors: Vec::new(),
    })
}

pub fn insert(
    conn: &Connection,
    paper: &NewPaper,
    source: &str,
    created_by: Option<UserId>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<PaperId> {
    let now = ts(now);
    conn.execute(
        "INSERT INTO papers (title, doi, year, venue, abstract, url, source, created_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![paper.title, paper.doi, paper.year, paper.venue, paper.abstract_text, paper.url, source, created_by, now],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::conflict("doi_taken", "A paper with this DOI already exists.")
        } else {
            e.into()
        }
    })?;
    let id = PaperId(conn.last_insert_rowid());
    let mut stmt = conn.prepare_cached("INSERT INTO paper_authors (paper_id, position, name, affiliation, orcid) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for (i, a) in paper.authors.iter().enumerate() {
        stmt.execute(params![id, i as i64, a.name, a.affiliation, a.orcid])?;
    }
    let names = paper
        .authors
        .iter()
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    conn.execute(
        "INSERT INTO papers_fts (rowid, title, authors) VALUES (?1, ?2, ?3)",
        params![id, paper.title, names],
    )?;
    Ok(id)
}

/// The authors of these papers in one statement (a search page read them
/// with one statement per paper).
fn load_authors_of(conn: &Connection, papers: &mut [PaperRow]) -> AppResult<()> {
    if papers.is_empty() {
        return Ok(());
    }
    let ids = super::id_array(papers.iter().map(|p| p.id.0));
    let mut stmt = conn.prepare_cached(
        "SELECT paper_id, position, name, affiliation, orcid, removed_at IS NOT NULL FROM paper_authors
          WHERE paper_id IN (SELECT value FROM json_each(?1)) ORDER BY paper_id, position",
    )?;
    let mut by_paper: std::collections::HashMap<PaperId, Vec<AuthorRow>> =
        std::collections::HashMap::with_capacity(papers.len());
    let rows = stmt.query_map([ids], |r| Ok((r.get::<_, PaperId>(0)?, author_from(r, 1)?)))?;
    for row in rows {
        let (paper, author) = row?;
        by_paper.entry(paper).or_default().push(author);
    }
    for p in papers {
        p.authors = by_paper.remove(&p.id).unwrap_or_default();
    }
    Ok(())
}

/// An author from `position, name, affiliation, orcid, removed` starting
/// at column `at`.
fn author_from(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<AuthorRow> {
    let removed: bool = r.get(at + 4)?;
    Ok(AuthorRow {
        position: r.get(at)?,
        name: if removed {
            REMOVED_AUTHOR.to_string()
        } else {
            r.get(at + 1)?
        },
        affiliation: r.get(at + 2)?,
        orcid: r.get(at + 3)?,
        removed,
    })
}

/// Removes the authors at these (paper, position) places from their
/// papers' author lists, at their request: each keeps its place, without
/// name, affiliation or ORCID, and the full-text index forgets the name.
/// Answers the papers touched.
pub fn remove_authors(
    conn: &Connection,
    places: &[(PaperId, i64)],
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<PaperId>> {
    let mut stmt = conn.prepare_cached(
        "UPDATE paper_authors SET name = '', affiliation = NULL, orcid = NULL, removed_at = ?3
          WHERE paper_id = ?1 AND position = ?2",
    )?;
    let mut papers: Vec<PaperId> = Vec::new();
    for (paper, position) in places {
        stmt.execute(params![paper, position, ts(now)])?;
        if !papers.contains(paper) {
            papers.push(*paper);
        }
    }
    for paper in &papers {
        let names: Vec<String> = conn
            .prepare_cached(
                "SELECT name FROM paper_authors WHERE paper_id = ?1 AND removed_at IS NULL ORDER BY position",
            )?
            .query_map([paper], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        conn.execute(
            "UPDATE papers_fts SET authors = ?2 WHERE rowid = ?1",
            params![paper, names.join("; ")],
        )?;
    }
    if !papers.is_empty() {
        // Rewrite the index into one segment: the removed names' terms do
        // not stay behind in older segments (their pages are freed, and
        // freed pages are zeroed).
        conn.execute(
            "INSERT INTO papers_fts (papers_fts) VALUES ('optimize')",
            [],
        )?;
    }
    Ok(papers)
}

pub fn find(conn: &Connection, id: PaperId) -> AppResult<Option<PaperRow>> {
    let mut paper = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM papers p WHERE p.id = ?1"))?
        .query_row([id], from_row)
        .optional()?;
    if let Some(p) = paper.as_mut() {
        load_authors_of(conn, std::slice::from_mut(p))?;
    }
    Ok(paper)
}

pub fn exists(conn: &Connection, id: PaperId) -> AppResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM papers WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// A paper with exactly this title (for papers without a DOI).
pub fn find_by_title(conn: &Connection, title: &str) -> AppResult<Option<PaperId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM papers WHERE title = ?1 LIMIT 1",
            [title],
            |r| r.get(0),
        )
        .optional()?)
}

/// The first demo paper (`colloquy demo`), if the demo is loaded.
pub fn first_demo(conn: &Connection) -> AppResult<Option<PaperId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM papers WHERE source = 'demo' ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn find_by_doi(conn: &Connection, doi: &str) -> AppResult<Option<PaperId>> {
    Ok(conn
        .query_row("SELECT id FROM papers WHERE doi = ?1", [doi], |r| r.get(0))
        .optional()?)
}

/// Words shorter than this match whole words only: a one- or two-letter
/// prefix ("a", "ai") expands to a large share of the vocabulary (`"a"*`
/// was the slowest search at 100,000 papers), and such words are typed
/// whole ("a survey", "AI", "ML").
const MIN_PREFIX_CHARS: usize = 3;

/// Turns free text into a safe FTS5 query: every word becomes a quoted
/// term, a prefix term from three characters on, so user input can never
/// be FTS syntax.
fn fts_terms(text: &str, column: Option<&str>) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(12)
        .map(|w| {
            let star = if w.chars().count() >= MIN_PREFIX_CHARS {
                "*"
            } else {
                ""
            };
            match column {
                Some(col) => format!("{col} : \"{w}\"{star}"),
                None => format!("\"{w}\"{star}"),
            }
        })
        .collect()
}

/// Newest first; `before` continues after the last id of the previous page.
/// With `bookable_only`, only papers with an author readers can book.
pub fn search(
    conn: &Connection,
    text: Option<&str>,
    author: Option<&str>,
    bookable_only: bool,
    before: Option<PaperId>,
    limit: usize,
) -> AppResult<Vec<PaperRow>> {
    let mut terms = fts_terms(text.unwrap_or(""), None);
    terms.extend(fts_terms(author.unwrap_or(""), Some("authors")));
    let before = before.map_or(i64::MAX, |b| b.0);
    let bookable = if bookable_only {
        format!("AND {}", super::researchers::paper_has_bookable_author())
    } else {
        String::new()
    };
    let mut papers = if terms.is_empty() {
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM papers p WHERE p.id < ?1 {bookable} ORDER BY p.id DESC LIMIT ?2"
        ))?
        .query_map(params![before, limit as i64], from_row)?
        .collect::<Result<Vec<_>, _>>()?
    } else {
        let query = terms.join(" AND ");
        // Filtered and ordered on the index's own rowid (the paper id), so
        // FTS5 walks its matches newest first and stops at the page's end;
        // on `p.id` it would sort every match (a common word at 100,000
        // papers: 70 ms instead of under 1 ms).
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM papers_fts f JOIN papers p ON p.id = f.rowid
             WHERE papers_fts MATCH ?1 AND f.rowid < ?2 {bookable} ORDER BY f.rowid DESC LIMIT ?3"
        ))?
        .query_map(params![query, before, limit as i64], from_row)?
        .collect::<Result<Vec<_>, _>>()?
    };
    load_authors_of(conn, &mut papers)?;
    Ok(papers)
}

/// Paper titles by id (the audit trail's targets).
pub fn titles(
    conn: &Connection,
    ids: &[PaperId],
) -> AppResult<std::collections::HashMap<PaperId, String>> {
    let mut stmt = conn.prepare_cached("SELECT title FROM papers WHERE id = ?1")?;
    let mut out = std::collections::HashMap::new();
    for id in ids {
        if let Some(title) = stmt.query_row([id], |r| r.get(0)).optional()? {
            out.insert(*id, title);
        }
    }
    Ok(out)
}

/// Records the state of researcher collection for a paper.
pub fn set_collection_status(
    conn: &Connection,
    id: PaperId,
    status: CollectionStatus,
    collected_at: Option<chrono::DateTime<chrono::Utc>>,
) -> AppResult<()> {
    conn.execute(
        "UPDATE papers SET collection_status = ?2, collected_at = COALESCE(?3, collected_at) WHERE id = ?1",
        params![id, status, collected_at.map(ts)],
    )?;
    Ok(())
}

/// Papers in the catalogue a researcher wrote: (id, title, year), newest first.
pub fn for_researcher(
    conn: &Connection,
    researcher: crate::domain::ResearcherId,
    limit: usize,
) -> AppResult<Vec<(PaperId, String, Option<i64>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.title, p.year FROM papers p
           JOIN paper_researchers pr ON pr.paper_id = p.id
          WHERE pr.researcher_id = ?1
          ORDER BY p.year DESC NULLS LAST, p.id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![researcher, limit as i64], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::fts_terms;

    #[test]
    fn fts_input_is_neutralised() {
        assert_eq!(
            fts_terms("attention\" OR title:*", None),
            vec!["\"attention\"*", "\"OR\"", "\"title\"*"]
        );
        // Short words match whole words; longer ones also as prefixes.
        assert_eq!(
            fts_terms("a survey of AI", None),
            vec!["\"a\"", "\"survey\"*", "\"of\"", "\"AI\""]
        );
        assert_eq!(fts_terms("Hé", None), vec!["\"Hé\""]);
        assert_eq!(
            fts_terms("Hinton", Some("authors")),
            vec!["authors : \"Hinton\"*"]
        );
    }
}
