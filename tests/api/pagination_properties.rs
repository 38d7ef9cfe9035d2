//! Walking every page of a cursor-paginated list while rows are added
//! (issue 17 §3): between two page fetches, and while a fetch is in
//! flight, another task adds rows; every row that existed before the walk
//! is seen exactly once and no row twice. Papers come newest first (the
//! plain list and the full-text one), accounts oldest first.

use std::collections::{BTreeSet, HashSet};
use std::future::Future;

use proptest::prelude::*;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use crate::helpers::{spawn_app, TestApp};

/// The word the matching papers have in their titles.
const WORD: &str = "keyset";

/// One walk: how many rows are there first, the page size, and how many
/// rows the writer adds after each page (`between`, waited for) and during
/// the next fetch (`during`, not waited for), up to `budget` in all (so a
/// list that shows added rows comes to an end).
#[derive(Debug, Clone)]
struct Walk {
    /// For papers, whether each one has `WORD` in its title.
    seeded: Vec<bool>,
    limit: usize,
    between: usize,
    during: usize,
    budget: usize,
}

fn walk_plan(
    seeded: std::ops::Range<usize>,
    limit: usize,
    between: usize,
    budget: usize,
) -> impl Strategy<Value = Walk> {
    (
        prop::collection::vec(any::<bool>(), seeded),
        1..=limit,
        0..=between,
        0..=1usize,
        0..=budget,
    )
        .prop_map(|(seeded, limit, between, during, budget)| Walk {
            seeded,
            limit,
            between,
            during,
            budget,
        })
}

/// Runs a case on its own runtime with two workers, so the writer and the
/// walk really run side by side.
fn run<F: Future>(case: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(case)
}

/// What the writer is asked after each page: add rows, say when the
/// waited-for ones are in.
type Nudge = oneshot::Sender<()>;

/// The writer's task: ids of the rows added before an answer, and of all.
type Added = tokio::task::JoinHandle<(Vec<i64>, Vec<i64>)>;

/// Starts the writer: after each nudge it adds `between` rows, answers,
/// then adds `during` more while the walk fetches its next page (within
/// the budget). It returns the ids of the rows added before an answer,
/// and of all rows.
fn writer<F, Fut>(walk: &Walk, mut add: F) -> (mpsc::Sender<Nudge>, Added)
where
    F: FnMut(usize) -> Fut + Send + 'static,
    Fut: Future<Output = i64> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Nudge>(1);
    let (between, during, budget) = (walk.between, walk.during, walk.budget);
    let task = tokio::spawn(async move {
        let (mut waited, mut all) = (Vec::new(), Vec::new());
        while let Some(done) = rx.recv().await {
            for _ in 0..between.min(budget - all.len()) {
                let id = add(all.len()).await;
                waited.push(id);
                all.push(id);
            }
            let _ = done.send(());
            for _ in 0..during.min(budget - all.len()) {
                all.push(add(all.len()).await);
            }
        }
        (waited, all)
    });
    (tx, task)
}

/// Fetches `path` page by page, nudging the writer after each page that
/// has a next one. Returns the ids in the order seen.
async fn walk_pages(
    app: &TestApp,
    path: &str,
    token: &str,
    limit: usize,
    writer: &mpsc::Sender<Nudge>,
) -> Result<Vec<i64>, TestCaseError> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..500 {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut url = format!("{path}{sep}limit={limit}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = app.get(&url, Some(token)).await;
        prop_assert_eq!(r.status(), 200, "{}", url);
        let page: Value = r.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        prop_assert!(
            items.len() <= limit,
            "{} items for limit {}",
            items.len(),
            limit
        );
        seen.extend(items.iter().map(|i| i["id"].as_i64().unwrap()));
        let Some(next) = page["next_cursor"].as_str() else {
            return Ok(seen);
        };
        prop_assert!(!items.is_empty(), "an empty page with a next cursor");
        cursor = Some(next.to_string());
        let (done, added) = oneshot::channel();
        writer.send(done).await.unwrap();
        added.await.unwrap();
    }
    Err(TestCaseError::fail("more than 500 pages"))
}

