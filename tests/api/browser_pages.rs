//! Every page in headless Chromium at a phone's width (390 CSS px), as each
//! role meets it, with rows in every list: the page never scrolls
//! sideways, its primary actions are on screen (every row's action too,
//! without scrolling a table sideways), no element has a positive
//! `tabindex`, and axe-core (vendored in `tests/vendor/`) finds no
//! `serious` or `critical` violation. One browser session for the tour.

use std::collections::BTreeSet;
use std::time::Instant;

use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use crate::browser::start_phone_browser;
use crate::browser_booking::log_in;
use crate::browser_pages_seed::{app, seed, setup_path, visits, Seeded, Visit, Who};

/// axe-core 4.10.3 from npm, byte for byte (see tests/vendor/README.md).
const AXE: &str = include_str!("../vendor/axe.min.js");

/// An iPhone 12–15's width in CSS pixels.
const PHONE_WIDTH: u32 = 390;

/// Routes the tour does not load as pages, and why.
const NOT_PAGES: &[(&str, &str)] = &[
    (
        "/papers/{id}/collection",
        "an htmx fragment of the paper page, checked there",
    ),
    ("/sessions/{id}/invite.ics", "a calendar file, not HTML"),
    (
        "/terms/accept",
        "shown only while an account has new terms to accept, which needs a restart with another version (tests/api/terms_versions.rs)",
    ),
    (
        "/exports/{dataset}",
        "a CSV or NDJSON download, not HTML (tests/api/exports.rs)",
    ),
    (
        "/account/export",
        "a JSON download, not HTML (tests/api/data_rights_export.rs)",
    ),
    (
        "/admin/data-subjects/{kind}/{id}/export",
        "a JSON download, not HTML (tests/api/data_rights_subjects.rs)",
    ),
];

/// The layout checks, run in the page: sideways scrolling, positive
/// tabindex, and each match of each primary selector (at most ten) on
/// screen after scrolling the window vertically only.
const LAYOUT_CHECK: &str = r#"
const [selectors, maxWidth] = arguments;
const problems = [];
const width = document.documentElement.scrollWidth;
if (width > maxWidth) problems.push(`scrolls sideways (scrollWidth ${width})`);
for (const el of document.querySelectorAll('[tabindex]')) {
  if (el.tabIndex > 0) problems.push(`positive tabindex: ${el.outerHTML.slice(0, 80)}`);
}
for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
  const named = (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
  if (!named) problems.push(`no label: ${el.outerHTML.slice(0, 80)}`);
}
for (const sel of selectors) {
  const all = [...document.querySelectorAll(sel)].slice(0, 10);
  if (all.length === 0) problems.push(`no ${sel}`);
  for (const el of all) {
    const before = el.getBoundingClientRect();
    window.scrollTo(window.scrollX, window.scrollY + before.top - (innerHeight - before.height) / 2);
    // A link may wrap: its first line box is what must be reachable.
    const r = el.getClientRects()[0] || el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    const label = el.labels && el.labels.length ? el.labels[0] : null;
    const shown = r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= innerWidth + 0.5
      && r.top >= 0 && r.bottom <= innerHeight + 0.5 && getComputedStyle(el).visibility !== 'hidden';
    const reachable = hit && (el === hit || el.contains(hit) || (label && label.contains(hit)));
    if (!shown || !reachable) {
      const box = [r.left, r.top, r.width, r.height].map(Math.round).join(',');
      problems.push(`${sel} not on screen (box ${box}, topmost there: ${hit ? hit.outerHTML.slice(0, 60) : 'nothing'})`);
    }
  }
}
return problems;
"#;

/// The menu, once opened: "Log out" (when signed in) on one line, and
/// the wide list hidden.
const MENU_CHECK: &str = r#"
const problems = [];
if (getComputedStyle(document.querySelector('header .nav-wide')).display !== 'none') problems.push('the wide navigation shows');
if (!document.querySelector('header details.nav-menu').open) problems.push('the menu did not open');
const out = document.querySelector('header .nav-menu form[action="/logout"] button');
if (out) {
  const lines = document.createRange();
  lines.selectNodeContents(out);
  if (lines.getClientRects().length !== 1) problems.push('"Log out" wraps');
}
return problems;
"#;

/// Runs the injected axe and answers its serious and critical violations.
const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ['violations'] }).then(
  r => done(r.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `axe ${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join('; ')})`)),
  e => done([`axe failed: ${e}`]));
"#;

fn strings(v: Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect()
}

