//! A newcomer gets from a fresh install to an accepted session in the
//! browser, with no provider key and no mail server, by following what the
//! pages say: the demo papers, the first admin through the setup link, an
//! author's profile collected from the paper, "Invite by e-mail", the
//! invitation read in the held mailbox, the researcher's registration and
//! availability, a reader's booking, and the acceptance.

use std::time::Instant;

use colloquy::config::Secret;
use fantoccini::{Client, Locator};

use crate::browser::{body_text, fill, start_browser};
use crate::browser_booking::{log_in, log_out, text_of};
use crate::helpers::{spawn_app_with, PASSWORD};

async fn click(c: &Client, css: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn tick_terms(c: &Client) {
    click(c, "[name='accept_terms']").await;
}

async fn flash(c: &Client) -> String {
    text_of(c, ".flash-success").await
}

#[tokio::test]
async fn a_newcomer_goes_from_serve_to_an_accepted_session_without_provider_keys_or_smtp() {
    // Defaults: no paid provider keys, no [smtp]; OpenAlex is a fake that
    // knows nobody (the machine has no internet).
    let app = spawn_app_with(|c| {
        for p in [
            &mut c.providers.firecrawl.api_key,
            &mut c.providers.rocketreach.api_key,
            &mut c.providers.tavily.api_key,
        ] {
            *p = Secret::default();
        }
    })
    .await;
    assert!(!app.state.config.smtp.enabled());
    let Some((_driver, c)) = start_browser().await else {
        return;
    };
    let started = Instant::now();
    // Every page the newcomers load: a link followed or a form sent.
    let mut pages = 0u32;

    // `colloquy demo`, and the one-time link `serve` logs while no admin exists.
    colloquy::services::demo::load(&app.state).await.unwrap();
    let setup = colloquy::services::accounts::ensure_setup_link(&app.state)
        .await
        .unwrap()
        .expect("no admin yet: a setup link");
    let setup = setup.replace(&app.state.config.public_url(), &app.address);

    // 1. The first admin.
    c.goto(&setup).await.unwrap();
    pages += 1;
    fill(&c, "name", "Ada Admin").await;
    fill(&c, "email", "admin@uni.example").await;
    fill(&c, "password", PASSWORD).await;
    tick_terms(&c).await;
    click(&c, "form[action^='/setup/'] button[type='submit']").await;
    pages += 1;
    c.wait()
        .for_element(Locator::Css("#getting-started"))
        .await
        .unwrap();
    assert!(flash(&c).await.contains("Your admin account is ready"));
    let steps = text_of(&c, "#getting-started").await;
    assert!(steps.contains("Collect the authors"), "{steps}");

    // 2. Collect the authors of the first demo paper (OpenAlex only).
    c.goto(&app.url("/papers")).await.unwrap();
    pages += 1;
    click(&c, "ul.papers li a").await;
    pages += 1;
    let paper_url = c.current_url().await.unwrap().to_string();
    // htmx swaps the researcher section in place: no page load.
    click(&c, "form[action$='/collect'] button").await;
    c.wait()
        .for_element(Locator::Css("#researchers .job-status"))
        .await
        .unwrap();
    app.run_collection().await;
    c.goto(&paper_url).await.unwrap();
    pages += 1;

    // 3. No e-mail was found: the admin invites the first author by address.
    let form = "#researchers form.invite-by-email";
    c.wait().for_element(Locator::Css(form)).await.unwrap();
    c.find(Locator::Css(&format!("{form} input[name='email']")))
        .await
        .unwrap()
        .send_keys("author@uni.example")
        .await
        .unwrap();
    click(&c, &format!("{form} button")).await;
    pages += 1;
    c.wait()
        .for_element(Locator::Css(".flash-success"))
        .await
        .unwrap();
    assert!(flash(&c)
        .await
        .contains("invitation is held: an admin must send it"));

    // 4. The invitation waits in the mailbox; its link is on the message page.
    c.goto(&app.url("/admin/mail")).await.unwrap();
    pages += 1;
    click(&c, "a[href^='/admin/mail/']").await;
    pages += 1;
    let text = text_of(&c, "pre.mail-text").await;
    let link = regex::Regex::new(r"/invite/[A-Za-z0-9_\-\.]+")
        .unwrap()
        .find(&text)
        .expect("an invitation link")
        .as_str()
        .to_string();
    log_out(&c).await;
    pages += 1;

    // 5. The researcher registers through the link and publishes times.
    c.goto(&app.url(&link)).await.unwrap();
    pages += 1;
    fill(&c, "password", PASSWORD).await;
    tick_terms(&c).await;
    click(&c, "form[action^='/invite/'] button[type='submit']").await;
    pages += 1;
    c.wait()
        .for_element(Locator::Css("#availability-form"))
        .await
        .unwrap();
    let rules = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .map(|d| format!("{d} 09:00-17:00"))
        .join("\n");
    fill(&c, "rules", &rules).await;
    click(&c, "#availability-form button[type='submit']").await;
    pages += 1;
    c.wait()
        .for_element(Locator::Css(".flash-success"))
        .await
        .unwrap();
    let profile = c
        .current_url()
        .await
        .unwrap()
        .path()
        .replace("/availability", "");
    log_out(&c).await;
    pages += 1;

    // 6. A reader registers and books the first free slot.
    c.goto(&app.url("/register")).await.unwrap();
    pages += 1;
    fill(&c, "name", "Rosalind Reader").await;
    fill(&c, "email", "rosalind@uni.example").await;
    fill(&c, "password", PASSWORD).await;
    tick_terms(&c).await;
    click(&c, "form[action='/register'] button[type='submit']").await;
    pages += 1;
    c.wait()
        .for_element(Locator::Css(".flash-success"))
        .await
        .unwrap();
    c.goto(&app.url(&profile)).await.unwrap();
    pages += 1;
    click(&c, "#book-form input[name='start']").await;
    fill(&c, "topic", "How attention replaced recurrence").await;
    click(&c, "#book-form button[type='submit']").await;
    pages += 1;
    c.wait()
        .for_element(Locator::Css("#session-status"))
        .await
        .unwrap();
    assert_eq!(text_of(&c, "#session-status").await, "requested");
    let session_url = c.current_url().await.unwrap().to_string();
    log_out(&c).await;
    pages += 1;

    // 7. The researcher accepts.
    log_in(&c, &app, "author@uni.example").await;
    pages += 2;
    c.goto(&session_url).await.unwrap();
    pages += 1;
    click(&c, "button#accept").await;
    pages += 1;
    c.wait()
        .for_element(Locator::Css("#join-link"))
        .await
        .unwrap();
    assert!(body_text(&c).await.contains("Accepted."));
    assert_eq!(text_of(&c, "#session-status").await, "accepted");
    eprintln!(
        "newcomer path, setup link to accepted session: {:.1} s, {pages} pages loaded",
        started.elapsed().as_secs_f64()
    );
    c.close().await.unwrap();
}