/// Every row in `before` seen exactly once, no row seen twice, every row
/// seen is one that exists, and the order is the list's.
fn check_walk(
    seen: &[i64],
    before: &BTreeSet<i64>,
    added: &[i64],
    newest_first: bool,
) -> Result<(), TestCaseError> {
    let mut once = HashSet::new();
    for id in seen {
        prop_assert!(once.insert(*id), "row {} seen twice in {:?}", id, seen);
        prop_assert!(
            before.contains(id) || added.contains(id),
            "row {} never existed",
            id
        );
    }
    let missed: Vec<_> = before.iter().filter(|id| !once.contains(*id)).collect();
    prop_assert!(
        missed.is_empty(),
        "rows {:?} never seen in {:?}",
        missed,
        seen
    );
    for pair in seen.windows(2) {
        prop_assert!(
            (pair[0] > pair[1]) == newest_first,
            "out of order: {:?}",
            seen
        );
    }
    Ok(())
}

fn ids(app: &TestApp, sql: &str) -> BTreeSet<i64> {
    let db = app.db();
    let mut stmt = db.prepare(sql).unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

async fn add_paper(app: &TestApp, token: &str, title: String) -> i64 {
    let body = json!({"title": title, "authors": [{"name": "Pat Pager"}]});
    let r = app.create_paper(token, &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

fn paper_title(n: usize, matching: bool) -> String {
    if matching {
        format!("Paging by {WORD} number {n}")
    } else {
        format!("Paging by offset number {n}")
    }
}

/// Walks `GET /api/v1/papers` (newest first), plain and with `q=WORD`.
async fn papers_case(plan: Walk) -> Result<(), TestCaseError> {
    let app = spawn_app().await;
    let token = app.token("pager@uni.example").await;
    for (n, matching) in plan.seeded.iter().enumerate() {
        add_paper(&app, &token, paper_title(n, *matching)).await;
    }
    let app = std::sync::Arc::new(app);
    let lists = [
        (String::new(), String::new()),
        (
            format!("?q={WORD}"),
            format!(" WHERE title LIKE '%{WORD}%'"),
        ),
    ];
    for (query, filter) in lists {
        let before = ids(&app, &format!("SELECT id FROM papers{filter}"));
        let (tx, task) = {
            let (app, token) = (app.clone(), token.clone());
            writer(&plan, move |n| {
                let (app, token) = (app.clone(), token.clone());
                // Added rows alternate between matching the query and not.
                async move { add_paper(&app, &token, paper_title(1000 + n, n % 2 == 0)).await }
            })
        };
        let seen = walk_pages(
            &app,
            &format!("/api/v1/papers{query}"),
            &token,
            plan.limit,
            &tx,
        )
        .await?;
        drop(tx);
        let (_, added) = task.await.unwrap();
        check_walk(&seen, &before, &added, true)?;
    }
    Ok(())
}

async fn register(app: &TestApp, email: &str) -> i64 {
    let r = app.register(email, "Paging Reader").await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Walks `GET /api/v1/admin/users` (oldest first) while people register.
async fn accounts_case(plan: Walk) -> Result<(), TestCaseError> {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.example").await;
    for n in 0..plan.seeded.len() {
        register(&app, &format!("early{n}@uni.example")).await;
    }
    let before = ids(&app, "SELECT id FROM users");
    let app = std::sync::Arc::new(app);
    let (tx, task) = {
        let app = app.clone();
        writer(&plan, move |n| {
            let app = app.clone();
            async move { register(&app, &format!("late{n}@uni.example")).await }
        })
    };
    let seen = walk_pages(&app, "/api/v1/admin/users", &admin, plan.limit, &tx).await?;
    drop(tx);
    let (waited, added) = task.await.unwrap();
    check_walk(&seen, &before, &added, false)?;
    // Oldest first, a row added before a later page is fetched is on it.
    let missed: Vec<_> = waited.iter().filter(|id| !seen.contains(id)).collect();
    prop_assert!(
        missed.is_empty(),
        "added rows {:?} missed in {:?}",
        missed,
        seen
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn every_paper_is_seen_once_while_papers_are_added(plan in walk_plan(0..25, 6, 3, 12)) {
        run(papers_case(plan))?;
    }

    #[test]
    fn every_account_is_seen_once_while_people_register(plan in walk_plan(0..8, 4, 2, 8)) {
        run(accounts_case(plan))?;
    }
}