/// Loads one page and answers what is wrong with it.
async fn check(c: &Client, url: &str, primary: &[&str]) -> Vec<String> {
    c.goto(url).await.unwrap();
    let mut problems = strings(
        c.execute(LAYOUT_CHECK, vec![json!(primary), json!(PHONE_WIDTH)])
            .await
            .unwrap(),
    );
    c.execute(AXE, vec![]).await.unwrap();
    problems.extend(strings(c.execute_async(AXE_RUN, vec![]).await.unwrap()));
    problems
}

/// Opens the navigation menu as a tap would (no script of ours involved),
/// checks every item is on screen, and closes it again.
async fn check_menu(c: &Client) -> Vec<String> {
    let summary = c
        .find(Locator::Css("header details.nav-menu > summary"))
        .await
        .unwrap();
    summary.click().await.unwrap();
    let items = ["header .nav-menu ul :is(a, button)"];
    let mut problems = strings(c.execute(MENU_CHECK, vec![]).await.unwrap());
    let layout = c
        .execute(LAYOUT_CHECK, vec![json!(items), json!(PHONE_WIDTH)])
        .await
        .unwrap();
    problems.extend(strings(layout));
    summary.click().await.unwrap();
    problems
}

async fn sign_in_as(c: &Client, app: &crate::helpers::TestApp, who: Who) {
    c.delete_all_cookies().await.unwrap();
    if let Some(email) = who.email() {
        log_in(c, app, email).await;
    }
}

#[tokio::test]
async fn every_page_fits_a_phone_shows_its_primary_actions_and_passes_axe() {
    let s = app().await;
    let app = &s.app;
    let Some((_driver, c)) = start_phone_browser(PHONE_WIDTH, 844).await else {
        return;
    };
    let started = Instant::now();

    // The set-up page exists only until the first admin does.
    let setup = setup_path(app).await;
    let mut problems: Vec<String> =
        check(&c, &app.url(&setup), &["form[action^='/setup/'] button"])
            .await
            .into_iter()
            .map(|p| format!("{setup}: {p}"))
            .collect();
    let inner = c
        .execute("return document.documentElement.clientWidth", vec![])
        .await
        .unwrap();
    assert_eq!(inner, json!(PHONE_WIDTH), "the viewport is a phone's");
    let mut seen = BTreeSet::from(["/setup/{token}"]);

    let seeded = seed(app).await;
    let mut who = None;
    for Visit {
        who: as_who,
        route,
        path,
        primary,
    } in visits(&seeded)
    {
        let menu = who != Some(as_who);
        if menu {
            sign_in_as(&c, app, as_who).await;
            who = Some(as_who);
        }
        let t = Instant::now();
        let mut found = check(&c, &app.url(&path), primary).await;
        if menu {
            found.extend(check_menu(&c).await);
        }
        eprintln!("{as_who:?} {path}: {} ms", t.elapsed().as_millis());
        // COLLOQUY_TOUR_SHOTS=<dir> keeps a phone screenshot of each visit,
        // for a person to look at.
        if let Ok(dir) = std::env::var("COLLOQUY_TOUR_SHOTS") {
            let name: String = format!("{as_who:?}{path}")
                .chars()
                .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
                .take(80)
                .collect();
            let png = c.screenshot().await.unwrap();
            std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
        }
        problems.extend(found.into_iter().map(|p| format!("{as_who:?} {path}: {p}")));
        seen.insert(route);
    }
    let pages = seen.len();
    eprintln!(
        "page tour: {} routes at {PHONE_WIDTH} px in {:.1} s",
        pages,
        started.elapsed().as_secs_f64()
    );
    c.close().await.unwrap();
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The GET routes of `pages::router` (and its fallback), read from the source.
fn router_pages() -> BTreeSet<String> {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http/pages/mod.rs"),
    )
    .unwrap();
    let route = regex::Regex::new(r#"\.route\(\s*"([^"]+)",\s*get\("#).unwrap();
    let mut routes: BTreeSet<String> = route
        .captures_iter(&source)
        .map(|c| c[1].to_string())
        .collect();
    if source.contains(".fallback(") {
        routes.insert("(fallback)".into());
    }
    routes
}

#[test]
fn the_page_tour_covers_every_page_of_the_router() {
    let mut toured: BTreeSet<String> = visits(&Seeded::default())
        .iter()
        .map(|v| v.route.to_string())
        .collect();
    toured.insert("/setup/{token}".into());
    toured.extend(NOT_PAGES.iter().map(|(r, _)| r.to_string()));
    let routes = router_pages();
    assert!(routes.len() > 20, "{routes:?}");
    let missing: Vec<_> = routes.difference(&toured).collect();
    let stale: Vec<_> = toured.difference(&routes).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "pages the tour does not load: {missing:?}; tour entries no route has: {stale:?}"
    );
}
