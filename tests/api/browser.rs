//! The main web flow in headless Chromium (chromedriver + fantoccini):
//! register, log in, search for a paper, open it and see its authors.
//! Needs Debian's `chromium` and `chromium-driver` (.ci/run installs them);
//! set COLLOQUY_SKIP_BROWSER=1 to skip on a machine without them.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::helpers::{spawn_app, PASSWORD};

pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) async fn start_browser() -> Option<(Driver, Client)> {
    start_browser_with(serde_json::json!({})).await
}

/// A browser that lays pages out like a phone `width` × `height` CSS
/// pixels (Chrome's device emulation: a window cannot be narrower than
/// 500 px).
pub(crate) async fn start_phone_browser(width: u32, height: u32) -> Option<(Driver, Client)> {
    let metrics = serde_json::json!({"width": width, "height": height, "pixelRatio": 1.0, "mobile": true, "touch": true});
    start_browser_with(serde_json::json!({"mobileEmulation": {"deviceMetrics": metrics}})).await
}

/// `extra` is merged into `goog:chromeOptions`.
async fn start_browser_with(extra: serde_json::Value) -> Option<(Driver, Client)> {
    if std::env::var("COLLOQUY_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("browser test skipped: COLLOQUY_SKIP_BROWSER=1");
        return None;
    }
    let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&driver_bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {driver_bin} ({e}); install chromium-driver or set COLLOQUY_SKIP_BROWSER=1"));
    let driver = Driver(child);
    let mut caps = serde_json::Map::new();
    let chrome_bin = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut options = serde_json::json!({
            "binary": chrome_bin,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1200,900"]
    });
    if let (Some(o), Some(extra)) = (options.as_object_mut(), extra.as_object()) {
        o.extend(extra.clone());
    }
    caps.insert("goog:chromeOptions".into(), options);
    let start = Instant::now();
    loop {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return Some((driver, c)),
            Err(e) if start.elapsed() > Duration::from_secs(20) => {
                panic!("chromedriver did not answer: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

pub(crate) async fn fill(c: &Client, name: &str, value: &str) {
    c.find(Locator::Css(&format!("[name='{name}']")))
        .await
        .unwrap()
        .send_keys(value)
        .await
        .unwrap();
}

pub(crate) async fn body_text(c: &Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_reader_registers_logs_in_finds_a_paper_and_sees_its_authors() {
    let app = spawn_app().await;
    colloquy::services::demo::load(&app.state).await.unwrap();
    let Some((_driver, c)) = start_browser().await else {
        return;
    };

    // 1. Register.
    c.goto(&app.url("/register")).await.unwrap();
    fill(&c, "name", "Rosalind Reader").await;
    fill(&c, "email", "rosalind@uni.edu").await;
    fill(&c, "password", PASSWORD).await;
    c.find(Locator::Css("[name='accept_terms']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("button[type='submit']:not(.secondary)"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css(".flash-success"))
        .await
        .unwrap();
    assert!(body_text(&c).await.contains("Your account is ready"));

    // 2. Log out, then log in.
    c.find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("a[href='/login']"))
        .await
        .unwrap();
    c.goto(&app.url("/login")).await.unwrap();
    fill(&c, "email", "rosalind@uni.edu").await;
    fill(&c, "password", PASSWORD).await;
    c.find(Locator::Css("article button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css(".flash-success"))
        .await
        .unwrap();
    assert!(body_text(&c)
        .await
        .contains("Welcome back, Rosalind Reader"));

    // 3. Search (htmx swaps the results in as you type).
    c.goto(&app.url("/papers")).await.unwrap();
    fill(&c, "q", "attention").await;
    // Results may be swapped again while typing settles, so follow the
    // link's address rather than clicking an element that can go stale.
    let href = c
        .wait()
        .for_element(Locator::XPath(
            "//div[@id='results']//a[contains(., 'Attention Is All You Need')]",
        ))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .expect("the result links to the paper");
    c.goto(&app.url(&href)).await.unwrap();

    // 4. The paper page lists its authors in order.
    c.wait()
        .for_element(Locator::Css("ol.authors"))
        .await
        .unwrap();
    let authors = c
        .find(Locator::Css("ol.authors"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(authors.contains("Ashish Vaswani"), "{authors}");
    assert!(authors.find("Ashish Vaswani") < authors.find("Noam Shazeer"));
    let title = c
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(title, "Attention Is All You Need");
    c.close().await.unwrap();
}

#[tokio::test]
async fn an_invited_researcher_opens_the_link_corrects_the_bio_and_registers() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = crate::outreach::researcher(&app, &reader).await;
    let r = app
        .post_json(
            "/api/v1/consulting/outreach",
            Some(&reader),
            &serde_json::json!({"researcher_id": rid}),
        )
        .await;
    assert_eq!(r.status(), 202);
    // No SMTP here: the invitation is held in the outbox; read its link.
    let keys = app.state.keys.clone();
    let mail = app
        .state
        .db
        .read(move |c| colloquy::repos::mail_outbox::find(c, &keys, colloquy::domain::MailId(1)))
        .await
        .unwrap()
        .unwrap();
    let token = regex::Regex::new(r"/invite/([A-Za-z0-9_\-\.]+)")
        .unwrap()
        .captures(&mail.content.text)
        .unwrap()[1]
        .to_string();
    let Some((_driver, c)) = start_browser().await else {
        return;
    };

    c.goto(&app.url(&format!("/invite/{token}"))).await.unwrap();
    let bio = c.find(Locator::Css("textarea[name='bio']")).await.unwrap();
    assert!(bio
        .text()
        .await
        .unwrap()
        .contains("first published program"));
    bio.clear().await.unwrap();
    bio.send_keys("Mathematician; I wrote about the Analytical Engine.")
        .await
        .unwrap();
    fill(&c, "password", PASSWORD).await;
    c.find(Locator::Css("[name='accept_terms']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css(
        "form[action^='/invite/'] button[type='submit']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.wait()
        .for_element(Locator::Css(".flash-success"))
        .await
        .unwrap();
    // The next step is offered at once: the times readers may book.
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), format!("/researchers/{rid}/availability"));
    let body = body_text(&c).await;
    assert!(
        body.contains("Welcome! Your profile is registered."),
        "{body}"
    );
    c.goto(&app.url(&format!("/researchers/{rid}")))
        .await
        .unwrap();
    let body = body_text(&c).await;
    assert!(
        body.contains("Mathematician; I wrote about the Analytical Engine."),
        "{body}"
    );
    assert!(
        body.contains("Ada Lovelace"),
        "signed in: the name is in the navigation and the page"
    );
    c.close().await.unwrap();

    // The corrected bio is the researcher's own: collection never overwrites it.
    let edited: String = crate::helpers::rusqlite_conn(&app.db_path())
        .query_row(
            "SELECT edited_fields FROM researchers WHERE id = ?1",
            [rid],
            |r| r.get(0),
        )
        .unwrap();
    assert!(edited.contains("bio"), "{edited}");
}
