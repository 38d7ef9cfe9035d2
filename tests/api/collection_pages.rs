//! Researcher collection in the web UI: the paper page's collect button,
//! live progress and profiles, and the admin jobs, providers and
//! researchers pages.

use crate::collection::{mount_all, priem_paper, NAME, PAGE_EMAIL};
use crate::helpers::spawn_app;
use crate::pages::{logged_in_browser, signed_in_browser};

async fn text(web: &reqwest::Client, url: String) -> (u16, String) {
    let r = web.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn a_reader_collects_a_paper_from_its_page_and_sees_the_profiles() {
    let app = spawn_app().await;
    mount_all(&app, Some(PAGE_EMAIL)).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(&app, &admin).await;
    let (web, csrf) = signed_in_browser(&app, "reader@uni.edu").await;

    let (_, page) = text(&web, app.url(&format!("/papers/{paper}"))).await;
    assert!(page.contains("Collect the authors"), "{page}");
    assert!(page.contains("have not been collected yet"));

    let r = web
        .post(app.url(&format!("/papers/{paper}/collect")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains("Collecting the authors"), "flash shown");
    assert!(
        page.contains("hx-trigger=\"every 2s\""),
        "the section polls while the job runs"
    );
    assert!(page.contains("0 of 1 authors done"));

    colloquy::services::collection::runner::run_due(&app.state)
        .await
        .unwrap();
    let (status, partial) = text(&web, app.url(&format!("/papers/{paper}/collection"))).await;
    assert_eq!(status, 200);
    assert!(!partial.contains("<html"), "htmx gets the section only");
    assert!(partial.contains(NAME) && partial.contains("h-index"));
    assert!(
        !partial.contains("Last collection"),
        "how the collection went is for admins only"
    );
    assert!(
        !partial.contains("every 2s"),
        "polling stops when the job is done"
    );
    assert!(
        !partial.contains(PAGE_EMAIL),
        "readers never see the e-mail"
    );
    assert!(
        !partial.contains("Collect again"),
        "a reader cannot collect a collected paper again"
    );

    // Without the CSRF token nothing starts.
    let r = web
        .post(app.url(&format!("/papers/{paper}/collect")))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn anonymous_visitors_see_no_collect_button() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(&app, &admin).await;
    let (_, page) = text(
        &crate::pages::browser(),
        app.url(&format!("/papers/{paper}")),
    )
    .await;
    assert!(page.contains("to collect the authors"));
    assert!(!page.contains("/collect\""));
    let r = crate::pages::browser()
        .post(app.url(&format!("/papers/{paper}/collect")))
        .form(&[("csrf_token", "x")])
        .send()
        .await
        .unwrap();
    assert!(
        r.url().path().starts_with("/login"),
        "collecting needs a log-in"
    );
}

#[tokio::test]
async fn admin_pages_show_jobs_providers_and_each_fields_source() {
    let app = spawn_app().await;
    mount_all(&app, Some(PAGE_EMAIL)).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(&app, &admin).await;
    let (web, csrf) = logged_in_browser(&app, "admin@uni.edu").await;
    web.post(app.url(&format!("/papers/{paper}/collect")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    colloquy::services::collection::runner::run_due(&app.state)
        .await
        .unwrap();

    let (status, jobs) = text(&web, app.url("/admin/jobs")).await;
    assert_eq!(status, 200);
    assert!(
        jobs.contains("Job 1") && jobs.contains(">done<") && jobs.contains("Firecrawl (web pages)")
    );
    let (_, filtered) = text(&web, app.url("/admin/jobs?status=failed")).await;
    assert!(filtered.contains("No jobs."));

    let (_, providers) = text(&web, app.url("/admin/providers")).await;
    for name in ["OpenAlex", "Firecrawl", "RocketReach", "Tavily"] {
        assert!(providers.contains(name), "{name} listed");
    }

    let (_, list) = text(&web, app.url("/admin/researchers?q=priem")).await;
    assert!(
        list.contains(NAME) && list.contains(PAGE_EMAIL),
        "admins see the e-mail"
    );
    let (status, detail) = text(&web, app.url("/admin/researchers/1")).await;
    assert_eq!(status, 200);
    assert!(detail.contains("Fields and where they came from"));
    assert!(detail.contains("<td>h-index</td>") && detail.contains("OpenAlex"));
    assert!(detail.contains("<td>E-mail</td>") && detail.contains("Firecrawl (web pages)"));

    // The retry form queues a finished job again.
    let r = web
        .post(app.url("/admin/jobs/1/retry"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("Job 1 will run again"));

    let (reader, _) = signed_in_browser(&app, "reader@uni.edu").await;
    for path in [
        "/admin/jobs",
        "/admin/providers",
        "/admin/researchers",
        "/admin/researchers/1",
    ] {
        assert_eq!(text(&reader, app.url(path)).await.0, 403, "{path}");
    }
}
